"""``pheu duplicates [--json] [--lead ID] [--exact-only] [--train]``: the duplicate groups of the base, or
the records similar to one; ``--train`` trains the matcher on the base (:mod:`pheu.leads.services.matching`).

Run by an operator: every active record, no user's visibility. JSON: ``{"groups": [{"ids", "score",
"reasons", "pairs": [{"ids", "probability", "evidence"}], "pair_count"}], "scan": {"records", "pairs",
"stop_keys", "largest_stop_keys", "cap"}}``, or with ``--lead``
``{"lead": id, "matches": [{"id", "name", "score", "probability", "lost", "propose_merge", "reasons",
"evidence"}]}``. The table shows the first 200 groups and says so when there are more.
"""

from __future__ import annotations

import io
import json
from argparse import ArgumentParser
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rich.console import Console
from rich.table import Table

from pheu.core.management import lazy_help
from pheu.leads.blocking import ScanStats
from pheu.leads.duplicates import MatchReason, Reason, find_duplicates, lead_names, scan_duplicates
from pheu.leads.models import Lead
from pheu.leads.services.matching import MIN_RECORDS, train_matcher


def describe(reason: MatchReason) -> str:
    text = reason.label
    if reason.value:
        text += f" ({reason.value})"
    if reason.code == Reason.SIMILAR:
        text += f" {reason.score}%"
    return text


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # BaseCommand.help is a str; a property translates it when read
        return _("List duplicate groups among the active leads and opportunities, with reasons and scores.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help=lazy_help(gettext_lazy("Print JSON."))
        )
        parser.add_argument(
            "--lead", type=int, help=lazy_help(gettext_lazy("Only the records similar to this one."))
        )
        parser.add_argument(
            "--exact-only",
            action="store_true",
            help=lazy_help(gettext_lazy("Exact keys only (no similar names).")),
        )
        parser.add_argument(
            "--train",
            action="store_true",
            help=lazy_help(
                gettext_lazy("Train the matcher on this base (how often strangers share a name, a city…).")
            ),
        )

    def handle(
        self, *args: Any, as_json: bool, lead: int | None, exact_only: bool, train: bool, **options: Any
    ) -> None:
        if train:
            weights = train_matcher()
            if weights is None:
                self.stdout.write(
                    _("Fewer than %(n)s records: the matcher keeps its shipped weights.") % {"n": MIN_RECORDS}
                )
            elif as_json:
                self.stdout.write(json.dumps(weights.as_dict()))
            else:
                self.stdout.write(
                    _("The matcher is trained on this base (prior %(prior)s).")
                    % {"prior": f"{weights.prior:.4f}"}
                )
            return
        if lead is not None:
            record = Lead.objects.filter(pk=lead).first()
            if record is None:
                raise CommandError(_("Unknown record: #%(id)s.") % {"id": lead})
            matches = find_duplicates(record)
            if as_json:
                found = {"lead": lead, "matches": [m.as_dict() for m in matches]}
                self.stdout.write(json.dumps(found, ensure_ascii=False))
                return
            rows = [
                (
                    str(m.lead_id),
                    m.name + (f" ({_('lost')})" if m.lost else ""),
                    f"{m.score}%",
                    "; ".join(map(describe, m.reasons)) + "\n" + m.evidence_text,
                )
                for m in matches
            ]
            self.stdout.write(self.render(_("%(n)s similar records") % {"n": len(rows)}, rows), ending="")
            return
        stats = ScanStats()
        groups = scan_duplicates(fuzzy=not exact_only, stats=stats)
        if as_json:
            data: dict[str, Any] = {"groups": [g.as_dict() for g in groups]}
            if not exact_only:
                data["scan"] = stats.as_dict()
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        names = lead_names(pk for g in groups[:200] for pk in g.ids[:5])
        rows = [
            (
                ", ".join(f"#{pk} {names.get(pk, '')}" for pk in g.ids[:5])
                + (" …" if len(g.ids) > 5 else ""),
                str(len(g.ids)),
                str(g.score),
                "; ".join(map(describe, g.reasons)),
            )
            for g in groups[:200]
        ]
        title = _("%(n)s duplicate groups") % {"n": len(groups)}
        if len(groups) > len(rows):
            title += " — " + _("the first %(shown)s shown; --json lists them all") % {"shown": len(rows)}
        self.stdout.write(self.render(title, rows, group=True), ending="")
        if not exact_only:
            self.stdout.write(
                _(
                    "%(pairs)s pairs of %(records)s records compared. Keys shared by more than %(cap)s "
                    "records are too common to tell anything and pair no records: %(stop)s"
                )
                % {"pairs": stats.pairs, "records": stats.records, "stop": stats.stop_keys, "cap": stats.cap}
                + (
                    ": " + ", ".join(f"{key} ({n})" for key, n in stats.largest_stop_keys) + " …"
                    if stats.largest_stop_keys
                    else "."
                )
            )

    def render(self, title: str, rows: Sequence[tuple[str, ...]], group: bool = False) -> str:
        table = Table(title=title)
        headings = (
            (_("Records"), _("Count"), _("Score"), _("Reasons"))
            if group
            else (_("ID"), _("Name"), _("Score"), _("Reasons"))
        )
        for heading in headings:
            table.add_column(heading)
        for row in rows:
            table.add_row(*row)
        buffer = io.StringIO()
        Console(file=buffer, force_terminal=self.stdout.isatty(), width=160).print(table)
        return buffer.getvalue()
