"""SPEC section 11 as a matrix, the ``pheu`` commands' part: command × record, run as the console runs them.

No ``pheu`` command takes an acting user: each is run by an operator for the installation and calls its
service with ``actor=None``, the system, which sees every record (the manager's column of ``VISIBLE``) and
is held to the same business rules as anyone (``OUTCOME``: a merged-away record is never changed, a lost
one is not converted…). So the role axis of the matrix has one row here, the system, and
``test_every_pheu_command_is_classified`` keeps it so: a command that comes to take an acting user must
join the role × record cells of the API (``test_permission_matrix``) before it passes.

Each cell runs the command through ``run_from_argv``, as ``pheu COMMAND …`` does: a refusal is a
``CommandError`` printed as one line naming the record (no traceback), a non-zero exit, and everything left
exactly as it was (``fingerprint``, and the record's history).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError

from pheu.accounts.tests.matrix import OUTCOME, RECORDS, Scene, fingerprint, merge_to_undo
from pheu.core.models import HistoryEntry
from pheu.imports.mapping import FIELDS
from pheu.leads.models import Lead

pytestmark = pytest.mark.django_db

# Every ``pheu`` command of Pheu's own apps and whom it acts as. "system": run for the installation, no
# user's permissions (``actor=None``); "none": writes no record. A command given an acting user would be
# "user", and its cells would go through the role × record matrix.
COMMANDS = {
    "assign": "system",
    "convert": "system",
    "demo": "system",
    "duplicates": "system",
    "export": "none",
    "import": "system",
    "leads": "none",
    "mail": "system",
    "merge": "system",
    "pipeline_totals": "none",
    "report_summaries": "none",
    "score": "system",
    "serve": "none",
    "unmerge": "system",
    "worker": "system",
}


@dataclass(frozen=True)
class Run:
    code: int  # the exit status
    out: str
    err: str


@pytest.fixture
def run(capsys, monkeypatch):
    """``pheu NAME ARGS…`` in this process and transaction: the exit status and what it printed."""
    from django.db import connections

    # run_from_argv closes the connections when done; the scene lives in this connection's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def call(name: str, *args: object) -> Run:
        command = load_command_class(get_commands()[name], name)
        code = 0
        try:
            command.run_from_argv(["pheu", name, *map(str, args), "--skip-checks"])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return call


def history(lead: Lead) -> int:
    return HistoryEntry.objects.filter(object_id=lead.pk).count()


def row(lead: Lead) -> tuple[object, ...]:
    return tuple(
        Lead.objects.filter(pk=lead.pk)
        .values_list("type", "user_id", "team_id", "active", "won_status", "merged_into_id", "updated_at")
        .get()
    )


def assert_refused(result: Run, lead: Lead, before: tuple[object, ...], history_before: int) -> None:
    """The console's answer to a refusal: one line naming the record, exit 1, nothing changed."""
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert "CommandError: " in result.err, result.err
    assert f"#{lead.pk}" in result.err, result.err
    assert row(lead) == before[0]
    assert history(lead) == history_before
    assert fingerprint() == before[1]


def snapshot(lead: Lead) -> tuple[tuple[object, ...], tuple[object, ...]]:
    return row(lead), fingerprint()


def test_every_pheu_command_is_classified():
    """A new command states whom it acts as (and one that takes an acting user gets the role cells)."""
    ours = {name for name, app in get_commands().items() if app.startswith("pheu.")}
    assert ours == set(COMMANDS)
    assert "user" not in COMMANDS.values()


@pytest.mark.parametrize("record", RECORDS)
def test_convert(scene: Scene, run, record):
    lead = scene.lead[record]
    before, history_before = snapshot(lead), history(lead)
    result = run("convert", lead.pk)
    if OUTCOME["convert"][record] == "refused":
        assert_refused(result, lead, before, history_before)
        return
    assert result.code == 0, result
    converted = Lead.objects.get(pk=lead.pk)
    assert converted.type == "opportunity"
    assert f"#{lead.pk}" in result.out
    entries = HistoryEntry.objects.filter(object_id=lead.pk).order_by("-pk")
    assert history(lead) > history_before
    assert entries[0].author_id is None  # the system did it: no user is named as its author


@pytest.mark.parametrize("record", RECORDS)
def test_merge(scene: Scene, run, record):
    lead, twin = scene.lead[record], scene.opportunity[record]
    before, history_before = snapshot(lead), history(lead)
    result = run("merge", lead.pk, twin.pk, "--json")
    if OUTCOME["merge"][record] == "refused":
        assert_refused(result, lead, before, history_before)
        return
    assert result.code == 0, result
    merged = json.loads(result.out)
    survivor = Lead.objects.get(pk=merged["survivor"])
    assert {survivor.pk, *merged["merged_ids"]} == {lead.pk, twin.pk}
    assert all(Lead.objects.get(pk=pk).merged_into_id == survivor.pk for pk in merged["merged_ids"])


@pytest.mark.parametrize("record", RECORDS)
def test_unmerge(scene: Scene, run, record):
    merge_id = merge_to_undo(scene, record)
    lead = scene.lead[record]
    assert OUTCOME["unmerge"][record] == "ok"
    result = run("unmerge", merge_id)
    assert result.code == 0, result
    assert f"#{lead.pk}" in result.out
    restored = Lead.objects.get(pk=lead.pk)
    assert restored.merged_into_id is None


def test_unmerge_twice_is_refused_naming_the_merge(scene: Scene, run):
    merge_id = merge_to_undo(scene, "own")
    assert run("unmerge", merge_id).code == 0
    before = fingerprint()
    result = run("unmerge", merge_id)
    assert result.code == 1 and "Traceback" not in result.err
    assert f"#{merge_id}" in result.err, result.err
    assert fingerprint() == before


@pytest.mark.parametrize("record", RECORDS)
def test_duplicates_of_a_record(scene: Scene, run, record):
    """Reading: the system sees every record and its duplicates; a read changes nothing."""
    lead = scene.lead[record]
    before = fingerprint()
    result = run("duplicates", "--lead", lead.pk, "--json")
    assert result.code == 0, result
    found = json.loads(result.out)
    assert found["lead"] == lead.pk
    listed = {match["id"] for match in found["matches"]}
    # The twin, unless it was merged away too (a merged-away record is nobody's duplicate).
    assert (scene.opportunity[record].pk in listed) is (record != "merged_away")
    assert fingerprint() == before


@pytest.mark.parametrize("everything", [False, True], ids=["active", "all"])
@pytest.mark.parametrize("record", RECORDS)
def test_export(scene: Scene, run, tmp_path: Path, record, everything):
    """Every active record (the system's view of the pipeline); ``--all`` adds the lost and merged-away."""
    lead = scene.lead[record]
    target = tmp_path / "leads.csv"
    before = fingerprint()
    result = run("export", "leads", target, *(["--all"] if everything else []))
    assert result.code == 0, result
    with open(target, encoding="utf-8", newline="") as file:
        names = {line[FIELDS.index("name")] for line in csv.reader(file)}
    listed = OUTCOME["pipeline"][record] == "ok" or everything
    assert (lead.name in names) is listed
    assert fingerprint() == before


@pytest.mark.parametrize("record", RECORDS)
def test_assign_leaves_given_lost_and_merged_records_alone(scene: Scene, run, record):
    """``pheu assign`` decides the waiting records only: it never takes one from its salesperson, nor
    touches a lost or merged-away record."""
    lead = scene.lead[record]
    before, history_before = row(lead), history(lead)
    result = run("assign", "--json")
    assert result.code == 0, result
    waiting = lead.user_id is None and lead.active
    if not waiting:
        assert row(lead) == before
        assert history(lead) == history_before
        return
    decided = Lead.objects.select_related("team").get(pk=lead.pk)
    if decided.user_id is not None:  # given to a member of the team it went to
        assert decided.team is not None
        assert decided.team.members.filter(user_id=decided.user_id).exists()


def test_a_refused_convert_does_not_stop_the_others(scene: Scene, run):
    """``pheu convert A B``: the refused one is named, the other is converted, the exit is non-zero."""
    lost, own = scene.lead["lost"], scene.lead["own"]
    result = run("convert", lost.pk, own.pk)
    assert result.code == 1
    assert f"#{lost.pk}" in result.err and "Traceback" not in result.err
    assert Lead.objects.get(pk=own.pk).type == "opportunity"
    assert Lead.objects.get(pk=lost.pk).type == "lead"


def test_a_command_error_is_not_raised_past_the_console(scene: Scene):
    """``call_command`` (the programmatic door) raises the same ``CommandError`` the console prints."""
    from django.core.management import call_command

    with pytest.raises(CommandError):
        call_command("convert", scene.lead["merged_away"].pk)


HUGE = 2**70  # no record has it, nor can any: past the 64 bits of an id


@pytest.mark.parametrize(
    "argv",
    [
        ["convert", HUGE],
        ["merge", HUGE, HUGE - 1],
        ["unmerge", HUGE],
        ["duplicates", "--lead", HUGE],
        ["assign", "--team", HUGE],
        ["convert", 1, "--partner", HUGE, "--customer", "link"],
    ],
    ids=lambda argv: " ".join(map(str, argv[:1] + argv[2:3])),
)
def test_an_id_no_record_has_is_named_not_a_traceback(scene: Scene, run, argv):
    before = fingerprint()
    result = run(*argv)
    assert result.code == 1, result
    assert "Traceback" not in result.err
    assert str(HUGE) in result.err, result.err
    assert fingerprint() == before
