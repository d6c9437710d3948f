"""``pheu serve``: the complete CRM in one command (see ``pheu.core.serving``)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.core.management import lazy_help
from pheu.core.serving import (
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    Supervisor,
    embedded_worker_wanted,
    plan_serve,
)

# Set by `pheu demo` (pheu.demo.services.DEMO_PASSWORD); core does not import the demo app.
DEMO_PASSWORD = "pheu-demo"


def demo_logins_available() -> bool:
    """Whether `pheu demo` has loaded its users (checked by its administrator, ``admin``)."""
    try:
        return get_user_model().objects.filter(username="admin").exists()
    except DatabaseError:  # not migrated yet: the migration notice says what to do
        return False


class Command(BaseCommand):
    requires_migrations_checks = True  # warn, like runserver, when migrations are not applied

    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Serve Pheu with gunicorn and, on the embedded task backend, run the worker beside it.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help=lazy_help(gettext_lazy("Address to listen on (default: 127.0.0.1).")),
        )
        parser.add_argument(
            "--port", type=int, default=8000, help=lazy_help(gettext_lazy("Port (default: 8000)."))
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_WORKERS,
            help=lazy_help(gettext_lazy("Web worker processes (default: %(default)s).")),
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=DEFAULT_THREADS,
            help=lazy_help(gettext_lazy("Threads per web worker process (default: %(default)s).")),
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=lazy_help(gettext_lazy("Do not run the background worker in this process.")),
        )

    def handle(
        self, *args: Any, host: str, port: int, workers: int, threads: int, no_worker: bool, **options: Any
    ) -> None:
        if not 0 < port < 65536:
            raise CommandError(_("--port must be between 1 and 65535, not %(port)s.") % {"port": port})
        if workers < 1:
            raise CommandError(_("--workers must be at least 1, not %(n)s.") % {"n": workers})
        if threads < 1:
            raise CommandError(_("--threads must be at least 1, not %(n)s.") % {"n": threads})
        with_worker = embedded_worker_wanted() and not no_worker
        plan = plan_serve(host=host, port=port, workers=workers, threads=threads, worker=with_worker)
        self.stdout.write(self.style.SUCCESS(_("Pheu is running at %(url)s") % {"url": plan.url}))
        if demo_logins_available():
            hint = _("Demo logins: admin, manager, leader, sales1 … sales6; password: %(password)s")
            self.stdout.write(hint % {"password": DEMO_PASSWORD})
        if plan.with_worker:
            self.stdout.write(_("The background worker runs in this process too."))
        else:
            self.stdout.write(_("No background worker here: run “pheu worker” separately."))
        self.stdout.write(_("Press Ctrl-C to stop."))
        self.stdout.flush()
        code = Supervisor(plan.children).run()
        if code:
            raise CommandError(
                _("The web server stopped with exit status %(code)s.") % {"code": code}, returncode=code
            )
