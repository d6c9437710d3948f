"""The database does not answer (SPEC 14): ``/healthz`` 503, pages and API errors a clean 503 — a short page
or ``{detail, code}``, a Retry-After, no traceback — wherever the failure happens (a view, the session read
before any view, the API's token check)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.test import Client

from pheu.testing import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_down(monkeypatch):
    """From now on every query fails as with a server that went away."""

    def unavailable(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    def go_down() -> None:
        monkeypatch.setattr(connection, "cursor", unavailable)

    return go_down


def _assert_clean_503(response, *, json: bool) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "Traceback" not in body and "OperationalError" not in body and "5432" not in body
    if json:
        assert response.json()["code"] == "database_unavailable" and response.json()["detail"]
    else:
        assert response["Content-Type"].startswith("text/html") and "<h1" in body


@pytest.mark.parametrize("path", ["/leads/", "/leads/pipeline/", "/reports/pipeline/", "/"])
def test_pages_answer_a_clean_503(actors, database_down, path):
    client = Client(raise_request_exception=False)
    client.force_login(actors.sales1)
    make_lead("Ngày mai", user=actors.sales1)
    database_down()
    _assert_clean_503(client.get(path), json=False)


def test_a_page_failing_in_a_view_answers_a_clean_503(actors, monkeypatch):
    """The session and the user read fine; the view's own query fails."""
    from pheu.leads.models import Lead

    client = Client(raise_request_exception=False)
    client.force_login(actors.sales1)

    def unavailable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(type(Lead.objects.all()), "visible_to", unavailable)
    _assert_clean_503(client.get("/leads/"), json=False)


def test_the_api_answers_a_clean_503(actors, api_client, database_down):
    client = api_client(actors.sales1)
    database_down()
    _assert_clean_503(client.get("/api/v1/leads/"), json=True)
    _assert_clean_503(client.post("/api/v1/leads/", {"name": "X"}, format="json"), json=True)


def test_healthz_answers_503(client, database_down):
    database_down()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"]["ok"] is False


def test_other_errors_are_still_the_500_page(actors, monkeypatch):
    from pheu.leads.models import Lead

    client = Client(raise_request_exception=False)
    client.force_login(actors.sales1)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(type(Lead.objects.all()), "visible_to", broken)
    assert client.get("/leads/").status_code == 500
