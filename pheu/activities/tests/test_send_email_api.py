"""``POST /api/v1/leads/{id}/send-email/``: the record page's "Send e-mail" over the API, same service and
same permissions."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import EmailMessage

from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(actors):
    return make_lead("Máy lọc nước", team=actors.north, user=actors.sales1, email="an@daiviet.example")


def _url(lead) -> str:
    return f"/api/v1/leads/{lead.pk}/send-email/"


def test_the_api_sends_the_email_and_writes_it_in_the_history(api_client, actors, lead):
    api = api_client(actors.sales1)
    response = api.post(_url(lead), {"subject": "Báo giá máy lọc", "body": "Kính gửi anh An,"}, format="json")

    assert response.status_code == 201, response.json()
    [message] = mail.outbox
    assert (message.to, message.subject, message.reply_to) == (
        ["an@daiviet.example"],  # the record's own address by default, as on the page
        "Báo giá máy lọc",
        [actors.sales1.email],
    )
    entry = history_of(lead).get()
    assert entry.kind == HistoryKind.EMAIL and response.json()["id"] == entry.pk
    assert "Kính gửi anh An," in response.json()["body"]


@pytest.mark.parametrize(("name", "code"), [("sales3", 404), ("leader", 201), ("manager", 201)])
def test_who_may_send_is_who_may_see_the_record(api_client, actors, lead, name, code):
    response = api_client(actors.by_name(name)).post(
        _url(lead), {"to": "x@y.vn", "subject": "S", "body": "B"}, format="json"
    )
    assert response.status_code == code
    assert len(mail.outbox) == (1 if code == 201 else 0)
    assert history_of(lead).count() == (1 if code == 201 else 0)


def test_bad_input_is_a_400_naming_the_field_and_nothing_is_sent(api_client, actors, lead):
    api = api_client(actors.sales1)
    response = api.post(
        _url(lead), {"to": "nope", "subject": "S", "body": "B"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400 and list(response.json()) == ["to"]
    missing = api.post(_url(lead), {"to": "a@b.vn"}, format="json")
    assert missing.status_code == 400 and set(missing.json()) == {"subject", "body"}
    assert mail.outbox == [] and not history_of(lead).exists()


def test_a_mail_server_failure_is_a_400_and_nothing_is_written(api_client, actors, lead, monkeypatch):
    def fail(self, fail_silently=False):
        raise OSError("Connection refused")

    monkeypatch.setattr(EmailMessage, "send", fail)
    response = api_client(actors.sales1).post(_url(lead), {"subject": "S", "body": "B"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "send_failed"
    assert not history_of(lead).exists()


def test_anonymous_requests_are_refused(client, lead):
    assert client.post(_url(lead), {"subject": "S", "body": "B"}).status_code in (401, 403)
    assert mail.outbox == []
