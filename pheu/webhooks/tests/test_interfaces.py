"""The webhooks pages and ``/api/v1/webhooks/``: managers only, the delivery log, "send test"."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from pheu.webhooks.choices import DeliveryStatus
from pheu.webhooks.models import WebhookDelivery, WebhookEndpoint
from pheu.webhooks.testing import make_endpoint, run_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with run_receiver() as running:
        yield running


@pytest.mark.parametrize("name", ["sales1", "leader"])
def test_people_who_do_not_manage_see_no_webhook(client, api_client, actors, name):
    endpoint = make_endpoint("https://hooks.example.vn/pheu", ["lead.won"])
    client.force_login(actors.by_name(name))
    assert client.get(reverse("webhooks:index")).status_code == 403
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:test", args=[endpoint.pk])).status_code == 403
    api = api_client(actors.by_name(name))
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert api.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 403
    assert WebhookEndpoint.objects.count() == 1 and not WebhookDelivery.objects.exists()


def test_a_manager_adds_an_endpoint_on_the_page_and_sends_a_test(
    client, english, receiver, django_capture_on_commit_callbacks
):
    client.force_login(english.manager)
    response = client.post(
        reverse("webhooks:new"),
        {"name": "Kế toán", "url": receiver.url, "events": ["lead.won", "order.created"], "active": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response.url == reverse("webhooks:detail", args=[endpoint.pk])
    assert (endpoint.events, endpoint.active, endpoint.created_by) == (
        ["lead.won", "order.created"],
        True,
        english.manager,
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:test", args=[endpoint.pk]))
    assert json.loads(receiver.received[0].body)["event"] == "webhook.test"
    page = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret in page and "webhook.test" in page and "Delivered" in page


def test_a_bad_endpoint_is_refused_next_to_its_field(client, english):
    client.force_login(english.manager)
    response = client.post(reverse("webhooks:new"), {"name": "X", "url": "https://x.vn/", "events": []})
    assert response.status_code == 400 and set(response.context["form"].errors) == {"events"}
    response = client.post(
        reverse("webhooks:new"), {"name": "X", "url": "ftp://x.vn/", "events": ["lead.won"]}
    )
    assert response.status_code == 400 and set(response.context["form"].errors) == {"url"}
    assert "Give an http:// or https:// address." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_api_manages_endpoints_and_lists_their_deliveries(
    api_client, actors, receiver, django_capture_on_commit_callbacks
):
    api = api_client(actors.manager)
    created = api.post(
        "/api/v1/webhooks/", {"name": "ERP", "url": receiver.url, "events": ["lead.created"]}, format="json"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["active"] is True
    bad = api.post(
        "/api/v1/webhooks/", {"name": "ERP", "url": receiver.url, "events": ["x.y"]}, format="json"
    )
    assert bad.status_code == 400 and "events" in bad.json()

    receiver.codes = [500]
    with django_capture_on_commit_callbacks(execute=True):
        tested = api.post(f"/api/v1/webhooks/{body['id']}/test/")
    assert tested.status_code == 202  # queued: sent once the request's transaction commits
    assert (tested.json()["status"], tested.json()["attempts"]) == (DeliveryStatus.PENDING, 0)
    log = api.get(f"/api/v1/webhooks/{body['id']}/deliveries/").json()
    [row] = log["results"]
    assert (row["event"], row["status"], row["response_code"], row["attempts"]) == (
        "webhook.test",
        "failed",
        500,
        1,
    )
    assert row["duration_ms"] is not None and row["next_attempt_at"] is None

    changed = api.patch(f"/api/v1/webhooks/{body['id']}/", {"active": False, "secret": ""}, format="json")
    assert changed.status_code == 200 and changed.json()["secret"] == body["secret"]
    assert api.delete(f"/api/v1/webhooks/{body['id']}/").status_code == 204
    assert not WebhookDelivery.objects.exists()
