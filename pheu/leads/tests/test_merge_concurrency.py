"""Two merges of overlapping records at once, on PostgreSQL: the second waits for the first, then is refused
with a clear error; nothing is merged twice and neither merge deadlocks (records are locked in id order)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from pheu.leads.models import Lead
from pheu.leads.services.merge import MergeError, merge_leads
from pheu.testing import make_lead


def _in_thread(target, results: dict[str, object], key: str) -> threading.Thread:
    def run() -> None:
        try:
            results[key] = target()
        except Exception as error:  # the test asserts what each side got
            results[key] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second_order", ["same", "reversed"])
def test_overlapping_merges_at_once_merge_each_record_once(second_order):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two merges cannot overlap there")
    a, b, c = (make_lead(name=f"Lead {n}", email="same@congty.vn") for n in "abc")
    first_locked, first_may_commit = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first() -> int:
        with transaction.atomic():
            merge = merge_leads(actor=None, leads=[a, b])
            first_locked.set()
            first_may_commit.wait(timeout=30)
        return merge.pk

    def second() -> int:
        first_locked.wait(timeout=30)
        leads = [b, c] if second_order == "same" else [c, b]
        return merge_leads(actor=None, leads=leads).pk

    threads = [_in_thread(first, results, "first"), _in_thread(second, results, "second")]
    first_locked.wait(timeout=30)
    # The second merge now waits on b's row lock; let it queue, then let the first commit.
    threads[1].join(timeout=1)
    assert threads[1].is_alive(), "the second merge did not wait for the first"
    first_may_commit.set()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()

    assert isinstance(results["first"], int)
    refused = results["second"]
    assert isinstance(refused, MergeError) and refused.code == MergeError.Code.ALREADY_MERGED
    assert f"#{b.pk}" in str(refused)
    rows = {lead.pk: lead for lead in Lead.objects.filter(pk__in=[a.pk, b.pk, c.pk])}
    assert rows[b.pk].merged_into_id == a.pk and not rows[b.pk].active
    assert rows[a.pk].merged_into_id is None and rows[a.pk].active
    assert rows[c.pk].merged_into_id is None and rows[c.pk].active
