from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from pheu.imports.choices import ImportStatus
from pheu.imports.models import Import
from pheu.imports.testing import make_import, write_csv
from pheu.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def bad_file(tmp_path):
    """Row 3 cannot be imported (no such salesperson); row 4 is, with a warning (its e-mail kept as typed)."""
    return write_csv(
        tmp_path / "leads.csv",
        [
            ["Name", "Email", "Salesperson"],
            ["Good", "a@b.vn", ""],
            ["Bad", "c@d.vn", "nobody"],
            ["Typo", "nope", ""],
        ],
    )


def test_cli_imports_good_rows_and_names_file_row_and_column_of_bad_ones(bad_file, actors, capsys):
    with pytest.raises(CommandError) as caught:
        call_command("import", "leads", str(bad_file))
    assert "1 rows could not be imported" in str(caught.value)
    err = capsys.readouterr().err
    assert f"{bad_file}, row 3, column “Salesperson”: No active user" in err
    assert f"{bad_file}, row 4, column “Email”: warning: Not a valid e-mail address" in err
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["Good", "Typo"]


def test_cli_warnings_alone_succeed(tmp_path, actors, capsys):
    path = write_csv(tmp_path / "w.csv", [["Name", "Phone"], ["Deal", "12345"]])
    call_command("import", "leads", str(path))
    out = capsys.readouterr()
    assert "1 created, 0 updated, 0 with errors, 1 with warnings" in out.out
    assert "row 2, column “Phone”: warning: Not a valid phone number" in out.err
    assert Lead.objects.get().phone == "12345"


def test_cli_atomic_and_json(bad_file, actors, capsys):
    with pytest.raises(CommandError):
        call_command("import", "leads", str(bad_file), "--atomic", "--json")
    result = json.loads(capsys.readouterr().out)
    assert (result["created"], result["errors"], result["warnings"]) == (0, 1, 1)
    assert [(i["level"], i["row"]) for i in result["issues"]] == [("error", 3), ("warning", 4)]
    assert not Lead.objects.exists()


def test_cli_dry_run_and_team(tmp_path, actors, capsys):
    path = write_csv(tmp_path / "ok.csv", [["Name"], ["One"]])
    call_command("import", "leads", str(path), "--dry-run", "--team", "Miền Nam")
    assert not Lead.objects.exists()
    call_command("import", "leads", str(path), "--team", "mien nam")
    assert Lead.objects.get().team == actors.south
    with pytest.raises(CommandError, match="No sales team"):
        call_command("import", "leads", str(path), "--team", "Atlantis")


def test_cli_unreadable_file(tmp_path, db):
    with pytest.raises(CommandError, match=r"missing\.csv"):
        call_command("import", "leads", str(tmp_path / "missing.csv"))


def test_cli_export_then_import(tmp_path, actors):
    write = write_csv(tmp_path / "in.csv", [["Name", "Email"], ["One", "one@x.vn"]])
    call_command("import", "leads", str(write))
    out = tmp_path / "out.xlsx"
    call_command("export", "leads", str(out), "--domain", "[['email', '=', 'one@x.vn']]")
    Lead.objects.all().delete()
    call_command("import", "leads", str(out))
    assert list(Lead.objects.values_list("email", flat=True)) == ["one@x.vn"]


def test_api_upload_runs_the_import_and_reports_errors(
    api_client, english, bad_file, django_capture_on_commit_callbacks
):
    client = api_client(english.manager)
    with open(bad_file, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert response.status_code == 201, response.content
    body = client.get(f"/api/v1/imports/{response.json()['id']}/").json()
    assert (body["status"], body["created_count"], body["error_count"], body["warning_count"]) == (
        "done",
        2,
        1,
        1,
    )
    errors = client.get(f"/api/v1/imports/{body['id']}/errors/").json()["results"]
    assert errors == [
        {
            "level": "error",
            "row": 3,
            "column": "Salesperson",
            "value": "nobody",
            "reason": "No active user of this login or name.",
            "code": "unknown_user",
            "params": {},
        },
        {
            "level": "warning",
            "row": 4,
            "column": "Email",
            "value": "nope",
            "reason": "Not a valid e-mail address: kept as typed, not used to find duplicates.",
            "code": "invalid_email",
            "params": {},
        },
    ]
    reverted = client.post(f"/api/v1/imports/{body['id']}/revert/")
    assert reverted.status_code == 200 and not Lead.objects.exists()
    again = client.post(f"/api/v1/imports/{body['id']}/revert/")
    assert again.status_code == 400


def test_api_refuses_bad_files_and_salespeople(api_client, actors, tmp_path, bad_file):
    client = api_client(actors.manager)
    no_name = write_csv(tmp_path / "x.csv", [["City"], ["Huế"]])
    with open(no_name, "rb") as handle:
        response = client.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert response.status_code == 400 and "mapping" in response.json()
    with open(bad_file, "rb") as handle:
        response = api_client(actors.sales1).post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert response.status_code == 403
    assert not Import.objects.exists()


def test_page_wizard_upload_map_dry_run_then_import(
    client, english, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = write_csv(
        tmp_path / "wizard.csv", [["Họ tên", "Điện thoại", "Tiêu đề"], ["Lan", "0912345678", "Deal"]]
    )
    client.force_login(english.manager)
    with open(path, "rb") as handle:
        response = client.post("/imports/", {"file": handle, "kind": "leads"})
    run = Import.objects.get()
    assert response.status_code == 302 and run.mapping == {"0": "contact_name", "1": "phone", "2": "name"}
    page = client.get(f"/imports/{run.pk}/").content.decode()
    assert "0912345678" in page and "import-mapping-form" in page
    mapping = {"column_0": "contact_name", "column_1": "mobile", "column_2": "name"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{run.pk}/start/", {**mapping, "dry_run": "on"})
    run.refresh_from_db()
    assert (run.status, run.dry_run, run.created_count, Lead.objects.count()) == (
        ImportStatus.DONE,
        True,
        1,
        0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{run.pk}/start/", mapping)
    lead = Lead.objects.get()
    assert (lead.name, lead.contact_name, lead.mobile_e164) == ("Deal", "Lan", "+84912345678")
    assert "Import finished" in client.get(f"/imports/{run.pk}/progress/").content.decode()
    client.post(f"/imports/{run.pk}/revert/")
    assert not Lead.objects.exists()


def test_pages_are_for_managers(client, actors):
    client.force_login(actors.sales1)
    assert client.get("/imports/").status_code == 403


def test_columns_not_imported_are_named_on_the_preview_the_result_the_api_and_the_cli(
    client, api_client, english, tmp_path, settings, capsys, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = write_csv(
        tmp_path / "c.csv", [["Name", "street", "street2", "Fax"], ["Deal", "1 Main St", "Suite 5", "028"]]
    )
    client.force_login(english.manager)
    with open(path, "rb") as handle:
        client.post("/imports/", {"file": handle, "kind": "leads"})
    run = Import.objects.get()
    page = client.get(f"/imports/{run.pk}/").content.decode()
    assert 'id="import-not-imported"' in page and "Not imported (no field chosen): Fax." in page
    body = api_client(english.manager).get(f"/api/v1/imports/{run.pk}/").json()
    assert body["not_imported"] == ["Fax"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/imports/{run.pk}/start/", {"column_0": "name", "column_1": "street", "column_2": "street2"}
        )
    assert "Columns not imported: Fax." in client.get(f"/imports/{run.pk}/progress/").content.decode()
    lead = Lead.objects.get()
    detail = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="lead-street2">Suite 5<' in detail
    assert api_client(english.manager).get(f"/api/v1/leads/{lead.pk}/").json()["street2"] == "Suite 5"

    with translation.override("en"):  # the pages above activated the user's language
        call_command("import", "leads", str(path))
    assert "Columns not imported (no field of that name): Fax." in capsys.readouterr().out


def test_a_running_import_shows_rows_per_second_and_time_left_on_its_page_and_in_the_api(
    client, api_client, english
):
    from datetime import timedelta

    from django.utils import timezone

    run = Import.objects.create(
        file_name="big.csv",
        status=ImportStatus.RUNNING,
        started_at=timezone.now() - timedelta(seconds=10),
        processed_rows=500,
        total_rows=1000,
    )
    client.force_login(english.manager)
    card = client.get(f"/imports/{run.pk}/progress/").content.decode()
    assert re.search(r"500 of about 1,000 rows · (4[5-9]|50) rows/s · about 1[01] s left", card)
    assert 'style="width: 50%"' in card
    counters = api_client(english.manager).get(f"/api/v1/imports/{run.pk}/").json()["counters"]
    assert (counters["rows"], counters["total"], counters["phase"]) == (500, 1000, "read")
    assert 45 < counters["rows_per_second"] <= 50 and 9 <= counters["seconds_left"] < 11


def test_the_summary_says_created_not_the_date_column_s_created(client, actors, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = write_csv(tmp_path / "new.csv", [["Tên", "Điện thoại"], ["Công ty Sao Mai", "0912345678"]])
    run = make_import(path, actor=actors.manager)
    client.force_login(actors.manager)  # Vietnamese
    counts = re.search(
        r'<dl[^>]*id="import-counts".*?</dl>',
        client.get(f"/imports/{run.pk}/progress/").content.decode(),
        re.S,
    ).group(0)
    assert re.search(r"<dt[^>]*>Đã tạo</dt><dd[^>]*>1</dd>", counts), counts
    assert "Ngày tạo" not in counts
    listed = client.get("/imports/").content.decode()
    assert ">Đã tạo</th>" in listed and ">Ngày tạo</th>" not in listed


def test_a_rating_is_read_in_vietnamese_and_its_warning_lists_the_names_in_the_readers_language(
    actors, tmp_path
):
    path = write_csv(
        tmp_path / "ratings.csv",
        [
            ["Tên", "Đánh giá"],
            ["Nóng hổi", "Nóng"],
            ["Ấm áp", "ấm"],
            ["Lạnh lùng", "LẠNH"],
            ["Sôi", "Rất nóng"],
        ],
    )
    with translation.override("vi"):
        run = make_import(path, actor=actors.manager)
    assert dict(Lead.objects.values_list("name", "rating")) == {
        "Nóng hổi": "hot",
        "Ấm áp": "warm",
        "Lạnh lùng": "cold",
        "Sôi": "",
    }
    (issue,) = run.issues.all()
    assert (issue.row, issue.value) == (5, "Rất nóng")
    with translation.override("vi"):
        assert "Lạnh (cold), Ấm (warm), Nóng (hot)" in issue.reason, issue.reason
    assert issue.reason == "Expected one of: Cold, Warm, Hot. Left out."  # read in English
