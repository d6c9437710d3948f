"""Background tasks of capture: the periodic fetch of the IMAP mailboxes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from pheu.capture.services import fetch_mailboxes
from pheu.core.periodic import register_periodic


@task()
def fetch_mailboxes_task() -> list[dict[str, object]]:
    """Fetch every active mailbox once (idempotent: a message is imported once, by its Message-ID)."""
    return [result.as_dict() for result in fetch_mailboxes()]


register_periodic(
    "fetch-mailboxes", timedelta(seconds=max(10, settings.PHEU_IMAP_POLL_SECONDS)), fetch_mailboxes_task
)
