"""What scoring adds to the writes of leads (:mod:`pheu.leads.services.steps`; registered in
``ScoringConfig.ready``): a new lead's score and predicted probability, decided on the instance before its
insert, its waiting page views linked after it; and every change of leads re-scored."""

from __future__ import annotations

from pheu.core.rows import inserted_together
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead, LeadScore
from pheu.leads.services.steps import AfterInsert, LeadsChanged, NewLead
from pheu.scoring.services import (
    link_pageviews,
    refresh_leads,
    rules_depend_on,
    score_unsaved_lead,
    store_new_score,
    waiting_pageviews,
)
from pheu.scoring.services.prediction import predict_unsaved_lead


def score_new_lead(new: NewLead) -> AfterInsert:
    """Phase ``FACTS``: the score of an open lead from its values and tags (a closed one keeps the 0 its
    insert gives it), and the page views waiting for it (then its facts are not complete before the
    insert). Its score row goes with the lead's insert where the database allows (written after it
    elsewhere); after the insert, the page views are linked (which re-scores it) and a record created closed
    is taught to the predictive model at once."""
    lead = new.lead
    is_open = lead.won_status == WonStatus.OPEN
    written = False
    if is_open:
        lead.score = score_unsaved_lead(lead, tags=new.tags, rules_stamp=new.settings.scoring_rules_stamp)
        if lead.score and inserted_together(Lead, LeadScore):  # its row in the lead's statement
            new.rows.append((LeadScore(score=lead.score), "lead_id"))
            written = True
    waiting = waiting_pageviews(email_normalized=lead.email_normalized, visitor_id=new.visitor_id)
    if waiting:
        new.facts_complete = False

    def after_insert() -> None:
        if not written:
            store_new_score(lead)
        link_pageviews(lead=lead, pageview_ids=waiting)  # re-scores it when there were some
        if not is_open:
            refresh_leads(lead_ids=[lead.pk])

    return after_insert


def predict_new_lead(new: NewLead) -> None:
    """Phase ``DERIVED``: the predicted probability of an open lead, with its team (the model is per team)."""
    predict_unsaved_lead(new.lead, tags=new.tags, settings=new.settings)


def rescore_changed_leads(change: LeadsChanged) -> bool:
    """Re-score leads just written and keep the predictive model's samples of them true; nothing when only
    fields no active rule reads were written and no outcome changed. Whether some score changed."""
    if change.fields is not None and not change.outcome_may_change and not rules_depend_on(change.fields):
        return False
    return bool(refresh_leads(lead_ids=change.lead_ids, outcome_may_change=change.outcome_may_change))
