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
