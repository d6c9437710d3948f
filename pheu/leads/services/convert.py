"""Conversion of a lead into an opportunity (SPEC section 6).

The record stays the same row (identity and history are kept): its type becomes ``opportunity``, it gets
``converted_at``, a team and salesperson (by default its own, else the acting user and their first team), the
first stage of its team, and a customer — a new one made from the lead's fields, an existing one, or none.
The duplicates chosen by the user are merged into it in the same transaction (the survivor is then chosen by
the merge rules: an opportunity further down the pipeline wins).
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
from pheu.core.history import log_changes, snapshot
from pheu.leads.choices import TRACKED_FIELDS, LeadType
from pheu.leads.models import Lead
from pheu.leads.services.merge import merge_leads
from pheu.leads.services.records import stages_for
from pheu.scoring.services import refresh_leads
from pheu.teams.models import Team
from pheu.teams.services import first_team_of


class ConvertError(PheuError):
    """A lead cannot be converted as asked; ``field_errors`` say why per field."""

    class Code(StrEnum):
        INVALID = "invalid"
        ALREADY_CONVERTED = "already_converted"
        MERGED_AWAY = "merged_away"
        FORBIDDEN_ASSIGNMENT = "forbidden_assignment"


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

    ``team``/``user`` default to the lead's own, else the acting user and their first team. ``customer``:
    ``create`` (from the lead's company and contact fields; refused when both are empty), ``link``
    (``partner`` required) or ``none`` (keeps a customer already linked). ``merge``: records merged into
    it afterwards (``pheu.leads.services.merge.merge_leads`` rules). ``actor`` None is the system (no
    permission check).
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
    before = snapshot(lead, TRACKED_FIELDS)
    old_user_id = lead.user_id
    if user is None:
        user = lead.user or (actor if getattr(actor, "is_authenticated", False) else None)
    if team is None:
        team = lead.team
        if team is None and user is not None:
            team = first_team_of(user)
    if (
        actor is not None
        and user is not None
        and not can_assign(actor, salesperson=user, team_id=team and team.pk)
    ):
        raise ConvertError(
            code=ConvertError.Code.FORBIDDEN_ASSIGNMENT,
            field_errors={"user": [_("You may not give this record to %(user)s.") % {"user": user}]},
        )
    lead.team, lead.user = team, user
    if lead.user_id != old_user_id:
        lead.assigned_at = timezone.now() if user else None
    if customer == CustomerChoice.CREATE:
        lead.partner = _create_customer(actor=actor, lead=lead)
    elif customer == CustomerChoice.LINK:
        lead.partner = partner
    lead.type = LeadType.OPPORTUNITY
    lead.converted_at = timezone.now()
    stage = next(iter(stages_for(team)), None)
    if stage is not None and lead.stage_id is None:
        lead.stage = stage
        lead.stage_changed_at = timezone.now()
        if lead.auto_probability:
            lead.probability = stage.probability
    lead.save()
    log_changes(
        record=lead,
        before=before,
        fields=TRACKED_FIELDS,
        author=actor,
        body=_("Converted to an opportunity."),
    )  # the type always changes, so this always logs
    refresh_leads(lead_ids=[lead.pk])
    others = [other for other in merge if other.pk != lead.pk]
    if others:
        return merge_leads(
            actor=actor, leads=[lead, *others], confirm_different_customers=confirm_different_customers
        ).survivor
    return lead
