"""``pheu score [--rebuild-model] [--predict] [--json]``: re-score every open lead (with a progress bar),
and optionally rebuild the predictive model and predict the open records again.

Run by an operator: it sees every record. A failure (database, a stored rule) is a non-zero exit with a
message naming the cause.
"""

from __future__ import annotations

import json
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pheu.core.management import lazy_help
from pheu.rules import DomainError, clean_domain
from pheu.scoring.models import ScoringRule
from pheu.scoring.services import rescore_open_leads
from pheu.scoring.services.prediction import predict_leads, rebuild_model


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("Re-score every open lead; optionally rebuild the predictive model and predict again.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--rebuild-model",
            dest="rebuild",
            action="store_true",
            help=lazy_help(
                gettext_lazy("Rebuild the predictive model from the won and lost records, then predict.")
            ),
        )
        parser.add_argument(
            "--predict",
            action="store_true",
            help=lazy_help(gettext_lazy("Predict the probability of every open record again.")),
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )

    def handle(self, *args: Any, rebuild: bool, predict: bool, as_json: bool, **options: Any) -> None:
        console = Console(file=sys.stderr, force_terminal=None)
        show = not as_json and sys.stderr.isatty()
        out: dict[str, Any] = {}
        try:
            out["scores"] = self.rescore(console, show)
            if rebuild:
                out["model"] = self.rebuild(console, show)
            if rebuild or predict:
                started = time.monotonic()
                predicted = predict_leads()
                out["predictions"] = {
                    "checked": predicted.checked,
                    "changed": predicted.changed,
                    "seconds": round(time.monotonic() - started, 3),
                }
        except DatabaseError as exc:
            raise CommandError(_("The database refused the work: %(error)s") % {"error": exc}) from exc
        if as_json:
            self.stdout.write(json.dumps(out, ensure_ascii=False))
            return
        self.report(out)

    def rescore(self, console: Console, show: bool) -> dict[str, Any]:
        started = time.monotonic()
        if show:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console, transient=True) as progress:
                task = progress.add_task(_("Scoring open leads"), total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                result = rescore_open_leads(progress=advance)
        else:
            result = rescore_open_leads()
        unreadable = []
        for name, text in ScoringRule.objects.filter(active=True).values_list("name", "domain"):
            try:
                clean_domain(text, "lead")
            except DomainError as exc:
                unreadable.append(name)
                self.stderr.write(
                    _("The rule “%(name)s” gives no points: %(problems)s")
                    % {"name": name, "problems": "; ".join(exc.messages)}
                )
        return {
            "checked": result.checked,
            "changed": result.changed,
            "rules": ScoringRule.objects.filter(active=True).count() - len(unreadable),
            "unreadable_rules": unreadable,
            "seconds": round(time.monotonic() - started, 3),
        }

    def rebuild(self, console: Console, show: bool) -> dict[str, Any]:
        started = time.monotonic()

        def step(message: str) -> None:
            if show:
                console.print(f"[dim]{message}…[/dim]")

        result = rebuild_model(progress=step)
        return {
            "samples": result.samples,
            "won": result.won,
            "lost": result.lost,
            "auc": None if result.auc is None else round(result.auc, 4),
            "auc_samples": result.auc_samples,
            "seconds": round(time.monotonic() - started, 3),
        }

    def report(self, out: dict[str, Any]) -> None:
        scores = out["scores"]
        self.stdout.write(
            _(
                "Scores: %(checked)s open leads checked, %(changed)s changed (%(rules)s active rules) "
                "in %(seconds)s s."
            )
            % scores
        )
        model = out.get("model")
        if model is not None:
            auc = _("not measurable") if model["auc"] is None else f"{model['auc']:.3f}"
            self.stdout.write(
                _(
                    "Model: %(samples)s closed records (%(won)s won, %(lost)s lost); AUC %(auc)s on the most "
                    "recent %(auc_samples)s, in %(seconds)s s."
                )
                % {**model, "auc": auc}
            )
        predictions = out.get("predictions")
        if predictions is not None:
            self.stdout.write(
                _("Predictions: %(checked)s open records checked, %(changed)s changed in %(seconds)s s.")
                % predictions
            )
