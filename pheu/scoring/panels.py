"""The scoring panels of a lead's page (``pheu.core.panels``): why its score, its predicted probability
and what moved it, and its recent page views. The page has checked that the user may see the lead."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.scoring.models import PageView
from pheu.scoring.services import explain_score
from pheu.scoring.services.prediction import explain_prediction

RECENT_PAGEVIEWS = 10


def score_panel(request: HttpRequest, lead: Lead) -> dict[str, Any]:
    score = explain_score(lead)
    prediction = explain_prediction(lead)
    return {
        "lead": lead,
        "score": score,
        "closed": lead.won_status != WonStatus.OPEN or not lead.active,
        "prediction": prediction,
    }


def pageviews_panel(request: HttpRequest, lead: Lead) -> dict[str, Any] | None:
    views = list(PageView.objects.filter(lead=lead).order_by("-created_at", "-id")[:RECENT_PAGEVIEWS])
    return {"lead": lead, "pageviews": views}
