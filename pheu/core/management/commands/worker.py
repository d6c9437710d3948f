"""``pheu worker``: run background tasks and periodic jobs until stopped (see ``pheu.core.worker``)."""

from __future__ import annotations

import logging
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.core.management import lazy_help
from pheu.core.worker import PheuWorker, WorkerOptions, worker_name


def _interval(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        message = _("expected a number of seconds between 0 and 3600, not %(value)r")
        raise ArgumentTypeError(message % {"value": raw})
    return value


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Run queued background tasks and periodic jobs until stopped (Ctrl-C or SIGTERM).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help=lazy_help(
                gettext_lazy("Enqueue the periodic jobs that are due, run every queued task, then exit.")
            ),
        )
        parser.add_argument(
            "--interval",
            type=_interval,
            default=0.5,  # a webhook reaches its receiver within a second of the commit (issue 25)
            help=lazy_help(
                gettext_lazy("Seconds to wait before looking again at an empty queue (default: 0.5).")
            ),
        )
        parser.add_argument(
            "--queue-name",
            default="*",
            help=lazy_help(gettext_lazy("Queues to run, separated by commas; * for all (default).")),
        )

    def handle(
        self, *args: Any, once: bool, interval: float, queue_name: str, verbosity: int, **options: Any
    ) -> None:
        if verbosity == 0:
            for name in ("pheu", "django_tasks", "django_tasks_db"):
                logging.getLogger(name).setLevel(logging.WARNING)
        name = worker_name()
        if not once and verbosity:
            self.stdout.write(_("Worker %(name)s running; press Ctrl-C to stop.") % {"name": name})
        queues = tuple(q.strip() for q in queue_name.split(",") if q.strip()) or ("*",)
        PheuWorker(WorkerOptions(queue_names=queues, interval=interval, once=once), name=name).run()
