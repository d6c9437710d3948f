"""Training the duplicate matcher on the installation's own base (SPEC section 6; :mod:`pheu.leads.matching`).

How duplicates differ (``m``) is much the same everywhere and ships with Pheu; how often strangers share a
name, a city or a postcode (``u``) and how many compared pairs are duplicates (the prior) are the base's
own. :func:`train_matcher` estimates those two on the active records and stores them in the installation's
settings, where every lookup and scan reads them.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from pheu.core.models import PheuSettings
from pheu.leads.duplicates import match_records
from pheu.leads.matching import DEFAULT_WEIGHTS, Weights, train_weights
from pheu.leads.models import Lead

MIN_RECORDS = 200  # fewer records say too little about strangers: the shipped weights stay


def train_matcher(*, sample: int = 100_000, queryset: QuerySet[Lead] | None = None) -> Weights | None:
    """Train the matcher on the active records (of ``queryset``, default all) and store its weights;
    return them, or None (and keep the shipped weights) when there are fewer than ``MIN_RECORDS``."""
    records = match_records(queryset)
    if len(records) < MIN_RECORDS:
        return None
    weights = train_weights(records, start=DEFAULT_WEIGHTS, sample=sample)
    with transaction.atomic():
        settings = PheuSettings.load()
        settings.duplicate_weights = weights.as_dict()
        settings.save(update_fields=["duplicate_weights", "updated_at"])
    return weights


def reset_matcher() -> None:
    """Go back to the shipped weights."""
    PheuSettings.objects.filter(pk=1).update(duplicate_weights={})
