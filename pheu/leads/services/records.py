"""Writes of leads and opportunities. Views, API, CLI and imports all come through here.

Values passed in are already parsed (model instances for relations, Decimals, dates), as forms and
serializers produce them; the services check what the business requires and own the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.accounts.permissions import can_assign
from pheu.core.fields import model_field
from pheu.core.history import snapshot
from pheu.core.models import HistoryKind, PheuSettings
from pheu.core.rows import insert_with
from pheu.core.services import log_changes, new_entry
from pheu.core.validation import contact_field_errors, required_text_errors
from pheu.leads.choices import TRACKED_FIELDS, LeadType, WonStatus
from pheu.leads.exceptions import LeadError
from pheu.leads.models import EDITABLE_FIELDS, Lead, LeadScore, Stage
from pheu.leads.services import steps
from pheu.lib.html import sanitize_html
from pheu.rules import DomainError, RuleProblem, clean_domain
from pheu.teams.models import Team
from pheu.teams.services import first_team_of
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import emit_event


def stages_for(team: Team | None) -> Iterable[Stage]:
    """The stages a record of ``team`` moves through: the team's own and the shared ones, in order."""
    cond = Q(team__isnull=True) if team is None else Q(team=team) | Q(team__isnull=True)
    return Stage.objects.filter(cond).order_by("sequence", "id")


def _check(values: Mapping[str, Any], *, contacts: bool = True) -> None:
    errors = required_text_errors(values, {"name": _("Name")})
    if contacts:
        errors.update(contact_field_errors(values))
    if errors:
        raise LeadError(code=LeadError.Code.INVALID, field_errors=errors)


def _check_assignment(actor: Any, lead: Lead) -> None:
    if actor is None:  # system channels (web form, e-mail, worker) act for the installation
        return
    if not can_assign(actor, salesperson=lead.user, team_id=lead.team_id):
        raise LeadError(
            code=LeadError.Code.FORBIDDEN_ASSIGNMENT,
            field_errors={"user": [_("You may not give this record to %(user)s.") % {"user": lead.user}]},
        )


def _missing_required(lead: Lead, stage: Stage) -> list[str]:
    missing = []
    for name in stage.required_fields or []:
        value = getattr(lead, name, None)
        if value is None or value == "":
            missing.append(name)
    return missing


def _enter_stage(lead: Lead, stage: Stage | None, *, check_required: bool = True) -> None:
    """Apply the consequences of entering ``stage``: requirements, date, probability, won."""
    if stage is None:
        lead.stage = None
        return
    if stage.team_id is not None and stage.team_id != lead.team_id:
        raise LeadError(
            code=LeadError.Code.INVALID,
            field_errors={"stage": [_("“%(stage)s” is a stage of another team.") % {"stage": stage.name}]},
        )
    missing = _missing_required(lead, stage) if check_required else []
    if missing:
        labels = ", ".join(str(model_field(Lead, name).verbose_name) for name in missing)
        raise LeadError(
            code=LeadError.Code.STAGE_REQUIREMENTS,
            field_errors={
                "stage": [
                    _("Fill in %(fields)s before moving to “%(stage)s”.")
                    % {"fields": labels, "stage": stage.name}
                ],
                **{
                    name: [_("Required by the stage “%(stage)s”.") % {"stage": stage.name}]
                    for name in missing
                },
            },
        )
    lead.stage = stage
    lead.stage_changed_at = timezone.now()
    if stage.is_won:
        if lead.won_status == WonStatus.LOST:  # won back, as ``mark_won`` does
            lead.active, lead.lost_reason, lead.closed_at = True, None, None
        lead.won_status = WonStatus.WON
        lead.probability = 100
        lead.closed_at = lead.closed_at or timezone.now()
    else:
        if lead.won_status == WonStatus.WON:
            lead.won_status = WonStatus.OPEN
            lead.closed_at = None
        if lead.auto_probability and lead.won_status != WonStatus.LOST:  # a lost record stays at 0
            lead.probability = stage.probability


def _apply(lead: Lead, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if name in ("stage", "tags"):
            continue
        if name == "description":
            value = sanitize_html(value)
        elif name == "external_id":
            value = (value or "").strip() or None
        elif isinstance(value, str) and name != "description":
            value = value.strip()
        setattr(lead, name, value)


def _carry_tags(lead: Lead, tags: list[Any]) -> None:
    """The new lead's tags, as ``lead.tags.all()`` would read them (by name), without reading them back:
    whoever shows the created record (the API's answer) costs no query for them."""
    carried = lead.tags.all()
    carried._result_cache = sorted(tags, key=lambda tag: (tag.name, tag.pk))
    carried._prefetch_done = True  # type: ignore[attr-defined]  # Django's private flag; not in django-stubs
    lead._prefetched_objects_cache = {"tags": carried}  # type: ignore[attr-defined]  # Django's private prefetch cache; not in django-stubs


@transaction.atomic
def create_lead(
    *,
    actor: Any,
    values: Mapping[str, Any],
    tags: Iterable[Any] = (),
    visitor_id: str = "",
    settings: PheuSettings | None = None,
    check_contacts: bool = True,
) -> Lead:
    """Create a lead or opportunity.

    Defaults: salesperson = the acting user (when there is one and none is given); team = the acting
    user's first team; type = lead, or opportunity when the team (or installation) works without leads;
    opportunities start in their team's first stage with its probability.

    The apps built on leads take part through their creation steps (:mod:`pheu.leads.services.steps`),
    decided on the instance so that it is inserted once: scoring gives it its score and its predicted
    probability, and the anonymous page views recorded under its e-mail or under ``visitor_id`` (the
    tracking cookie of the visitor who sent a web form); assignment, with real-time assignment on, its team
    and salesperson.

    ``settings``: the installation's settings when the caller has just read them (the web form reads them
    with its team, in one statement); read here otherwise. ``check_contacts=False`` (the web form): an
    e-mail or phone that is not valid is kept as typed (``normalize`` gives it no matching key).
    """
    settings = settings or PheuSettings.load()  # first: its phone region reads the numbers checked here
    _check({"name": "", **values}, contacts=check_contacts)
    lead = Lead()
    _apply(lead, values)
    if "user" not in values and actor is not None and getattr(actor, "is_authenticated", False):
        lead.user = actor
    if "team" not in values and lead.user is not None:
        lead.team = first_team_of(lead.user)
    if "type" not in values:
        use_leads = settings.use_leads
        if lead.team is not None:
            use_leads = lead.team.uses_leads(use_leads)
        lead.type = LeadType.LEAD if use_leads else LeadType.OPPORTUNITY
    stage = values.get("stage")
    if stage is None and lead.type == LeadType.OPPORTUNITY:
        stage = next(iter(stages_for(lead.team)), None)
    if stage is not None:
        given_probability = lead.probability
        _enter_stage(lead, stage, check_required=False)
        if "probability" in values and not stage.is_won:
            lead.probability = given_probability
    if lead.user_id:
        lead.assigned_at = timezone.now()
    if lead.type == LeadType.OPPORTUNITY:
        lead.converted_at = timezone.now()
    _check_assignment(actor, lead)
    lead.created_by = actor if getattr(actor, "is_authenticated", False) else None
    lead.normalize()
    tags = list(tags)
    lead.score = 0  # the score of the row its INSERT makes; a step scores an open record
    new = steps.NewLead(lead=lead, tags=tags, settings=settings, visitor_id=visitor_id)
    after_insert = steps.before_insert(new)
    # The lead, its history entry and the rows the steps made for it (its assignment's decision): one
    # statement on PostgreSQL.
    created = new_entry(record=lead, kind=HistoryKind.CREATED, author=actor)
    insert_with(lead, [(created, "object_id"), *new.rows])
    if tags:
        lead.tags.set(tags)
    _carry_tags(lead, tags)
    for step in after_insert:  # stored with its id, tags and history entry
        step()
    # Webhooks: no query (the settings say whether an endpoint listens), queued after the commit.
    emit_event(event=WebhookEvent.LEAD_CREATED, record=lead, settings=settings)
    if lead.user_id is not None:
        emit_event(event=WebhookEvent.LEAD_ASSIGNED, record=lead, settings=settings)
    return lead


@transaction.atomic
def update_lead(
    *, actor: Any, lead: Lead, values: Mapping[str, Any], tags: Iterable[Any] | None = None
) -> Lead:
    """Change fields of ``lead``; tracked changes go to its history.

    Entering a stage checks its required fields (with the new values) and sets the stage date; with
    ``auto_probability`` the probability follows the stage; a won stage marks the record won. Setting the
    probability by hand turns ``auto_probability`` off unless it is set in the same call.
    """
    _check(values)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.merged_into_id is not None:
        # Its survivor holds it now; a change here would be lost (or undone) by an unmerge.
        message = _("This record was merged into another one; change that one instead.")
        raise LeadError(message, code=LeadError.Code.INVALID, field_errors={"merged_into": [message]})
    before = snapshot(lead, TRACKED_FIELDS)
    old_user_id, old_stage_id, old_status = lead.user_id, lead.stage_id, lead.won_status
    if (
        "probability" in values
        and "auto_probability" not in values
        and values["probability"] != lead.probability
    ):
        lead.auto_probability = False
    _apply(lead, values)
    if "stage" in values and (values["stage"].pk if values["stage"] else None) != old_stage_id:
        _enter_stage(lead, values["stage"])
    elif lead.auto_probability and lead.stage is not None and lead.won_status == WonStatus.OPEN:
        lead.probability = lead.stage.probability
    if lead.user_id != old_user_id:
        _check_assignment(actor, lead)
        lead.assigned_at = timezone.now() if lead.user_id else None
    lead.save()
    if tags is not None:
        lead.tags.set(list(tags))
    log_changes(record=lead, before=before, fields=TRACKED_FIELDS, author=actor)
    outcome_may_change = lead.won_status != WonStatus.OPEN or old_status != lead.won_status
    if steps.leads_changed(lead_ids=[lead.pk], outcome_may_change=outcome_may_change):
        lead.score = LeadScore.objects.values_list("score", flat=True).get(pk=lead.pk)
    if lead.user_id is not None and lead.user_id != old_user_id:
        emit_event(event=WebhookEvent.LEAD_ASSIGNED, record=lead)
    if lead.won_status == WonStatus.WON and old_status != WonStatus.WON:  # entered a won stage
        emit_event(event=WebhookEvent.LEAD_WON, record=lead)
    return lead


# --- stages (configuration: managers and administrators) --------------------------------------------
STAGE_FIELDS: tuple[str, ...] = (
    "name",
    "sequence",
    "probability",
    "is_won",
    "folded",
    "required_fields",
    "requirements",
    "rotting_days",
    "team",
)


# Fields a stage may require: those a salesperson fills on the way (not identity or system ones).
REQUIRABLE_FIELDS = tuple(
    name for name in EDITABLE_FIELDS if name not in ("type", "name", "stage", "team", "external_id")
)


def _stage_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    errors = required_text_errors(values, {"name": _("Name")})
    if "required_fields" in values:
        names = values["required_fields"]
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            errors["required_fields"] = [_('Give a list of field names, e.g. ["expected_revenue"].')]
        elif unknown := [name for name in names if name not in EDITABLE_FIELDS]:
            message = _("Not a field of a lead: %(names)s.") % {"names": ", ".join(unknown)}
            errors["required_fields"] = [message]
        elif fixed := [name for name in names if name not in REQUIRABLE_FIELDS]:
            message = _("A stage cannot require these fields: %(names)s.") % {"names": ", ".join(fixed)}
            errors["required_fields"] = [message]
    probability = values.get("probability")
    if probability is not None and not 0 <= probability <= 100:
        errors["probability"] = [_("The probability is between 0 and 100.")]
    return errors


def _apply_stage(stage: Stage, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        if name == "required_fields":
            value = list(dict.fromkeys(value))
        elif isinstance(value, str):
            value = value.strip()
        setattr(stage, name, value)


@transaction.atomic
def create_stage(*, actor: Any, values: Mapping[str, Any]) -> Stage:
    """Create a pipeline stage; ``required_fields`` must name fields a salesperson fills
    (``REQUIRABLE_FIELDS``)."""
    errors = _stage_errors({"name": "", **values})
    if errors:
        raise LeadError(code=LeadError.Code.INVALID, field_errors=errors)
    stage = Stage()
    _apply_stage(stage, {k: v for k, v in values.items() if k in STAGE_FIELDS})
    stage.save()
    return stage


@transaction.atomic
def update_stage(*, actor: Any, stage: Stage, values: Mapping[str, Any]) -> Stage:
    """Change a stage; records already in it keep their values (requirements apply on entering)."""
    errors = _stage_errors(values)
    if errors:
        raise LeadError(code=LeadError.Code.INVALID, field_errors=errors)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    _apply_stage(stage, {k: v for k, v in values.items() if k in STAGE_FIELDS})
    stage.save()
    return stage


# --- rule preview -----------------------------------------------------------------------------------
PREVIEW_SAMPLE_SIZE = 5


@dataclass(frozen=True)
class LeadSample:
    id: int
    name: str


@dataclass(frozen=True)
class DomainPreview:
    """What a domain over leads means now, for the live preview next to every stored rule (SPEC section 2).

    Valid: ``text`` is what to store (as typed, or the canonical text of a list; "" for every record),
    ``canonical`` the canonical list, ``explanation`` the rule in words in the active language, ``count`` the
    active records visible to the actor that match, ``sample`` up to ``PREVIEW_SAMPLE_SIZE`` of them, newest
    first. Invalid: ``errors`` lists every problem (messages render in the language active when shown),
    ``text`` is the input as given, and the rest is empty (``canonical`` and ``count`` None).
    """

    valid: bool
    text: str
    errors: tuple[RuleProblem, ...] = ()
    canonical: list[Any] | None = None
    explanation: str = ""
    count: int | None = None
    sample: tuple[LeadSample, ...] = ()


def preview_domain(*, actor: Any, domain_text: str | Sequence[Any] | None) -> DomainPreview:
    """Check a domain over leads (text as typed, JSON or Python literal, or a decoded list) and count the
    records it selects among those ``actor`` may see. Never raises for a bad domain; reads only.

    Queries: the lookups of related records named in the domain, then a count and a sample.
    """
    try:
        clean = clean_domain(domain_text, "lead")
    except DomainError as exc:
        if domain_text is None or isinstance(domain_text, str):
            text = (domain_text or "").strip()
        else:
            text = json.dumps(domain_text, ensure_ascii=False, default=str)
        return DomainPreview(valid=False, text=text, errors=exc.problems)
    matching = Lead.objects.visible_to(actor).active().matching(clean.domain)
    sample = matching.order_by("-id").values_list("id", "name")[:PREVIEW_SAMPLE_SIZE]
    return DomainPreview(
        valid=True,
        text=clean.text,
        canonical=clean.canonical_list(),
        explanation=clean.domain.explain(),
        count=matching.count(),
        sample=tuple(LeadSample(id=pk, name=name) for pk, name in sample),
    )
