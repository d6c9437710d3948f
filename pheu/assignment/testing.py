"""Factories for assignment tests."""

from __future__ import annotations

from typing import Any

from pheu.leads.models import Lead
from pheu.testing import make_lead, set_scores


def make_waiting_leads(count: int, *, score: int = 0, **kw: Any) -> list[Lead]:
    """``count`` open leads without team nor salesperson, with ``score`` set directly."""
    leads = [make_lead(f"Waiting {i}", **kw) for i in range(count)]
    set_scores(leads, score)
    return leads
