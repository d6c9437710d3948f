from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import DatabaseError

from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.imports import services, writes
from pheu.imports.choices import ImportKind, ImportStatus
from pheu.imports.exceptions import ImportsError
from pheu.imports.models import ImportLine
from pheu.imports.readers import sniff
from pheu.imports.services import revert_import
from pheu.imports.testing import make_import, write_csv, write_xlsx
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead, Source
from pheu.leads.services import update_lead
from pheu.testing import make_lead, make_stage, make_tag

pytestmark = pytest.mark.django_db

VI_HEADER = ["Tên", "Tên liên hệ", "Công ty", "Email", "Điện thoại", "Quốc gia", "Nhãn", "Doanh thu dự kiến"]
EN_HEADER = ["Name", "Contact name", "Company name", "E-mail", "Phone", "Country", "Tags", "Expected revenue"]
VI_ROWS = [
    [
        "Mua máy lọc nước",
        "Nguyễn Văn Ấn",
        "Công ty Đông Á",
        "an@donga.vn",
        "0912 345 678",
        "Việt Nam",
        "VIP, Hà Nội",
        "15.000.000",
    ],
    [
        "Tư vấn phần mềm",
        "Trần Thị Bích Ngọc",
        "Phạm Quốc Việt JSC",
        "ngoc@pqv.vn",
        "+84 28 3822 1234",
        "VN",
        "",
        "2500000",
    ],
]


def _leads() -> list[Lead]:
    return list(Lead.objects.order_by("name"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1258"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_reads_vietnamese_csv_in_every_encoding_and_delimiter(tmp_path, actors, encoding, delimiter):
    path = write_csv(tmp_path / "leads.csv", [VI_HEADER, *VI_ROWS], encoding=encoding, delimiter=delimiter)

    run = make_import(path, actor=actors.manager)

    assert (run.status, run.created_count, run.error_count) == (ImportStatus.DONE, 2, 0)
    assert run.delimiter == delimiter
    first, second = _leads()
    assert (first.name, first.contact_name, first.company_name) == (
        "Mua máy lọc nước",
        "Nguyễn Văn Ấn",
        "Công ty Đông Á",
    )
    assert first.phone_e164 == "+84912345678" and first.email_normalized == "an@donga.vn"
    assert first.name_key == "nguyen van an" and first.company_key == "cong ty dong a"
    assert first.country_id == "VN" and first.expected_revenue == Decimal("15000000.00")
    assert sorted(first.tags.values_list("name", flat=True)) == ["Hà Nội", "VIP"]
    assert second.phone_e164 == "+842838221234" and second.country_id == "VN"
    assert second.created_by == actors.manager


def test_keys_are_those_the_model_computes(tmp_path, actors):
    path = write_csv(tmp_path / "leads.csv", [VI_HEADER, *VI_ROWS])
    make_import(path, actor=actors.manager)
    fields = [
        f.attname for f in Lead._meta.concrete_fields if f.attname.endswith(("_key", "_e164", "_normalized"))
    ]
    for lead in Lead.objects.all():
        stored = {name: getattr(lead, name) for name in [*fields, "search_text"]}
        lead.normalize()
        assert stored == {name: getattr(lead, name) for name in [*fields, "search_text"]}


def test_reads_xlsx_with_english_headers_and_typed_cells(tmp_path, actors):
    from datetime import date

    header = [
        "Name",
        "E-mail",
        "Mobile",
        "Company size",
        "Expected closing",
        "Probability (%)",
        "Salesperson",
    ]
    path = write_xlsx(
        tmp_path / "leads.xlsx",
        [header, ["ERP rollout", "cfo@acme.com", 84987654321, 120, date(2025, 3, 31), 40, "sales1"]],
    )

    run = make_import(path, actor=actors.manager)

    assert (run.file_format, run.created_count, run.error_count) == ("xlsx", 1, 0)
    lead = Lead.objects.get()
    assert lead.mobile_e164 == "+84987654321" and lead.company_size == 120
    assert lead.expected_close_date == date(2025, 3, 31) and lead.probability == Decimal("40.00")
    assert lead.user == actors.sales1 and lead.assigned_at is not None


def test_headers_are_matched_unaccented_and_by_api_name(tmp_path, actors):
    path = write_csv(
        tmp_path / "a.csv",
        [["TEN", "so dien thoai", "company_name", "Unknown column"], ["Deal", "0912345678", "ACME", "x"]],
    )
    run = make_import(path, actor=actors.manager)
    assert run.mapping == {"0": "name", "1": "phone", "2": "company_name"}
    assert Lead.objects.get().company_name == "ACME"


def test_values_that_cannot_be_normalised_are_warnings_and_the_row_is_imported(tmp_path, actors):
    existing = make_lead("Existing", email="not-an-email")
    assert existing.email_normalized == ""  # an invalid address has no key, however the record is written
    Lead.objects.filter(pk=existing.pk).update(email_normalized="not-an-email")  # as an older record has
    path = write_csv(
        tmp_path / "bad.csv",
        [
            ["Name", "Contact", "Email", "Phone", "Country", "Expected revenue", "Rating", "Stage"],
            ["Good", "", "good@example.com", "0912345678", "VN", "100", "", ""],
            ["", "Lê Văn Tám", "not-an-email", "12", "Atlantis", "-5", "hot!", ""],
        ],
    )

    run = make_import(path, actor=actors.manager)

    assert (run.status, run.created_count, run.error_count, run.warning_count) == (ImportStatus.DONE, 2, 0, 1)
    typo = Lead.objects.get(contact_name="Lê Văn Tám")
    assert typo.name == "Lê Văn Tám"  # no name: the contact's is taken
    assert (typo.email, typo.email_normalized, typo.phone, typo.phone_e164) == ("not-an-email", "", "12", "")
    assert (typo.country_id, typo.expected_revenue, typo.rating) == (None, None, "")
    issues = [(i.level, i.row, i.column, i.value) for i in run.issues.all()]
    assert issues == [
        ("warning", 3, "Email", "not-an-email"),
        ("warning", 3, "Country", "Atlantis"),
        ("warning", 3, "Expected revenue", "-5"),
        ("warning", 3, "Rating", "hot!"),
        ("warning", 3, "Phone", "12"),
    ]
    assert run.issues.get(column="Country").reason == "No country of this code or name. Left out."
    assert run.issues.get(column="Email").reason == (
        "Not a valid e-mail address: kept as typed, not used to find duplicates."
    )
    # An invalid address matches nothing: not a duplicate of the record typed the same way.
    assert run.duplicate_count == 0


def test_rows_whose_record_cannot_exist_are_errors(tmp_path, actors):
    make_stage("Mới", sequence=1)
    path = write_csv(
        tmp_path / "bad.csv",
        [
            ["Name", "Company", "Email", "Stage", "Salesperson", "External ID"],
            ["", "", "", "mới", "", ""],
            ["Unknown stage", "", "", "Nowhere", "", ""],
            ["Unknown salesperson", "", "", "", "nobody", ""],
            ["", "ACME", "", "mới", "sales1", "x1"],
            ["Twice", "", "", "", "", "x1"],
        ],
    )

    run = make_import(path, actor=actors.manager)

    assert (run.created_count, run.error_count, run.warning_count) == (1, 4, 0)
    assert [(i.level, i.row, i.column) for i in run.issues.all()] == [
        ("error", 2, "Name"),
        ("error", 3, "Stage"),
        ("error", 4, "Salesperson"),
        ("error", 6, "External ID"),
    ]
    acme = Lead.objects.get()
    assert (acme.name, acme.stage.name, acme.user) == ("ACME", "Mới", actors.sales1)


def test_invalid_phone_is_a_warning_on_its_column_and_the_record_kept_as_typed(tmp_path, actors):
    path = write_csv(tmp_path / "p.csv", [["Name", "Mobile"], ["Deal", "12345"]])
    run = make_import(path, actor=actors.manager)
    assert [(i.level, i.row, i.column, i.value) for i in run.issues.all()] == [
        ("warning", 2, "Mobile", "12345")
    ]
    lead = Lead.objects.get()
    assert (lead.mobile, lead.mobile_e164, run.error_count, run.warning_count) == ("12345", "", 0, 1)


def test_reimport_with_an_invalid_email_keeps_it_without_a_key(tmp_path, actors):
    header = ["External ID", "Name", "Email"]
    make_import(write_csv(tmp_path / "a.csv", [header, ["crm-1", "One", "one@x.vn"]]), actor=actors.manager)
    run = make_import(
        write_csv(tmp_path / "b.csv", [header, ["crm-1", "One", "one@x"]]), actor=actors.manager
    )
    assert (run.updated_count, run.warning_count) == (1, 1)
    lead = Lead.objects.get()
    assert (lead.email, lead.email_normalized) == ("one@x", "")


def test_too_long_text_is_cut_with_a_warning(tmp_path, actors):
    path = write_csv(tmp_path / "l.csv", [["Name", "City"], ["Deal", "H" * 150]])
    run = make_import(path, actor=actors.manager)
    assert Lead.objects.get().city == "H" * 100
    assert [(i.level, i.column) for i in run.issues.all()] == [("warning", "City")]


def test_atomic_imports_nothing_when_a_row_is_bad(tmp_path, actors):
    path = write_csv(
        tmp_path / "a.csv",
        [
            ["Name", "Email", "Salesperson"],
            ["Good", "a@b.vn", ""],
            ["Bad", "", "nobody"],
            ["Typo", "nope", ""],
        ],
    )

    run = make_import(path, actor=actors.manager, atomic=True)

    assert (run.status, run.created_count, run.error_count, run.warning_count) == (ImportStatus.DONE, 0, 1, 1)
    assert not Lead.objects.exists() and not Source.objects.exists()
    assert run.issues.count() == 2 and "Nothing was imported" in run.message


def test_atomic_imports_rows_with_warnings(tmp_path, actors):
    path = write_csv(tmp_path / "a.csv", [["Name", "Email"], ["Good", "a@b.vn"], ["Typo", "nope"]])
    run = make_import(path, actor=actors.manager, atomic=True)
    assert (run.created_count, run.error_count, run.warning_count, run.message) == (2, 0, 1, "")


def test_dry_run_counts_everything_and_writes_nothing(tmp_path, actors):
    make_lead("Existing", email="an@donga.vn")
    path = write_csv(tmp_path / "d.csv", [VI_HEADER, *VI_ROWS, ["", "", "", "", "", "", "VIP", ""]])

    run = make_import(path, actor=actors.manager, dry_run=True)

    assert (run.status, run.created_count, run.error_count, run.duplicate_count) == (
        ImportStatus.DONE,
        2,
        1,
        1,
    )
    assert Lead.objects.count() == 1 and not ImportLine.objects.exists()
    assert not Lead.tags.through.objects.exists()


def test_reimport_by_external_id_updates_instead_of_creating(tmp_path, actors):
    header = ["External ID", "Name", "Email", "Tags"]
    path = write_csv(
        tmp_path / "e.csv", [header, ["crm-1", "First", "a@x.vn", "VIP"], ["crm-2", "Second", "", ""]]
    )
    make_import(path, actor=actors.manager)
    first = Lead.objects.get(external_id="crm-1")
    update_lead(actor=actors.manager, lead=first, values={"city": "Huế"})

    path = write_csv(
        tmp_path / "e.csv",
        [header, ["crm-1", "First, renamed", "b@x.vn", "Gold"], ["crm-2", "Second", "", ""]],
    )
    run = make_import(path, actor=actors.manager)

    assert (run.created_count, run.updated_count) == (0, 2)
    assert Lead.objects.count() == 2
    first.refresh_from_db()
    assert (first.name, first.email_normalized, first.city) == ("First, renamed", "b@x.vn", "Huế")
    assert first.title_key == "first, renamed"
    assert list(first.tags.values_list("name", flat=True)) == ["Gold"]
    assert HistoryKind.SYSTEM in [e.kind for e in history_of(first)]


def test_external_id_twice_in_one_file_is_an_error(tmp_path, actors):
    path = write_csv(tmp_path / "e.csv", [["External ID", "Name"], ["x", "A"], ["x", "B"]])
    run = make_import(path, actor=actors.manager)
    assert run.created_count == 1
    assert [(i.row, i.reason) for i in run.issues.all()] == [(3, "Already on row 2.")]


def test_each_created_record_has_one_created_history_entry(tmp_path, actors):
    path = write_csv(tmp_path / "h.csv", [VI_HEADER, *VI_ROWS])
    make_import(path, actor=actors.manager)
    for lead in Lead.objects.all():
        created = [(e.kind, e.author) for e in history_of(lead) if e.kind == HistoryKind.CREATED]
        assert created == [(HistoryKind.CREATED, actors.manager)]


def test_duplicates_are_flagged_in_the_result(tmp_path, actors):
    existing = make_lead("Existing", phone="0912345678")
    path = write_csv(tmp_path / "d.csv", [VI_HEADER, *VI_ROWS])

    run = make_import(path, actor=actors.manager)

    assert run.duplicate_count == 1
    line = run.lines.get(duplicate_of_id__isnull=False)
    assert line.row == 2 and line.duplicate_of_id == existing.pk


def test_revert_deletes_created_and_restores_updated_records(tmp_path, actors):
    kept = make_lead("Kept", external_id="crm-1", email="old@x.vn", city="Huế", tags=[make_tag("Old")])
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["External ID", "Name", "Email", "Tags"],
            ["crm-1", "New name", "new@x.vn", "New"],
            ["", "Fresh", "", ""],
        ],
    )
    run = make_import(path, actor=actors.manager)
    assert run.created_count == 1 and run.updated_count == 1

    revert_import(actor=actors.manager, import_run=run)

    run.refresh_from_db()
    assert run.status == ImportStatus.REVERTED
    assert list(Lead.objects.values_list("name", flat=True)) == ["Kept"]
    kept.refresh_from_db()
    assert (kept.name, kept.email, kept.email_normalized, kept.city) == (
        "Kept",
        "old@x.vn",
        "old@x.vn",
        "Huế",
    )
    assert list(kept.tags.values_list("name", flat=True)) == ["Old"]


def test_revert_is_refused_naming_records_changed_since(tmp_path, actors):
    path = write_csv(tmp_path / "r.csv", [["Name"], ["One"], ["Two"]])
    run = make_import(path, actor=actors.manager)
    two = Lead.objects.get(name="Two")
    update_lead(actor=actors.manager, lead=two, values={"city": "Đà Nẵng"})

    with pytest.raises(ImportsError) as caught:
        revert_import(actor=actors.manager, import_run=run)

    assert caught.value.code == ImportsError.Code.TOUCHED
    assert f"#{two.pk} Two" in caught.value.message
    assert Lead.objects.count() == 2
    run.refresh_from_db()
    assert run.status == ImportStatus.DONE


def test_salespeople_may_not_import(tmp_path, actors):
    path = write_csv(tmp_path / "r.csv", [["Name"], ["One"]])
    with pytest.raises(ImportsError):
        make_import(path, actor=actors.sales1)
    assert not Lead.objects.exists()


def test_file_without_a_column_to_name_the_records_is_refused(tmp_path, actors):
    path = write_csv(tmp_path / "n.csv", [["City"], ["Huế"]])
    with pytest.raises(ImportsError) as caught:
        make_import(path, actor=actors.manager)
    assert "mapping" in caught.value.field_errors


def test_file_without_a_name_column_names_records_after_their_contact(tmp_path, actors):
    path = write_csv(tmp_path / "n.csv", [["Email"], ["a@b.vn"]])
    run = make_import(path, actor=actors.manager)
    assert (run.created_count, Lead.objects.get().name) == (1, "a@b.vn")


def test_opportunities_import_resolves_stage_salesperson_and_team(tmp_path, actors):
    make_stage("Mới", sequence=1, probability=Decimal(10))
    make_stage("Báo giá", sequence=2, probability=Decimal(60))
    make_stage("Thắng", sequence=3, probability=Decimal(100), is_won=True)
    path = write_csv(
        tmp_path / "o.csv",
        [
            ["Name", "Stage", "Expected revenue", "Expected closing", "Salesperson", "Sales team"],
            ["Deal A", "báo giá", "1,500,000.50", "31/12/2025", "An Nguyễn", "Miền Bắc"],
            ["Deal B", "", "", "", "sales3", "mien nam"],
            ["Deal C", "Thắng", "", "", "", ""],
        ],
    )

    run = make_import(path, actor=actors.manager, kind=ImportKind.OPPORTUNITIES)

    assert (run.created_count, run.error_count) == (3, 0)
    a, b, c = Lead.objects.order_by("name")
    assert (a.type, a.stage.name, a.probability, a.user, a.team) == (
        LeadType.OPPORTUNITY,
        "Báo giá",
        Decimal("60.00"),
        actors.sales1,
        actors.north,
    )
    assert a.expected_revenue == Decimal("1500000.50") and a.expected_close_date.isoformat() == "2025-12-31"
    assert (b.stage.name, b.user, b.team, b.converted_at is not None) == (
        "Mới",
        actors.sales3,
        actors.south,
        True,
    )
    assert (c.won_status, c.probability, c.closed_at is not None) == (WonStatus.WON, Decimal(100), True)


def test_a_database_failure_mid_import_leaves_nothing_and_the_import_can_run_again(
    tmp_path, actors, monkeypatch, django_capture_on_commit_callbacks, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(writes, "BATCH_SIZE", 2)
    path = write_csv(tmp_path / "f.csv", [["Name", "Tags"], *[[f"Lead {i}", "T"] for i in range(7)]])
    original = writes.flag_duplicates

    def fail(run, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(services, "flag_duplicates", fail)
    with path.open("rb") as upload:  # as the page does: stored, then started
        run = services.upload_import(actor=actors.manager, upload=upload, file_name="f.csv")
    with django_capture_on_commit_callbacks(execute=True):
        services.start_import(actor=actors.manager, import_run=run)
    run.refresh_from_db()

    assert run.status == ImportStatus.FAILED and "connection lost" in run.message
    assert not Lead.objects.exists() and not ImportLine.objects.exists()
    assert not Lead.tags.through.objects.exists()

    monkeypatch.setattr(services, "flag_duplicates", original)
    with django_capture_on_commit_callbacks(execute=True):  # the same import, run again from its page
        services.start_import(actor=actors.manager, import_run=run)
    run.refresh_from_db()
    assert (run.status, run.created_count, Lead.objects.count()) == (ImportStatus.DONE, 7, 7)


def test_imported_records_are_scored_by_the_active_rules(tmp_path, actors):
    from pheu.scoring.models import ScoringRule

    ScoringRule.objects.create(name="VN", domain="[['country.code', '=', 'VN']]", points=10)
    path = write_csv(
        tmp_path / "s.csv", [["Name", "Country", "External id"], ["One", "VN", "e1"], ["Two", "", ""]]
    )
    make_import(path, actor=actors.manager)
    assert dict(Lead.objects.values_list("name", "score_row__score")) == {"One": 10, "Two": 0}

    path = write_csv(tmp_path / "t.csv", [["Name", "Country", "External id"], ["One", "SG", "e1"]])
    run = make_import(path, actor=actors.manager)
    assert run.updated_count == 1
    assert dict(Lead.objects.values_list("name", "score_row__score")) == {"One": 0, "Two": 0}


def test_unreadable_file_names_the_problem(tmp_path, actors):
    path = tmp_path / "x.csv"
    path.write_bytes(b"")
    with pytest.raises(ImportsError) as caught:
        make_import(path, actor=actors.manager)
    assert caught.value.code == ImportsError.Code.UNREADABLE


def test_missing_file(actors):
    with pytest.raises(ImportsError):
        make_import(Path("/nonexistent/leads.csv"), actor=actors.manager)


@pytest.mark.parametrize("realtime", [False, True])
def test_new_records_are_assigned_as_created_ones_are_only_with_real_time_assignment(
    tmp_path, actors, realtime
):
    from pheu.assignment.models import AssignmentRun, AssignmentTrigger
    from pheu.core.models import PheuSettings

    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": realtime})
    path = write_csv(tmp_path / "leads.csv", [["Name", "Email"], ["Hà Nội Steel", "mua@hns.vn"]])

    make_import(path, actor=actors.manager, team=actors.north)

    lead = Lead.objects.get()
    assert (lead.user is not None) == realtime
    runs = AssignmentRun.objects.filter(trigger=AssignmentTrigger.IMPORT)
    assert runs.exists() == realtime


def test_an_import_touched_by_a_later_import_is_undone_once_that_import_is(tmp_path, actors):
    header = ["External ID", "Name", "City"]
    first = make_import(
        write_csv(tmp_path / "a.csv", [header, ["crm-1", "One", "Huế"], ["crm-2", "Two", ""]]),
        actor=actors.manager,
    )
    second = make_import(
        write_csv(tmp_path / "b.csv", [header, ["crm-1", "One again", "Hà Nội"], ["crm-3", "Three", ""]]),
        actor=actors.manager,
    )
    assert (second.created_count, second.updated_count) == (1, 1)
    with pytest.raises(ImportsError) as caught:
        revert_import(actor=actors.manager, import_run=first)
    assert caught.value.code == ImportsError.Code.TOUCHED

    revert_import(actor=actors.manager, import_run=second)
    one = Lead.objects.get(external_id="crm-1")
    assert (one.name, one.city) == ("One", "Huế")
    revert_import(actor=actors.manager, import_run=first)  # its promise kept: nothing else changed them

    first.refresh_from_db()
    assert first.status == ImportStatus.REVERTED and not Lead.objects.exists()


def test_a_change_after_the_later_import_was_undone_still_keeps_the_first_one(tmp_path, actors):
    header = ["External ID", "Name"]
    first = make_import(write_csv(tmp_path / "a.csv", [header, ["crm-1", "One"]]), actor=actors.manager)
    second = make_import(write_csv(tmp_path / "b.csv", [header, ["crm-1", "Uno"]]), actor=actors.manager)
    revert_import(actor=actors.manager, import_run=second)
    one = Lead.objects.get()
    update_lead(actor=actors.manager, lead=one, values={"city": "Đà Nẵng"})

    with pytest.raises(ImportsError) as caught:
        revert_import(actor=actors.manager, import_run=first)

    assert caught.value.code == ImportsError.Code.TOUCHED and f"#{one.pk} One" in caught.value.message
    assert Lead.objects.count() == 1


def test_unmapped_columns_are_listed_as_not_imported_and_address_line_2_is_a_field(tmp_path, actors):
    path = write_csv(
        tmp_path / "u.csv",
        [
            ["Tên", "Địa chỉ", "Địa chỉ 2", "Ghi chú nội bộ", "", "Zalo"],
            ["Deal", "12 Lê Lợi", "Tầng 3, phòng 301", "gọi sau", "x", "0912"],
        ],
    )

    run = make_import(path, actor=actors.manager)

    assert services.unmapped_columns(run) == ["Ghi chú nội bộ", "Column 5", "Zalo"]
    lead = Lead.objects.get()
    assert (lead.street, lead.street2) == ("12 Lê Lợi", "Tầng 3, phòng 301")
    english = write_csv(
        tmp_path / "e.csv", [["Name", "street", "street2"], ["Deal 2", "1 Main St", "Suite 5"]]
    )
    run = make_import(english, actor=actors.manager)
    assert services.unmapped_columns(run) == []
    assert Lead.objects.get(name="Deal 2").street2 == "Suite 5"


def test_progress_counters_give_the_same_rate_and_time_left_to_the_cli_and_the_page():
    counters = services.Counters(rows=5000, total=10000, started=1000.0)
    assert counters.figures(now=1002.0) == (2500.0, 2.0)
    counters.phase = "scoring"  # past the reading: no time left to tell
    assert counters.figures(now=1002.0) == (2500.0, None)


def test_a_run_reports_its_rows_the_estimate_and_each_step(tmp_path, actors):
    path = write_csv(tmp_path / "p.csv", [["Name"], *[[f"Lead {i}"] for i in range(2500)]])
    seen: list[tuple[int, int, str]] = []

    make_import(path, actor=actors.manager, progress=lambda c: seen.append((c.rows, c.total, c.phase)))

    assert services.estimate_rows(path, sniff(path)) == 2500
    assert seen[0] == (1000, 2500, "read") and (2000, 2500, "read") in seen
    phases = list(dict.fromkeys(phase for _rows, _total, phase in seen))
    assert phases == ["read", "write", "duplicates", "scoring", "assignment"]


def test_a_reimport_leaves_a_value_it_could_not_read_as_the_record_had_it(tmp_path, actors):
    header = ["External ID", "Name", "Country", "Expected revenue", "Rating", "Email"]
    first = [header, ["crm-1", "One", "VN", "1.000.000", "hot", "one@x.vn"]]
    make_import(write_csv(tmp_path / "a.csv", first), actor=actors.manager)
    second = [header, ["crm-1", "One, renamed", "Atlantis", "lots", "warm?", "one@x"]]

    run = make_import(write_csv(tmp_path / "b.csv", second), actor=actors.manager)

    assert (run.updated_count, run.warning_count) == (1, 1)
    lead = Lead.objects.get()
    assert (lead.name, lead.country_id, lead.expected_revenue, lead.rating) == (
        "One, renamed",
        "VN",
        Decimal("1000000.00"),
        "hot",
    )
    assert (lead.email, lead.email_normalized) == ("one@x", "")  # kept as typed: written


def test_imported_records_carry_the_blocking_keys_so_the_duplicate_lookup_finds_them(tmp_path, actors):
    from pheu.leads.duplicates import Thresholds, find_duplicates

    header = ["External ID", "Name", "Contact", "Street", "City", "Zip", "Phone"]
    rows = [["j-1", "Lead Perth", "Jemms Ryann", "12 Kallara Close", "Perth", "6000", ""],
            ["j-2", "Other", "Trần Thị Bích", "", "Hà Nội", "", "0912 345 678"]]  # fmt: skip
    make_import(write_csv(tmp_path / "a.csv", [header, *rows]), actor=actors.manager)
    # A re-import changes the address of one record: its keys follow.
    rows[1][3:6] = ["5 Lê Lợi", "Huế", "530000"]
    again = make_import(write_csv(tmp_path / "b.csv", [header, rows[1]]), actor=actors.manager)
    assert again.updated_count == 1
    for lead in Lead.objects.all():
        stored = lead.match_keys
        lead.normalize()
        assert stored and stored == lead.match_keys, lead.name
    assert "zs:530000|5" in Lead.objects.get(external_id="j-2").match_keys.split()
    # A record typed by hand with a typo in every word of the name, no e-mail or phone in common: the
    # lookup finds the imported record by its stored blocking keys (no scan ran in between).
    typed = make_lead("Typed", contact_name="Jemma Ryanne", city="Sydney")
    imported = Lead.objects.get(external_id="j-1")
    found = {m.lead_id for m in find_duplicates(typed, thresholds=Thresholds(show=0.0, merge=0.9))}
    assert imported.pk in found


def test_keys_computed_in_worker_processes_are_those_computed_in_the_import(tmp_path, actors, monkeypatch):
    from pheu.imports import rows as rows_module
    from pheu.imports.rows import _KEYS

    header = ["External ID", "Name", "Contact", "Email", "Phone", "Mobile", "City", "Zip"]
    phones = ["0912 345 678", "12", "+84 28 3822 1234", "", "0987654321", "84909000111", "abc"]
    cities = ["Hà Nội", "Huế", "TP Hồ Chí Minh", ""]
    body = [
        [f"Đơn {n}", f"Nguyễn Văn {n % 7}", f"k{n}@congty{n % 3}.vn" if n % 5 else "sai@", phones[n % 7],
         phones[(n + 3) % 7], cities[n % 4], f"{700000 + n % 2}"]
        for n in range(40)
    ]  # fmt: skip

    def run(prefix: str):
        file = write_csv(
            tmp_path / f"{prefix}.csv", [header, *([f"{prefix}-{n}", *r] for n, r in enumerate(body))]
        )
        done = make_import(file, actor=actors.manager)
        stored = {
            lead.external_id.split("-")[1]: tuple(getattr(lead, k) for k in _KEYS)
            for lead in Lead.objects.filter(external_id__startswith=f"{prefix}-")
        }
        return stored, [(i.level, i.row, i.column, i.value) for i in done.issues.order_by("row", "pk")]

    here = run("here")
    # A pool of two workers, batches of three rows: several batches in flight, answered out of order.
    monkeypatch.setattr(services, "POOL_MIN_ROWS", 0)
    monkeypatch.setattr(services, "POOL_WORKERS", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    monkeypatch.setattr(rows_module, "KEY_BATCH", 3)
    pools = []

    class Pool(ProcessPoolExecutor):
        def submit(self, *args, **kwargs):
            pools.append(self)
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(services, "ProcessPoolExecutor", Pool)
    pooled = run("pool")
    assert len(pools) >= 14  # 40 rows, 3 a batch
    assert len(here[0]) == 40 and here[1]
    assert pooled == here
