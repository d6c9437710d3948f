"""Webhooks: managing endpoints, firing events, and delivering them (signed, retried for 24 hours).

Firing: a service that changes a record calls :func:`emit_event` inside its transaction. Nothing happens
unless an active endpoint listens to the event — known from ``PheuSettings.webhook_events``, which the
endpoint services rewrite in the transaction of every change of an endpoint, so a write that has read the
settings anyway (lead creation) pays no query, in any process. When someone listens, once the transaction
commits (``transaction.on_commit``; a rolled-back write sends nothing) the record is read as the API shows
it, one :class:`WebhookDelivery` per listening endpoint is stored with the body to send, and a task per
delivery is queued for the worker.

Delivering (:func:`attempt_delivery`, run by ``deliver_webhook_task``): one HTTP ``POST`` of the stored body
signed with the endpoint's secret (:func:`signature_header`, docs/webhooks.md); a 2xx answer delivers it,
anything else (another code, no answer in ``TIMEOUT_SECONDS``) is tried again after ``RETRY_BASE_SECONDS``,
then twice as long each time, until ``RETRY_WINDOW`` after the event (one last try at the end of it). The
retry is a deferred task; :func:`retry_due_deliveries` (every minute) re-queues a due delivery whose task was
lost. A claim on the attempt number makes a duplicate task a no-op.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.utils.encoders import JSONEncoder

from pheu.core.models import PheuSettings
from pheu.webhooks.choices import TEST_EVENT, DeliveryStatus, WebhookEvent
from pheu.webhooks.exceptions import WebhookError
from pheu.webhooks.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Pheu-Signature"
TIMEOUT_SECONDS = 10.0
RETRY_BASE_SECONDS = 10
RETRY_WINDOW = timedelta(hours=24)
# The sweep re-queues a due retry only this late: its deferred task normally runs first.
SWEEP_GRACE = timedelta(minutes=2)
RESPONSE_KEPT = 500  # characters of a failed answer's body kept in the log
USER_AGENT = "Pheu-Webhooks/1"
ENDPOINT_FIELDS: tuple[str, ...] = ("name", "url", "events", "secret", "active")

# What each kind of record looks like in a payload (the API's representation), by model label
# ("leads.lead"): the API registers them (pheu.api.webhooks); a builder takes a primary key and returns the
# record as a dict, or None when it is gone.
PayloadBuilder = Callable[[int], Mapping[str, Any] | None]
_PAYLOADS: dict[str, PayloadBuilder] = {}


def register_payload(label: str, build: PayloadBuilder) -> None:
    """Say how a record of the model ``label`` (``app_label.model_name``) is shown in a payload."""
    _PAYLOADS[label.lower()] = build


# --- managing endpoints (managers and administrators) ----------------------------------------------
def _check_manager(actor: Any) -> None:
    if actor is not None and not getattr(actor, "manages_configuration", False):
        raise WebhookError(_("Only managers change webhooks."), code=WebhookError.Code.FORBIDDEN)


def _endpoint_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "name" in values and not str(values["name"] or "").strip():
        errors["name"] = [_("Give the endpoint a name.")]
    if "url" in values:
        url = str(values["url"] or "").strip()
        if not url.startswith(("http://", "https://")):
            errors["url"] = [_("Give an http:// or https:// address.")]
    if "events" in values:
        events = values["events"]
        known = set(WebhookEvent.values)
        if not isinstance(events, list | tuple) or not events:
            errors["events"] = [_("Choose at least one event.")]
        elif unknown := [event for event in events if event not in known]:
            errors["events"] = [_("Unknown events: %(events)s.") % {"events": ", ".join(map(str, unknown))}]
    if "secret" in values and len(str(values["secret"] or "").strip()) < 16:
        errors["secret"] = [_("A secret has at least 16 characters.")]
    return errors


def _apply(endpoint: WebhookEndpoint, values: Mapping[str, Any]) -> None:
    for name in ENDPOINT_FIELDS:
        if name not in values:
            continue
        value = values[name]
        if name == "events":
            value = [event for event in WebhookEvent.values if event in set(value)]  # known order, no repeats
        elif isinstance(value, str):
            value = value.strip()
        setattr(endpoint, name, value)


def _refresh_listened_events() -> None:
    """Rewrite ``PheuSettings.webhook_events`` from the active endpoints (in the caller's transaction; the
    settings row is locked so that two concurrent changes of endpoints cannot leave a stale list)."""
    PheuSettings.load()
    PheuSettings.objects.select_for_update().filter(pk=1).first()
    listened: set[str] = set()
    for events in WebhookEndpoint.objects.filter(active=True).values_list("events", flat=True):
        listened.update(events or ())
    PheuSettings.objects.filter(pk=1).update(
        webhook_events=[event for event in WebhookEvent.values if event in listened]
    )


@transaction.atomic
def create_endpoint(*, actor: Any, values: Mapping[str, Any]) -> WebhookEndpoint:
    """Add an endpoint (managers only). Without a ``secret`` a random one is drawn."""
    _check_manager(actor)
    if not values.get("secret"):
        values = {k: v for k, v in values.items() if k != "secret"}
    errors = _endpoint_errors({"name": "", "url": "", "events": [], **values})
    if errors:
        raise WebhookError(field_errors=errors)
    endpoint = WebhookEndpoint(created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply(endpoint, values)
    endpoint.save()
    _refresh_listened_events()
    return endpoint


@transaction.atomic
def update_endpoint(*, actor: Any, endpoint: WebhookEndpoint, values: Mapping[str, Any]) -> WebhookEndpoint:
    """Change an endpoint (managers only); an empty ``secret`` keeps the current one."""
    _check_manager(actor)
    if "secret" in values and not values["secret"]:
        values = {k: v for k, v in values.items() if k != "secret"}
    errors = _endpoint_errors(values)
    if errors:
        raise WebhookError(field_errors=errors)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    _apply(endpoint, values)
    endpoint.save()
    _refresh_listened_events()
    return endpoint


@transaction.atomic
def delete_endpoint(*, actor: Any, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log (managers only); what is queued for it is not sent."""
    _check_manager(actor)
    endpoint.delete()
    _refresh_listened_events()


# --- firing events ---------------------------------------------------------------------------------
def listens(event: str, *, settings: PheuSettings | None = None) -> bool:
    """Does an active endpoint listen to ``event``? No query when the caller passes the settings it read;
    one otherwise, which never writes (no settings row yet: nobody listens)."""
    if settings is None:
        events = PheuSettings.objects.filter(pk=1).values_list("webhook_events", flat=True).first()
    else:
        events = settings.webhook_events
    return event in (events or ())


def emit_event(
    *,
    event: str,
    record: Model,
    settings: PheuSettings | None = None,
    context: Mapping[str, Any] | None = None,
) -> None:
    """Fire ``event`` about ``record``: once the current transaction commits, every active endpoint
    listening to it is sent the record as the API shows it then (plus ``context``, e.g. the ids merged).

    Costs nothing more than :func:`listens` when nobody listens. Call it inside the service's transaction:
    a rollback sends nothing."""
    if not listens(event, settings=settings):
        return
    label = record._meta.label_lower
    transaction.on_commit(
        partial(_queue_event, event, label, record.pk, dict(context or {}), timezone.now()), robust=True
    )


def emit_events(*, event: str, label: str, pks: Iterable[int], settings: PheuSettings | None = None) -> None:
    """:func:`emit_event` for many records of the model ``label`` (an assignment run): after the commit,
    up to ``INLINE_EVENTS`` are queued at once, more by a task of the worker (the run's caller does not
    wait for thousands of payloads)."""
    pks = list(pks)
    if not pks or not listens(event, settings=settings):
        return
    transaction.on_commit(partial(_queue_many, event, label.lower(), pks, timezone.now()), robust=True)


INLINE_EVENTS = 20


def _queue_many(event: str, label: str, pks: list[int], occurred_at: datetime) -> None:
    if len(pks) <= INLINE_EVENTS:
        queue_events(event=event, label=label, pks=pks, occurred_at=occurred_at)
        return
    from pheu.webhooks.tasks import queue_events_task

    for start in range(0, len(pks), 1000):
        queue_events_task.enqueue(event, label, pks[start : start + 1000], occurred_at.isoformat())


def queue_events(*, event: str, label: str, pks: Iterable[int], occurred_at: datetime) -> int:
    """Store and queue the deliveries of ``event`` for each record (the records as they are now); how many
    records were queued."""
    count = 0
    for pk in pks:
        count += _queue_event(event, label, pk, {}, occurred_at)
    return count


def _envelope(event: str, occurred_at: datetime, data: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    payload: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "event": event,
        "occurred_at": occurred_at.isoformat(),
        "data": data,
    }
    if context:
        payload["context"] = dict(context)
    return json.dumps(payload, cls=JSONEncoder, ensure_ascii=False, separators=(",", ":"))


def _queue_event(event: str, label: str, pk: int, context: Mapping[str, Any], occurred_at: datetime) -> int:
    """After the commit: store a delivery per listening endpoint, then queue their sending (1 if done)."""
    endpoints = [e for e in WebhookEndpoint.objects.filter(active=True) if event in (e.events or ())]
    if not endpoints:
        return 0
    build = _PAYLOADS.get(label)
    data = build(pk) if build is not None else {"id": pk}
    if data is None:  # the record went away meanwhile
        return 0
    _store_and_queue(endpoints, event, _envelope(event, occurred_at, data, context))
    return 1


@transaction.atomic
def _store_and_queue(
    endpoints: Iterable[WebhookEndpoint], event: str, body: str, *, is_test: bool = False
) -> list[WebhookDelivery]:
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(endpoint=e, event=event, body=body, next_attempt_at=now, is_test=is_test)
            for e in endpoints
        ]
    )
    transaction.on_commit(partial(_enqueue, [(d.pk, 1) for d in deliveries]), robust=True)
    return deliveries


def _enqueue(attempts: Iterable[tuple[int, int]], run_after: datetime | None = None) -> None:
    from pheu.webhooks.tasks import deliver_webhook_task  # tasks import the services

    task = deliver_webhook_task
    if run_after is not None:
        if not task.get_backend().supports_defer:  # the sweep picks it up when due
            return
        task = task.using(run_after=run_after)
    for delivery_id, attempt in attempts:
        task.enqueue(delivery_id, attempt)


def send_test(*, actor: Any, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to ``endpoint`` alone (managers only), tried once: its outcome shows in
    the delivery log. Sent even when the endpoint is inactive, to try it before switching it on."""
    _check_manager(actor)
    data = {"endpoint": endpoint.pk, "name": endpoint.name, "sent_by": getattr(actor, "pk", None)}
    body = _envelope(TEST_EVENT, timezone.now(), data, {})
    return _store_and_queue([endpoint], TEST_EVENT, body, is_test=True)[0]


# --- delivering ------------------------------------------------------------------------------------
def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256, keyed with ``secret`` (UTF-8), of ``"<timestamp>." + body``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Pheu-Signature`` value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a receiver does (docs/webhooks.md): the header's signature is the body's, made within
    ``tolerance`` seconds of ``now``."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))


@dataclass(frozen=True)
class Answer:
    """What one ``POST`` got: the HTTP code (None when no answer came), the time taken, an error text."""

    code: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer to log, not to follow: the signed body would otherwise go to another address.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post(url: str, body: bytes, headers: Mapping[str, str], *, timeout: float = TIMEOUT_SECONDS) -> Answer:
    """One HTTP ``POST``; never raises for what the network or the receiver does."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    started = time.monotonic()
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read(RESPONSE_KEPT)
            code, error = response.status, ""
    except urllib.error.HTTPError as exc:
        code = exc.code
        try:
            error = exc.read(RESPONSE_KEPT).decode("utf-8", "replace")
        except Exception:  # the body of an error answer is only for the log
            error = ""
        error = error or str(exc.reason)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        code, error = None, str(getattr(exc, "reason", exc))
    return Answer(
        code=code, duration_ms=round((time.monotonic() - started) * 1000), error=error[:RESPONSE_KEPT]
    )


def next_attempt_at(*, created_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts: ``RETRY_BASE_SECONDS`` × 2^(attempts−1) after
    ``now``, but not past ``RETRY_WINDOW`` after the event (a last try at its end); None once that last
    try was made."""
    deadline = created_at + RETRY_WINDOW
    if now >= deadline:
        return None
    return min(now + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** (attempts - 1)), deadline)


def delivery_headers(
    delivery: WebhookDelivery, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Pheu-Event": delivery.event,
        "X-Pheu-Delivery": str(delivery.pk),
        "X-Pheu-Timestamp": str(timestamp),
        SIGNATURE_HEADER: signature_header(delivery.endpoint.secret, timestamp, body),
    }


def attempt_delivery(*, delivery_id: int, attempt: int) -> WebhookDelivery | None:
    """Make attempt number ``attempt`` of the delivery, if it is still the one due (else None: delivered,
    given up, or made by a duplicate task). Records the outcome; schedules the next attempt on failure."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt - 1
    ).update(attempts=attempt, last_attempt_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not delivery.endpoint.active and not delivery.is_test:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        delivery.error = _("The endpoint was switched off.")
        delivery.save(update_fields=["status", "next_attempt_at", "error"])
        return delivery
    body = delivery.body.encode("utf-8")
    answer = post(delivery.endpoint.url, body, delivery_headers(delivery, body))
    delivery.response_code, delivery.duration_ms = answer.code, answer.duration_ms
    if answer.ok:
        delivery.status, delivery.error = DeliveryStatus.DELIVERED, ""
        delivery.delivered_at, delivery.next_attempt_at = timezone.now(), None
    else:
        delivery.error = answer.error or _("HTTP %(code)s") % {"code": answer.code}
        retry_at = (
            None
            if delivery.is_test
            else next_attempt_at(created_at=delivery.created_at, attempts=attempt, now=timezone.now())
        )
        delivery.next_attempt_at = retry_at
        delivery.status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
    delivery.save(
        update_fields=["status", "response_code", "duration_ms", "error", "delivered_at", "next_attempt_at"]
    )
    logger.info(
        "event=webhook_attempt delivery=%s endpoint=%s attempt=%s code=%s ms=%s status=%s",
        delivery.pk,
        delivery.endpoint_id,
        attempt,
        answer.code,
        answer.duration_ms,
        delivery.status,
    )
    if delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
        _enqueue([(delivery.pk, attempt + 1)], run_after=delivery.next_attempt_at)
    return delivery


def retry_due_deliveries(*, now: datetime | None = None) -> int:
    """Queue the next attempt of each waiting delivery that is due and whose task did not run — past
    ``SWEEP_GRACE`` when the task backend defers retries itself, at once otherwise. How many were queued."""
    from pheu.webhooks.tasks import deliver_webhook_task

    now = now or timezone.now()
    grace = SWEEP_GRACE if deliver_webhook_task.get_backend().supports_defer else timedelta(0)
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
        .order_by("next_attempt_at")
        .values_list("pk", "attempts")[:1000]
    )
    _enqueue([(pk, attempts + 1) for pk, attempts in due])
    return len(due)
