"""Factories for assignment tests."""

from __future__ import annotations

from typing import Any

from pheu.leads.models import Lead
from pheu.testing import make_lead


def make_waiting_leads(count: int, *, score: int = 0, **kw: Any) -> list[Lead]:
    """``count`` open leads without team nor salesperson, with ``score`` set directly."""
    leads = [make_lead(f"Waiting {i}", **kw) for i in range(count)]
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(score=score)
    for lead in leads:
        lead.score = score
    return leads
