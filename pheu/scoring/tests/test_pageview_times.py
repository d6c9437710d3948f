"""A page view's time is a real one: between 2000 and now (the schema fuzzer sent one of year 459)."""

from __future__ import annotations

import pytest

from pheu.scoring.models import PageView

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "viewed_at", ["0459-08-02T03:29:44Z", "1999-12-31T23:59:59Z", "2999-01-01T00:00:00Z"]
)
def test_a_page_view_outside_2000_to_now_is_a_400(api_client, actors, viewed_at):
    body = {"email": "an@congty.vn", "url": "/gia", "viewed_at": viewed_at}
    response = api_client(actors.sales1).post("/api/v1/pageviews/", body, format="json")
    assert response.status_code == 400 and "viewed_at" in response.json()
    assert not PageView.objects.exists()


def test_a_page_view_of_2024_is_written_back_with_an_iso_offset(api_client, actors):
    body = {"email": "an@congty.vn", "url": "/gia", "viewed_at": "2024-05-01T10:00:00Z"}
    response = api_client(actors.sales1).post("/api/v1/pageviews/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["viewed_at"] == "2024-05-01T17:00:00+07:00"
