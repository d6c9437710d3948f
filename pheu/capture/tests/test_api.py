"""The capture API: mailboxes, the team form key, .eml uploads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pheu.capture.models import Mailbox
from pheu.capture.testing import build_message, make_mailbox
from pheu.leads.models import Lead
from pheu.teams.models import Team

pytestmark = pytest.mark.django_db


def test_mailbox_create_stores_the_password_encrypted_and_never_returns_it(api_client, actors):
    client = api_client(actors.manager)
    response = client.post(
        "/api/v1/mailboxes/",
        {
            "name": "Sales inbox",
            "team": actors.north.pk,
            "host": "imap.example.vn",
            "username": "sales@example.vn",
            "password": "p@ss wörd",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "password" not in body and body["port"] == 993 and body["use_tls"] is True
    mailbox = Mailbox.objects.get()
    assert "p@ss" not in mailbox.password_encrypted and mailbox.get_password() == "p@ss wörd"
    response = client.patch(
        f"/api/v1/mailboxes/{mailbox.pk}/", {"folder": "Leads", "password": ""}, format="json"
    )
    assert response.status_code == 200
    mailbox.refresh_from_db()
    assert (mailbox.folder, mailbox.get_password()) == ("Leads", "p@ss wörd")


def test_mailbox_bad_input_is_400(api_client, actors):
    client = api_client(actors.manager)
    response = client.post("/api/v1/mailboxes/", {"name": "x", "host": "", "port": 70000}, format="json")
    assert response.status_code == 400
    assert {"host", "port", "username"} <= set(response.json())
    response = client.post("/api/v1/mailboxes/", {"name": "x", "host": "h", "username": "u"}, format="json")
    assert response.status_code == 400 and "password" in response.json()
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize("role", ["sales1", "leader"])
def test_only_managers_see_mailboxes(api_client, actors, role):
    mailbox = make_mailbox()
    client = api_client(actors.by_name(role))
    assert client.get("/api/v1/mailboxes/").status_code == 403
    assert client.patch(f"/api/v1/mailboxes/{mailbox.pk}/", {"name": "x"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/mailboxes/{mailbox.pk}/").status_code == 403
    assert Mailbox.objects.get().name == mailbox.name


def test_mailbox_fetch_reports_a_server_that_does_not_answer(api_client, actors, settings):
    settings.PHEU_IMAP_TIMEOUT = 2
    mailbox = make_mailbox(host="127.0.0.1", port=1, use_tls=False)
    response = api_client(actors.manager).post(f"/api/v1/mailboxes/{mailbox.pk}/fetch/")
    assert response.status_code == 200
    assert response.json()["new_leads"] == 0 and response.json()["errors"]
    mailbox.refresh_from_db()
    assert mailbox.last_error


def test_form_key_regenerated_by_managers_only(api_client, actors):
    response = api_client(actors.manager).post(f"/api/v1/teams/{actors.north.pk}/form-key/")
    assert response.status_code == 200
    key = response.json()["form_key"]
    assert response.json()["form_url"] == f"http://testserver/forms/lead/{key}/"
    assert Team.objects.get(pk=actors.north.pk).form_key == key
    assert api_client(actors.manager).get(f"/api/v1/teams/{actors.north.pk}/").json()["form_key"] == key
    assert api_client(actors.sales1).post(f"/api/v1/teams/{actors.north.pk}/form-key/").status_code == 403
    assert api_client(actors.manager).post("/api/v1/teams/9999/form-key/").status_code == 404
    assert Team.objects.get(pk=actors.north.pk).form_key == key


def test_eml_upload(api_client, actors):
    client = api_client(actors.sales3)
    raw = build_message(subject="Hỏi giá qua API", message_id="<api-1@x>")
    response = client.post(
        "/api/v1/mail/eml/", {"file": SimpleUploadedFile("m.eml", raw)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert response.json() == {"lead": lead.pk, "created": True, "reply": False, "duplicate": False}
    assert (lead.name, lead.user, lead.team) == ("Hỏi giá qua API", actors.sales3, actors.south)
    again = client.post("/api/v1/mail/eml/", {"file": SimpleUploadedFile("m.eml", raw)}, format="multipart")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    reply = client.post(
        "/api/v1/mail/eml/",
        {"file": SimpleUploadedFile("r.eml", build_message(in_reply_to="<api-1@x>"))},
        format="multipart",
    )
    assert reply.json() == {"lead": lead.pk, "created": False, "reply": True, "duplicate": False}
    assert Lead.objects.count() == 1


def test_eml_upload_bad_input(api_client, actors):
    client = api_client(actors.sales1)
    assert client.post("/api/v1/mail/eml/", {}, format="multipart").status_code == 400
    response = client.post(
        "/api/v1/mail/eml/", {"file": SimpleUploadedFile("e.eml", b"\r\n")}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()
    assert api_client().post("/api/v1/mail/eml/", {}, format="multipart").status_code == 401
    assert not Lead.objects.exists()


def test_eml_upload_with_control_characters_keeps_the_text_without_them(api_client, actors):
    """Found by the schema fuzzer: a NUL in the subject or body was a 500 on PostgreSQL (its text columns
    hold no NUL). The message is kept, without its control characters."""
    raw = build_message(
        subject="Báo\x00 giá\x07",
        text="Xin chào\x00,\ncần\x1b 20 người dùng.",
        message_id="<nul-1@x>",
    )
    response = api_client(actors.sales1).post(
        "/api/v1/mail/eml/", {"file": SimpleUploadedFile("nul.eml", raw)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get()
    assert lead.name == "Báo giá"
    assert lead.description == "<p>Xin chào,<br>cần 20 người dùng.</p>"
    raw_nul = b"From: a@b.vn\r\nSubject: x\x00y\r\nMessage-ID: <nul-2@x>\r\n\r\nbody\x00text\r\n"
    response = api_client(actors.sales1).post(
        "/api/v1/mail/eml/", {"file": SimpleUploadedFile("raw.eml", raw_nul)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert Lead.objects.get(pk=response.json()["lead"]).name == "xy"


def test_eml_upload_of_binary_or_oversized_files_is_refused_or_kept_cleanly(api_client, actors, settings):
    client = api_client(actors.sales1)
    binary = bytes(range(256)) * 64
    response = client.post(
        "/api/v1/mail/eml/", {"file": SimpleUploadedFile("b.eml", binary)}, format="multipart"
    )
    assert response.status_code in (200, 201, 400), response.content
    # Larger than the limit: refused by its size, before the message is read.
    from pheu.capture.services import mail

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    big = b"Subject: big\r\n\r\n" + b"x" * (mail.MAX_MESSAGE_BYTES + 1)
    response = client.post(
        "/api/v1/mail/eml/", {"file": SimpleUploadedFile("big.eml", big)}, format="multipart"
    )
    assert response.status_code == 400
    assert "25 MB" in response.json()["file"][0]
    assert not Lead.objects.filter(name="big").exists()


def test_eml_upload_whose_charset_lies_or_is_unknown_is_kept_decoded_with_replacements(api_client, actors):
    client = api_client(actors.sales1)
    for number, charset in enumerate(("utf-8", "x-no-such-charset")):
        raw = (
            f"From: a@b.vn\r\nSubject: Hoi gia\r\nMessage-ID: <cs-{number}@x>\r\n"
            f'Content-Type: text/plain; charset="{charset}"\r\n\r\n'
        ).encode() + "Khách hàng".encode("cp1258")
        response = client.post(
            "/api/v1/mail/eml/", {"file": SimpleUploadedFile("cs.eml", raw)}, format="multipart"
        )
        assert response.status_code == 201, response.content
        assert "Kh\ufffdch h\ufffdng" in Lead.objects.get(pk=response.json()["lead"]).description
