"""8 clients create leads with one e-mail at once, on PostgreSQL: every one is stored, none is an error, and
each is flagged as a duplicate of all the others (SPEC 3 and 14: "flagged, not silently merged")."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from pheu.accounts.models import Role
from pheu.leads.models import Lead
from pheu.testing import make_user

CLIENTS, EACH = 8, 10


@pytest.mark.django_db(transaction=True)
def test_eight_clients_creating_leads_with_one_email_store_and_flag_every_one():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the creations cannot interleave there")
    token = Token.objects.create(user=make_user("integration", role=Role.SALES_MANAGER)).key
    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            for n in range(EACH):
                body = {"name": f"Khách {index}-{n}", "email": " An.Nguyen@CongTy.vn ", "user": None}
                response = api.post("/api/v1/leads/", body, format="json")
                with lock:
                    answers.append((response.status_code, response.content.decode()[:200]))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert [status for status, _body in answers] == [201] * (CLIENTS * EACH), answers
    stored = list(Lead.objects.filter(email_normalized="an.nguyen@congty.vn").values_list("pk", flat=True))
    assert len(stored) == CLIENTS * EACH  # none merged away, none lost
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    for pk in stored[::EACH]:  # one lead of each client's: all the others are its duplicates, by e-mail
        matches = api.get(f"/api/v1/leads/{pk}/duplicates/").json()["results"]
        assert {match["id"] for match in matches} == set(stored) - {pk}
        assert all("email" in {reason["code"] for reason in match["reasons"]} for match in matches)
