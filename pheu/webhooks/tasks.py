"""Background tasks of webhooks: one attempt of a delivery, and the minute's sweep of lost retries."""

from __future__ import annotations

from datetime import datetime, timedelta

from django_tasks import task

from pheu.core.periodic import register_periodic
from pheu.webhooks.services import attempt_delivery, queue_events, retry_due_deliveries


@task()
def deliver_webhook_task(delivery_id: int, attempt: int) -> str | None:
    """Attempt number ``attempt`` of a delivery; a no-op when that attempt was made already (idempotent).
    Returns the delivery's status after it."""
    delivery = attempt_delivery(delivery_id=delivery_id, attempt=attempt)
    return delivery.status if delivery is not None else None


@task()
def queue_events_task(event: str, label: str, pks: list[int], occurred_at: str) -> int:
    """Store and queue the deliveries of an event fired for many records at once (an assignment run).
    Not idempotent by itself: queued once, after the commit of the run."""
    return queue_events(event=event, label=label, pks=pks, occurred_at=datetime.fromisoformat(occurred_at))


@task()
def retry_due_deliveries_task() -> int:
    """Queue the due retries whose deferred task was lost (a worker stopped, a backend without deferral)."""
    return retry_due_deliveries()


register_periodic("webhooks-retry", timedelta(minutes=1), retry_due_deliveries_task)
