"""Import errors are worded when read, in the reader's language — not in the language of the importer."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from pheu.accounts.models import User
from pheu.imports.models import Import, ImportIssue
from pheu.imports.reasons import Reason, word
from pheu.imports.testing import write_csv

pytestmark = pytest.mark.django_db

NO_USER_EN = "No active user of this login or name."
NO_USER_VI = "Không có người dùng đang hoạt động nào có tên đăng nhập hoặc họ tên này."
TAG_EN = "Tag left out: At most 60 characters."
TAG_VI = "Bỏ qua nhãn: Tối đa 60 ký tự."


def _speaks(user: User, language: str) -> User:
    user.language = language
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def bad_file(tmp_path):
    """Row 2 cannot be imported (no such salesperson); row 3 is, without its tag (too long)."""
    return write_csv(
        tmp_path / "leads.csv",
        [["Name", "Salesperson", "Tags"], ["Bad", "nobody", ""], ["Good", "", "x" * 61]],
    )


def _upload(client, path, capture, **data) -> int:
    with open(path, "rb") as handle, capture(execute=True):  # the background task runs the import
        response = client.post("/api/v1/imports/", {"file": handle, **data}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _reasons(client, pk: int, **headers) -> list[tuple[int, str, str]]:
    results = client.get(f"/api/v1/imports/{pk}/errors/", **headers).json()["results"]
    return [(issue["row"], issue["code"], issue["reason"]) for issue in results]


def test_a_vietnamese_run_reads_in_english_for_an_english_reader(
    client, api_client, actors, bad_file, django_capture_on_commit_callbacks
):
    importer, reader = _speaks(actors.manager, "vi"), _speaks(actors.admin, "en")
    pk = _upload(api_client(importer), bad_file, django_capture_on_commit_callbacks)
    assert _reasons(api_client(importer), pk) == [
        (2, "unknown_user", NO_USER_VI),
        (3, "tag_left_out", TAG_VI),
    ]

    assert _reasons(api_client(reader), pk) == [(2, "unknown_user", NO_USER_EN), (3, "tag_left_out", TAG_EN)]
    client.force_login(reader)
    page = client.get(f"/imports/{pk}/").content.decode()
    assert NO_USER_EN in page and TAG_EN in page and NO_USER_VI not in page
    report = b"".join(client.get(f"/imports/{pk}/errors.csv").streaming_content).decode()
    assert NO_USER_EN in report and NO_USER_VI not in report


def test_an_english_run_reads_in_vietnamese_for_a_vietnamese_reader(
    client, api_client, actors, bad_file, django_capture_on_commit_callbacks
):
    importer, reader = _speaks(actors.manager, "en"), _speaks(actors.admin, "vi")
    pk = _upload(api_client(importer), bad_file, django_capture_on_commit_callbacks)

    assert _reasons(api_client(reader), pk) == [(2, "unknown_user", NO_USER_VI), (3, "tag_left_out", TAG_VI)]
    # A language the request asks for wins over the user's, as everywhere in the API.
    assert _reasons(api_client(reader), pk, HTTP_ACCEPT_LANGUAGE="en")[0][2] == NO_USER_EN
    client.force_login(reader)
    page = client.get(f"/imports/{pk}/").content.decode()
    assert NO_USER_VI in page and TAG_VI in page and NO_USER_EN not in page


def test_the_message_of_a_run_is_worded_for_its_reader(
    api_client, actors, bad_file, django_capture_on_commit_callbacks
):
    importer, reader = _speaks(actors.manager, "vi"), _speaks(actors.admin, "en")
    pk = _upload(api_client(importer), bad_file, django_capture_on_commit_callbacks, atomic=True)
    body = api_client(reader).get(f"/api/v1/imports/{pk}/").json()
    assert (body["message"], body["message_code"]) == (
        "Nothing was imported: 1 rows have errors (all or nothing).",
        "nothing_imported",
    )
    body = api_client(importer).get(f"/api/v1/imports/{pk}/").json()
    assert body["message"] == "Không có gì được nhập: 1 dòng bị lỗi (tất cả hoặc không gì cả)."


def test_the_cli_words_in_its_language_and_the_api_reads_the_run_in_its_own(
    api_client, actors, bad_file, capsys
):
    with translation.override("vi"), pytest.raises(CommandError):  # pheu --lang vi import …
        call_command("import", "leads", str(bad_file), "--json")
    printed = json.loads(capsys.readouterr().out)
    assert [i["reason"] for i in printed["issues"]] == [NO_USER_VI, TAG_VI]
    run = Import.objects.get()
    assert _reasons(api_client(_speaks(actors.admin, "en")), run.pk)[0] == (2, "unknown_user", NO_USER_EN)


def test_errors_reported_before_codes_still_show_as_they_were_worded(client, api_client, actors):
    run = Import.objects.create(
        file_name="old.csv", status="done", total_rows=1, error_count=1, message_text="Thông báo cũ."
    )
    ImportIssue.objects.create(import_run=run, row=2, column="Email", value="x", reason_text="Lý do cũ.")
    reader = _speaks(actors.admin, "en")
    results = api_client(reader).get(f"/api/v1/imports/{run.pk}/errors/").json()["results"]
    assert [(i["reason"], i["code"], i["params"]) for i in results] == [("Lý do cũ.", "", {})]
    assert api_client(reader).get(f"/api/v1/imports/{run.pk}/").json()["message"] == "Thông báo cũ."
    client.force_login(reader)
    page = client.get(f"/imports/{run.pk}/").content.decode()
    assert "Lý do cũ." in page and "Thông báo cũ." in page


def test_word_nests_reasons_and_never_fails_a_report():
    nested = Reason("left_out", {"reason": Reason("not_a_number")})
    assert nested.as_json() == {"reason": {"code": "not_a_number", "params": {}}}
    assert str(nested) == "Not a number. Left out."
    with translation.override("vi"):
        assert word("not_a_choice", {"field": "rating"}) == (
            "Cần một trong các giá trị: Lạnh (cold), Ấm (warm), Nóng (hot). Đã bỏ qua."
        )
    assert word("", {}, fallback="as worded then") == "as worded then"
    assert word("a_code_of_a_later_version", {}, fallback="") == "a_code_of_a_later_version"
    assert word("too_long", {}, fallback="At most 60 characters.") == "At most 60 characters."  # no n
