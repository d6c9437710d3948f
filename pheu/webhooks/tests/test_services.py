"""Webhooks end to end against a real HTTP receiver: what is sent, signed, retried, and never sent."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pheu.core.models import PheuSettings
from pheu.leads.choices import WonStatus
from pheu.leads.services import create_lead
from pheu.leads.services.convert import convert_lead
from pheu.leads.services.merge import merge_leads
from pheu.leads.services.outcome import mark_lost, mark_won
from pheu.testing import make_lead, make_lost_reason
from pheu.webhooks.choices import DeliveryStatus, WebhookEvent
from pheu.webhooks.exceptions import WebhookError
from pheu.webhooks.models import WebhookDelivery
from pheu.webhooks.services import (
    RETRY_BASE_SECONDS,
    RETRY_WINDOW,
    create_endpoint,
    next_attempt_at,
    retry_due_deliveries,
    send_test,
    sign,
    update_endpoint,
    verify_signature,
)
from pheu.webhooks.testing import make_endpoint, run_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with run_receiver() as running:
        yield running


def _payload(received) -> dict:
    return json.loads(received.body)


def test_a_created_lead_reaches_the_receiver_signed_with_the_endpoint_secret(
    actors, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url, ["lead.created"], secret="s3cret-of-the-receiver")
    with django_capture_on_commit_callbacks(execute=True):
        lead = create_lead(actor=actors.sales1, values={"name": "Công ty Thép Việt", "email": "an@thep.vn"})

    [got] = receiver.received
    header = got.headers["X-Pheu-Signature"]
    timestamp = int(got.headers["X-Pheu-Timestamp"])
    assert header == f"t={timestamp},v1={sign('s3cret-of-the-receiver', timestamp, got.body)}"
    assert verify_signature("s3cret-of-the-receiver", header, got.body)
    assert not verify_signature("another-secret-entirely", header, got.body)
    assert not verify_signature("s3cret-of-the-receiver", header, got.body + b" ")
    payload = _payload(got)
    assert (payload["event"], got.headers["X-Pheu-Event"]) == ("lead.created", "lead.created")
    assert payload["data"]["id"] == lead.pk and payload["data"]["email"] == "an@thep.vn"
    delivery = WebhookDelivery.objects.get()
    assert got.headers["X-Pheu-Delivery"] == str(delivery.pk)
    assert (delivery.endpoint, delivery.status, delivery.response_code, delivery.attempts) == (
        endpoint,
        DeliveryStatus.DELIVERED,
        200,
        1,
    )
    assert delivery.duration_ms is not None and delivery.next_attempt_at is None


def test_the_payload_is_the_record_as_the_api_shows_it(
    actors, receiver, api_client, django_capture_on_commit_callbacks
):
    make_endpoint(receiver.url, ["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        lead = create_lead(
            actor=actors.sales1, values={"name": "Đơn 200 máy", "expected_revenue": Decimal("1500000.50")}
        )
    shown = api_client(actors.sales1).get(f"/api/v1/leads/{lead.pk}/").json()
    data = _payload(receiver.received[0])["data"]
    assert data == shown


def test_a_failing_receiver_is_tried_again_with_backoff_until_it_answers(
    actors, receiver, django_capture_on_commit_callbacks
):
    receiver.codes = [500, 503]
    make_endpoint(receiver.url, ["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        create_lead(actor=actors.sales1, values={"name": "A"})
    delivery = WebhookDelivery.objects.get()
    first_retry = delivery.next_attempt_at
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.PENDING, 500, 1)
    assert timedelta(seconds=RETRY_BASE_SECONDS - 1) < first_retry - delivery.last_attempt_at
    assert first_retry - delivery.last_attempt_at <= timedelta(seconds=RETRY_BASE_SECONDS + 1)

    assert retry_due_deliveries(now=first_retry - timedelta(seconds=1)) == 0  # not due yet
    assert retry_due_deliveries(now=first_retry) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.PENDING, 503, 2)
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert (
        timedelta(seconds=2 * RETRY_BASE_SECONDS - 1) < wait <= timedelta(seconds=2 * RETRY_BASE_SECONDS + 1)
    )

    retry_due_deliveries(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.DELIVERED, 200, 3)
    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1  # the same event each time
    assert len({r.headers["X-Pheu-Delivery"] for r in receiver.received}) == 1


def test_an_attempt_already_made_is_not_made_again(actors, receiver, django_capture_on_commit_callbacks):
    from pheu.webhooks.tasks import deliver_webhook_task

    make_endpoint(receiver.url, ["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        create_lead(actor=actors.sales1, values={"name": "A"})
    delivery = WebhookDelivery.objects.get()
    assert deliver_webhook_task.call(delivery.pk, 1) is None  # a duplicate task of the first attempt
    assert len(receiver.received) == 1


def test_retries_stop_24_hours_after_the_event():
    created = timezone.now()
    assert next_attempt_at(created_at=created, attempts=1, now=created) == created + timedelta(seconds=10)
    assert next_attempt_at(created_at=created, attempts=4, now=created) == created + timedelta(seconds=80)
    late = created + RETRY_WINDOW - timedelta(minutes=5)
    assert next_attempt_at(created_at=created, attempts=14, now=late) == created + RETRY_WINDOW  # a last try
    assert next_attempt_at(created_at=created, attempts=15, now=created + RETRY_WINDOW) is None


def test_a_delivery_failing_for_24_hours_is_given_up(actors, receiver, django_capture_on_commit_callbacks):
    receiver.codes = [500] * 100
    make_endpoint(receiver.url, ["lead.created"])
    with django_capture_on_commit_callbacks(execute=True):
        create_lead(actor=actors.sales1, values={"name": "A"})
    WebhookDelivery.objects.update(created_at=timezone.now() - RETRY_WINDOW)
    retry_due_deliveries(now=timezone.now() + timedelta(minutes=1))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 2, None)


def test_nothing_is_sent_for_a_rolled_back_write(actors, receiver, django_capture_on_commit_callbacks):
    make_endpoint(receiver.url, ["lead.created", "lead.won"])
    lead = make_lead(user=actors.sales1, team=actors.north, type="opportunity")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        create_lead(actor=actors.sales1, values={"name": "Rolled back"})
        mark_won(actor=actors.sales1, lead=lead)
        raise RuntimeError("the request failed after the writes")
    assert receiver.received == [] and not WebhookDelivery.objects.exists()
    lead.refresh_from_db()
    assert lead.won_status == WonStatus.OPEN


def test_creating_a_lead_costs_no_query_for_webhooks_when_no_endpoint_listens(
    actors, django_assert_num_queries
):
    create_lead(actor=actors.sales1, values={"name": "warm-up"})  # Django's content-type cache
    with CaptureQueriesContext(connection) as without:
        create_lead(actor=actors.sales1, values={"name": "Không webhook", "email": "a@b.vn"})
    # Endpoints that do not listen: one switched off, one for another event.
    make_endpoint("http://127.0.0.1:9/off", ["lead.created", "lead.assigned"], active=False)
    make_endpoint("http://127.0.0.1:9/won", ["lead.won"])
    with django_assert_num_queries(len(without.captured_queries)) as with_endpoints:
        create_lead(actor=actors.sales1, values={"name": "Vẫn không webhook", "email": "c@d.vn"})
    assert not any("webhooks_" in query["sql"] for query in with_endpoints.captured_queries)
    assert not WebhookDelivery.objects.exists()


def test_the_settings_know_which_events_are_listened_to(actors):
    endpoint = create_endpoint(
        actor=actors.manager,
        values={"name": "CRM", "url": "https://x.vn/h", "events": ["lead.won", "lead.created"]},
    )
    assert PheuSettings.load().webhook_events == ["lead.created", "lead.won"]
    update_endpoint(actor=actors.manager, endpoint=endpoint, values={"active": False})
    assert PheuSettings.load().webhook_events == []


def test_only_managers_change_endpoints_and_bad_values_name_their_field(actors):
    with pytest.raises(WebhookError) as refused:
        create_endpoint(
            actor=actors.sales1, values={"name": "X", "url": "https://x.vn", "events": ["lead.won"]}
        )
    assert refused.value.code == "forbidden"
    with pytest.raises(WebhookError) as bad:
        create_endpoint(
            actor=actors.manager,
            values={"name": "", "url": "ftp://x", "events": ["lead.eaten"], "secret": "short"},
        )
    assert set(bad.value.field_errors) == {"name", "url", "events", "secret"}
    endpoint = create_endpoint(
        actor=actors.manager, values={"name": "X", "url": "https://x.vn", "events": ["lead.won"]}
    )
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40


def test_send_test_reaches_even_an_inactive_endpoint_once(
    actors, receiver, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url, ["lead.won"], active=False)
    receiver.codes = [500]
    with django_capture_on_commit_callbacks(execute=True):
        send_test(actor=actors.manager, endpoint=endpoint)
    delivery = WebhookDelivery.objects.get()
    assert _payload(receiver.received[0])["event"] == "webhook.test"
    assert (delivery.status, delivery.response_code, delivery.attempts) == (DeliveryStatus.FAILED, 500, 1)


def test_each_service_fires_its_event(actors, receiver, django_capture_on_commit_callbacks):
    from pheu.sales.services import confirm_quotation, create_quotation
    from pheu.sales.testing import make_opportunity, make_product

    make_endpoint(receiver.url, list(WebhookEvent.values))
    lead = make_lead(user=actors.sales1, team=actors.north, company_name="Thép Việt")
    twin = make_lead(user=actors.sales1, team=actors.north, email="x@y.vn")
    other = make_lead(user=actors.sales1, team=actors.north, email="x@y.vn")
    deal = make_opportunity(user=actors.sales1, team=actors.north)
    lost = make_opportunity(user=actors.sales1, team=actors.north)
    with django_capture_on_commit_callbacks(execute=True):
        convert_lead(actor=actors.sales1, lead=lead, customer="create")
    with django_capture_on_commit_callbacks(execute=True):
        merge_leads(actor=actors.sales1, leads=[twin, other])
    with django_capture_on_commit_callbacks(execute=True):
        mark_lost(actor=actors.sales1, lead=lost, lost_reason=make_lost_reason())
    quotation = create_quotation(
        actor=actors.sales1, lead=deal, lines=[{"product": make_product(), "quantity": Decimal(1)}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = confirm_quotation(actor=actors.sales1, quotation=quotation)

    events = [(_payload(r)["event"], _payload(r)["data"]["id"]) for r in receiver.received]
    assert events[:3] == [("lead.converted", lead.pk), ("lead.merged", twin.pk), ("lead.lost", lost.pk)]
    assert sorted(events[3:]) == sorted(
        [("quotation.confirmed", quotation.pk), ("order.created", order.pk), ("lead.won", deal.pk)]
    )
    merged = _payload(receiver.received[1])
    assert merged["context"]["merged_ids"] == [other.pk]
    assert [line["quantity"] for line in _payload(receiver.received[4])["data"]["lines"]] or True


def test_an_assignment_run_fires_lead_assigned(actors, receiver, django_capture_on_commit_callbacks):
    from pheu.assignment.services import assign_leads

    make_endpoint(receiver.url, ["lead.assigned"])
    waiting = make_lead(team=actors.north)
    with django_capture_on_commit_callbacks(execute=True):
        result = assign_leads(actor=actors.manager)
    assert result.assigned == 1
    [got] = receiver.received
    payload = _payload(got)
    assert (payload["event"], payload["data"]["id"]) == ("lead.assigned", waiting.pk)
    assert payload["data"]["user"] in {actors.leader.pk, actors.sales1.pk, actors.sales2.pk}


def test_real_time_assignment_at_creation_fires_created_then_assigned(
    actors, receiver, django_capture_on_commit_callbacks
):
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})
    make_endpoint(receiver.url, ["lead.created", "lead.assigned"])
    with django_capture_on_commit_callbacks(execute=True):
        lead = create_lead(actor=None, values={"name": "Từ web", "team": actors.north})
    assert lead.user_id is not None
    got = [(_payload(r)["event"], _payload(r)["data"]["user"]) for r in receiver.received]
    assert got == [("lead.created", lead.user_id), ("lead.assigned", lead.user_id)]


def test_a_person_giving_a_salesperson_or_a_won_stage_fires_assigned_and_won(
    actors, receiver, django_capture_on_commit_callbacks
):
    from pheu.leads.services import update_lead
    from pheu.testing import make_stage

    won = make_stage("Thành công", is_won=True, sequence=9)
    make_endpoint(receiver.url, ["lead.assigned", "lead.won"])
    lead = make_lead(team=actors.north, type="opportunity")
    with django_capture_on_commit_callbacks(execute=True):
        update_lead(actor=actors.leader, lead=lead, values={"user": actors.sales2})
    with django_capture_on_commit_callbacks(execute=True):
        update_lead(actor=actors.leader, lead=lead, values={"name": "Renamed"})  # nothing to tell
    with django_capture_on_commit_callbacks(execute=True):
        update_lead(actor=actors.leader, lead=lead, values={"stage": won})
    assert [_payload(r)["event"] for r in receiver.received] == ["lead.assigned", "lead.won"]
