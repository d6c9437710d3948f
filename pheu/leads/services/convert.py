"""Conversion of a lead into an opportunity (SPEC section 6).

The record stays the same row (identity and history are kept): its type becomes ``opportunity``, it gets
``converted_at``, a team and salesperson (by default its own, else the acting user and their first team), the
first stage of its team, and a customer — a new one made from the lead's fields, an existing one, or none.
The duplicates chosen by the user are merged with it first, in the same transaction, by the merge rules
(SPEC section 6: an opportunity further down the pipeline wins, else the record created first); the survivor
is then converted. Lost and won leads are not converted.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.accounts.permissions import can_assign
from pheu.contacts.models import Partner
from pheu.contacts.services import create_partner
from pheu.core.exceptions import PermissionDeniedError, PheuError
from pheu.core.history import diff, snapshot
from pheu.core.models import HistoryKind
from pheu.core.services import log_changes, log_entry
from pheu.leads.choices import TRACKED_FIELDS, LeadType, WonStatus
from pheu.leads.models import Lead
from pheu.leads.services.merge import merge_leads
from pheu.leads.services.records import stages_for
from pheu.leads.services.steps import leads_changed
from pheu.teams.models import Team
from pheu.teams.services import first_team_of
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import emit_event


class ConvertError(PheuError):
    """A lead cannot be converted as asked; ``field_errors`` say why per field."""

    class Code(StrEnum):
        INVALID = "invalid"
        ALREADY_CONVERTED = "already_converted"
        MERGED_AWAY = "merged_away"
        FORBIDDEN_ASSIGNMENT = "forbidden_assignment"
        CLOSED = "closed"


class CustomerChoice(StrEnum):
    CREATE = "create"
    LINK = "link"
    NONE = "none"


_ADDRESS = ("street", "city", "state", "zip", "country")


def _create_customer(*, actor: Any, lead: Lead) -> Partner | None:
    """A company from ``company_name`` and/or a person from ``contact_name`` (in the company), with the
    lead's contact details and address; the person when there is one, else the company."""
    address = {name: getattr(lead, name) for name in _ADDRESS}
    company = None
    if lead.company_name.strip():
        company = create_partner(
            actor=actor,
            values={
                "is_company": True,
                "name": lead.company_name,
                "website": lead.website,
                **({} if lead.contact_name.strip() else {"email": lead.email, "phone": lead.phone}),
                **address,
            },
        )
    if lead.contact_name.strip():
        return create_partner(
            actor=actor,
            values={
                "is_company": False,
                "parent": company,
                "name": lead.contact_name,
                "job_title": lead.job_title,
                "email": lead.email,
                "phone": lead.phone,
                "mobile": lead.mobile,
                "language": lead.language if lead.language in ("vi", "en") else "",
                **address,
            },
        )
    return company


@transaction.atomic
def convert_lead(
    *,
    actor: Any,
    lead: Lead,
    team: Team | None = None,
    user: Any = None,
    customer: str = CustomerChoice.NONE,
    partner: Partner | None = None,
    merge: Sequence[Lead] = (),
    confirm_different_customers: bool = False,
) -> Lead:
    """Turn ``lead`` into an opportunity and return it (or the survivor, when ``merge`` names records).

    ``team``/``user`` default to the record's own, else the acting user and their first team. ``customer``:
    ``create`` (from the lead's company and contact fields; refused when both are empty), ``link``
    (``partner`` required) or ``none`` (keeps a customer already linked). ``merge``: records merged with it
    FIRST, by the rules of ``pheu.leads.services.merge.merge_leads`` (the survivor is the most trustworthy
    record, e.g. an opportunity, else the one created first — never simply the lead being converted); the
    survivor is then converted (when it is still a lead) or given the team, salesperson and customer asked
    for (when it is an opportunity). Only open leads are converted: a lost or won lead is refused (restore
    it first). ``actor`` None is the system (no permission check).
    """
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if actor is not None and not Lead.objects.visible_to(actor).filter(pk=lead.pk).exists():
        raise PermissionDeniedError(_("You may not convert a record you cannot edit."))
    if lead.merged_into_id is not None:
        message = _("This record was merged into another one; change that one instead.")
        raise ConvertError(message, code=ConvertError.Code.MERGED_AWAY, field_errors={"lead": [message]})
    if lead.type == LeadType.OPPORTUNITY:
        message = _("“%(name)s” is already an opportunity.") % {"name": lead.name}
        raise ConvertError(
            message, code=ConvertError.Code.ALREADY_CONVERTED, field_errors={"lead": [message]}
        )
    if lead.won_status != WonStatus.OPEN or not lead.active:
        if lead.won_status == WonStatus.WON:
            message = _("“%(name)s” is won; only an open lead can be converted.") % {"name": lead.name}
        else:
            message = _("“%(name)s” is lost; restore it before converting it.") % {"name": lead.name}
        raise ConvertError(message, code=ConvertError.Code.CLOSED, field_errors={"lead": [message]})
    if customer not in CustomerChoice.__members__.values():
        raise ConvertError(field_errors={"customer": [_("Choose create, link or none.")]})
    if customer == CustomerChoice.LINK and partner is None:
        raise ConvertError(field_errors={"partner": [_("Choose the customer to link.")]})
    if customer == CustomerChoice.CREATE and not (lead.company_name.strip() or lead.contact_name.strip()):
        raise ConvertError(
            field_errors={
                "customer": [_("The lead has neither a company nor a contact name to create from.")]
            }
        )
    others = [other for other in merge if other.pk != lead.pk]
    record = lead
    if others:
        survivor = merge_leads(
            actor=actor, leads=[lead, *others], confirm_different_customers=confirm_different_customers
        ).survivor
        record = Lead.objects.select_for_update().get(pk=survivor.pk)
    if record.type == LeadType.OPPORTUNITY:
        converted = _update_opportunity(
            actor=actor, record=record, team=team, user=user, customer=customer, partner=partner, lead=lead
        )
    else:
        converted = _convert(
            actor=actor, record=record, team=team, user=user, customer=customer, partner=partner
        )
    emit_event(event=WebhookEvent.LEAD_CONVERTED, record=converted, context={"lead": lead.pk})
    return converted


def _check_assignment(*, actor: Any, user: Any, team: Team | None) -> None:
    if (
        actor is not None
        and user is not None
        and not can_assign(actor, salesperson=user, team_id=team.pk if team is not None else None)
    ):
        raise ConvertError(
            code=ConvertError.Code.FORBIDDEN_ASSIGNMENT,
            field_errors={"user": [_("You may not give this record to %(user)s.") % {"user": user}]},
        )


def _convert(
    *, actor: Any, record: Lead, team: Team | None, user: Any, customer: str, partner: Partner | None
) -> Lead:
    before = snapshot(record, TRACKED_FIELDS)
    old_user_id = record.user_id
    if user is None:
        user = record.user or (actor if getattr(actor, "is_authenticated", False) else None)
    if team is None:
        team = record.team
        if team is None and user is not None:
            team = first_team_of(user)
    _check_assignment(actor=actor, user=user, team=team)
    record.team, record.user = team, user
    if record.user_id != old_user_id:
        record.assigned_at = timezone.now() if user else None
    if customer == CustomerChoice.CREATE:
        record.partner = _create_customer(actor=actor, lead=record)
    elif customer == CustomerChoice.LINK:
        record.partner = partner
    record.type = LeadType.OPPORTUNITY
    record.converted_at = timezone.now()
    stage = next(iter(stages_for(team)), None)
    if stage is not None and record.stage_id is None:
        record.stage = stage
        record.stage_changed_at = timezone.now()
        if record.auto_probability:
            record.probability = stage.probability
    record.save()
    log_changes(
        record=record,
        before=before,
        fields=TRACKED_FIELDS,
        author=actor,
        body=_("Converted to an opportunity."),
    )  # the type always changes, so this always logs
    leads_changed(lead_ids=[record.pk])
    return record


def _update_opportunity(
    *,
    actor: Any,
    record: Lead,
    team: Team | None,
    user: Any,
    customer: str,
    partner: Partner | None,
    lead: Lead,
) -> Lead:
    """The lead was merged into an existing opportunity: that one keeps its stage and takes the team,
    salesperson and customer asked for (those not asked for stay as they are)."""
    before = snapshot(record, TRACKED_FIELDS)
    if team is not None or user is not None:
        team = team if team is not None else record.team
        user = user if user is not None else record.user
        _check_assignment(actor=actor, user=user, team=team)
        if user is not None and user != record.user:
            record.assigned_at = timezone.now()
        record.team, record.user = team, user
    if customer == CustomerChoice.CREATE:
        record.partner = _create_customer(actor=actor, lead=lead)
    elif customer == CustomerChoice.LINK:
        record.partner = partner
    record.save()
    log_entry(
        record=record,
        kind=HistoryKind.CHANGE,
        author=actor,
        body=_("Lead “%(name)s” (#%(id)s) converted into this opportunity.")
        % {"name": lead.name, "id": lead.pk},
        changes=diff(before, snapshot(record, TRACKED_FIELDS)),
    )
    leads_changed(lead_ids=[record.pk])
    return record
