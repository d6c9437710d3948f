"""Moving records through the pipeline and closing them: move, won, lost, restore (SPEC section 7).

Each service locks the record, checks that the actor may edit it (``actor=None`` is the system: the
quotation confirmation, the worker), writes the outcome, logs the tracked changes in the history and
tells the apps built on leads (``leads_changed``: scoring re-scores it), all in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.core.exceptions import PermissionDeniedError
from pheu.core.history import snapshot
from pheu.core.services import log_changes
from pheu.leads.choices import TRACKED_FIELDS, WonStatus
from pheu.leads.exceptions import LeadError
from pheu.leads.models import Lead, LostReason, Stage
from pheu.leads.services.records import stages_for, update_lead
from pheu.leads.services.steps import leads_changed
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import emit_event

NOTE_MAX_LENGTH = 4000


def won_stage_for(lead: Lead) -> Stage | None:
    """The first won stage of the record's team (or shared), in pipeline order; None when there is none."""
    return next((stage for stage in stages_for(lead.team) if stage.is_won), None)


def _lock(actor: Any, lead: Lead) -> Lead:
    """The record, locked for the transaction; refused when ``actor`` may not edit it or it was merged."""
    locked: Lead = (
        Lead.objects.select_for_update(of=("self",)).select_related("stage", "team").get(pk=lead.pk)
    )
    if actor is not None and not Lead.objects.visible_to(actor).filter(pk=locked.pk).exists():
        raise PermissionDeniedError(_("You may not change this record."))
    if locked.merged_into_id is not None:
        raise LeadError(
            _("This record was merged into another one; change that one instead."),
            code=LeadError.Code.INVALID,
        )
    return locked


def _save(actor: Any, lead: Lead, before: dict[str, Any], *, body: str = "") -> Lead:
    lead.save()
    log_changes(record=lead, before=before, fields=TRACKED_FIELDS, author=actor, body=body)
    leads_changed(lead_ids=[lead.pk])
    return lead


@transaction.atomic
def mark_won(*, actor: Any, lead: Lead) -> Lead:
    """Mark ``lead`` won: probability 100, closed now, active, in the first won stage of its team (or a
    shared one) when one exists. A lost record is won back (its lost reason cleared). A won deal is a
    fact (e.g. a confirmed quotation), so the won stage's required fields do not hold it back.
    Already won: nothing changes.
    """
    lead = _lock(actor, lead)
    if lead.won_status == WonStatus.WON and lead.active:
        return lead
    before = snapshot(lead, TRACKED_FIELDS)
    now = timezone.now()
    stage = lead.stage if lead.stage is not None and lead.stage.is_won else won_stage_for(lead)
    if stage is not None and stage.pk != lead.stage_id:
        lead.stage = stage
        lead.stage_changed_at = now
    lead.won_status = WonStatus.WON
    lead.probability = 100
    lead.active = True
    lead.lost_reason = None
    lead.closed_at = now
    emit_event(event=WebhookEvent.LEAD_WON, record=lead)
    return _save(actor, lead, before)


@transaction.atomic
def mark_lost(*, actor: Any, lead: Lead, lost_reason: LostReason | None, note: str = "") -> Lead:
    """Mark ``lead`` lost: probability 0, inactive, closed now, with ``lost_reason`` (an active reason, or
    None when none is given); ``note`` (plain text) goes to the history with the change.
    Refused for a record already lost.
    """
    lead = _lock(actor, lead)
    errors: dict[str, list[str]] = {}
    if lead.won_status == WonStatus.LOST:
        raise LeadError(_("This record is already lost."), code=LeadError.Code.INVALID)
    if lost_reason is not None and not lost_reason.active:
        errors["lost_reason"] = [_("This lost reason is archived; choose another one.")]
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [_("Keep the note under %(count)d characters.") % {"count": NOTE_MAX_LENGTH}]
    if errors:
        raise LeadError(code=LeadError.Code.INVALID, field_errors=errors)
    before = snapshot(lead, TRACKED_FIELDS)
    lead.won_status = WonStatus.LOST
    lead.probability = 0
    lead.active = False
    lead.lost_reason = lost_reason
    lead.closed_at = timezone.now()
    emit_event(event=WebhookEvent.LEAD_LOST, record=lead)
    return _save(actor, lead, before, body=note)


@transaction.atomic
def restore_lead(*, actor: Any, lead: Lead) -> Lead:
    """Reopen a lost record: open, active, no lost reason, not closed. Its probability is recomputed:
    the stage's with ``auto_probability`` on (then re-predicted by scoring where the settings say so),
    the salesperson's last one otherwise (0 after the loss). A record lost while in a won stage goes
    back to the first stage of its team that is not won. Refused for a record that is not lost.
    """
    lead = _lock(actor, lead)
    if lead.won_status != WonStatus.LOST and lead.active:
        raise LeadError(_("Only a lost record can be restored."), code=LeadError.Code.INVALID)
    before = snapshot(lead, TRACKED_FIELDS)
    if lead.stage is not None and lead.stage.is_won:
        open_stage = next((stage for stage in stages_for(lead.team) if not stage.is_won), None)
        lead.stage = open_stage
        lead.stage_changed_at = timezone.now()
    lead.won_status = WonStatus.OPEN
    lead.active = True
    lead.lost_reason = None
    lead.closed_at = None
    if lead.auto_probability and lead.stage is not None:
        lead.probability = lead.stage.probability
    return _save(actor, lead, before)


@transaction.atomic
def move_lead(*, actor: Any, lead: Lead, stage: Stage) -> Lead:
    """Move ``lead`` to ``stage`` (the pipeline's drag and drop): as ``update_lead`` with the stage — its
    required fields checked, probability following it when automatic, a won stage marking it won — but
    refused with ``PermissionDeniedError`` when ``actor`` may not edit the record, and for a lost record
    (restore it first).
    """
    if actor is not None and not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDeniedError(_("You may not change this record."))
    if lead.won_status == WonStatus.LOST:
        # A lost card is not on the board: moving it would give a closed record a stage's probability.
        raise LeadError(_("This record is lost; restore it before moving it."), code=LeadError.Code.INVALID)
    return update_lead(actor=actor, lead=lead, values={"stage": stage})
