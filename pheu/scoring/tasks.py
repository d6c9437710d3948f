"""Background tasks of scoring, and its periodic jobs."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from pheu.core.periodic import register_periodic
from pheu.scoring.services import rescore_decayed, run_rescore
from pheu.scoring.services.prediction import refresh_predictions, run_queued_rebuild


@task()
def rescore_task(run_id: int) -> dict[str, int]:
    """Re-score every open lead for the run ``run_id`` (after a rule change on a large base). Idempotent:
    a run already finished is not done again; scores are written only where they change (:func:`run_rescore`,
    which marks the run failed when it fails)."""
    result = run_rescore(run_id=run_id)
    return {"checked": result.checked, "changed": result.changed}


@task()
def rebuild_model_task() -> dict[str, int]:
    """Rebuild the predictive model and predict every open record (asked for on a large history)."""
    rebuilt, predicted = run_queued_rebuild()
    return {"samples": rebuilt.samples, "predicted": predicted.checked}


@task()
def rescore_decayed_task() -> dict[str, int]:
    """Nightly: scores fall as page views age out of rules that count only the last N days."""
    result = rescore_decayed()
    return {"checked": result.checked, "changed": result.changed}


@task()
def refresh_predictions_task() -> dict[str, int]:
    """Predict new records, and every open record again after the model learnt something."""
    result = refresh_predictions()
    return {"checked": result.checked, "changed": result.changed}


register_periodic("scoring-decay", timedelta(days=1), rescore_decayed_task)
register_periodic("scoring-predictions", timedelta(minutes=2), refresh_predictions_task)
