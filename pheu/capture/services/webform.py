"""The public web-to-lead form: the team's form key, its settings, the rate limit, and the post itself.

A post goes: rate limit by IP (on the cache, before anything touches the database) → the team of the key →
the honeypot (a filled one is accepted silently and nothing is stored) → one new lead through
``pheu.leads.services.create_lead`` (normalised, scored and, when the setting is on, assigned), with source
"Website" and the team of the key, and the visitor's page views linked to it — all in create_lead's
transaction. An e-mail or phone that is not valid never costs the lead: it is kept as typed (no matching
key), noted in the lead's history and returned as a warning.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from pheu.capture.exceptions import CaptureError
from pheu.capture.models import WebForm
from pheu.core.counters import hit
from pheu.core.models import HistoryKind, PheuSettings
from pheu.core.rows import ModelColumns
from pheu.core.services import log_entry
from pheu.core.validation import contact_field_errors
from pheu.leads.models import Lead, Source
from pheu.leads.services import create_lead
from pheu.teams.models import Team

WEBSITE_SOURCE = "Website"
HONEYPOT_FIELD = "fax"  # hidden from people by the snippet's markup; robots fill every field they find
VISITOR_FIELD = "visitor_id"  # set from the tracking snippet's first-party cookie `pheu_vid`
# What a visitor may send (anything else in a post is ignored: sites add their own fields and buttons).
FORM_FIELDS: tuple[str, ...] = (
    "name",
    "contact_name",
    "email",
    "phone",
    "mobile",
    "company_name",
    "website",
    "job_title",
    "street",
    "city",
    "state",
    "zip",
    "country",
    "description",
)


@dataclass(frozen=True)
class WebLeadResult:
    """``lead`` is None when the honeypot caught the post (``spam``): the visitor is thanked all the same.
    ``warnings``: the fields kept as typed though not valid (field → messages)."""

    lead: Lead | None
    spam: bool = False
    warnings: dict[str, list[str]] | None = None


def _check_manager(actor: Any) -> None:
    if not getattr(actor, "manages_configuration", False):
        raise CaptureError(_("Only managers change web forms."), code=CaptureError.Code.FORBIDDEN)


@dataclass(frozen=True)
class FormTarget:
    """What a post to a form key needs, read in one statement: the team (its web form settings loaded), the
    "Website" source (None until a first post creates it) and the installation's settings (None until
    first saved)."""

    team: Team
    source: Source | None
    settings: PheuSettings | None


_TEAM = ModelColumns(Team, "t")
_WEB_FORM = ModelColumns(WebForm, "w")
_SOURCE = ModelColumns(Source, "s")
_SETTINGS = ModelColumns(PheuSettings, "p")

# The ORM would make this four queries (≈ 1.3 ms of the 5.5 ms a post costs): the team and its form, the
# source, the settings. The key is unique, so is the source's name, and the settings are the row 1.
_FORM_TARGET_SQL = """
SELECT {columns}
FROM {team} t
LEFT JOIN {web_form} w ON w.team_id = t.id
LEFT JOIN {source} s ON s.name = %s
LEFT JOIN {settings} p ON p.id = 1
WHERE t.form_key = %s AND t.active
"""


def form_target(form_key: str) -> FormTarget:
    """The active team whose form has this key, with the source and settings of its posts; or NOT_FOUND."""
    missing = CaptureError(_("This form does not exist (any more)."), code=CaptureError.Code.NOT_FOUND)
    if not form_key:
        raise missing
    parts = (_TEAM, _WEB_FORM, _SOURCE, _SETTINGS)
    sql = _FORM_TARGET_SQL.format(
        columns=", ".join(part.select() for part in parts),
        team=_TEAM.table(),
        web_form=_WEB_FORM.table(),
        source=_SOURCE.table(),
        settings=_SETTINGS.table(),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [WEBSITE_SOURCE, form_key])
        row = cursor.fetchone()
    if row is None:
        raise missing
    instances = []
    start = 0
    for part in parts:
        instances.append(part.instance(row[start : start + len(part)]))
        start += len(part)
    # The slices of _TEAM, _WEB_FORM, _SOURCE, _SETTINGS, in that order; the team is the inner join's.
    team = cast(Team, instances[0])
    web_form = cast("WebForm | None", instances[1])
    source = cast("Source | None", instances[2])
    installation = cast("PheuSettings | None", instances[3])
    Team.web_form.related.set_cached_value(team, web_form)  # team.web_form: no query (DoesNotExist if None)
    if web_form is not None:
        WebForm.team.field.set_cached_value(web_form, team)
    return FormTarget(team=team, source=source, settings=installation)


def team_for_form_key(form_key: str) -> Team:
    """The active team whose form has this key (its web form settings loaded), or NOT_FOUND."""
    return form_target(form_key).team


def web_form_of(team: Team) -> WebForm:
    """The team's form settings (unsaved defaults when it has none yet)."""
    try:
        return team.web_form
    except WebForm.DoesNotExist:
        return WebForm(team=team)


def origin_allowed(*, team: Team, origin: str) -> bool:
    """May a page of ``origin`` post to ``team``'s form with JavaScript and read the answer (CORS)?"""
    origin = (origin or "").strip().rstrip("/")
    if not origin or origin == "null":
        return False
    allowed = {*settings.PHEU_WEBFORM_ALLOWED_ORIGINS, *web_form_of(team).origins()}
    return "*" in allowed or origin in {item.rstrip("/") for item in allowed}


def check_rate_limit(*, ip: str) -> None:
    """Count a post from ``ip``; past ``PHEU_WEBFORM_RATE_LIMIT`` posts in the current window of
    ``PHEU_WEBFORM_RATE_WINDOW`` seconds, refuse with RATE_LIMITED (``retry_after`` seconds on the error).

    Fixed windows counted on the store every web process shares (``pheu.core.counters``: Redis or the
    database), so the limit holds however many processes and machines serve the form."""
    wait = hit(
        "webform", ip, limit=settings.PHEU_WEBFORM_RATE_LIMIT, window=settings.PHEU_WEBFORM_RATE_WINDOW
    )
    if wait:
        error = CaptureError(
            _("Too many forms sent from your address; try again in a minute."),
            code=CaptureError.Code.RATE_LIMITED,
        )
        error.retry_after = wait  # type: ignore[attr-defined]  # read by the view for Retry-After
        raise error


def _contact_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not any(str(values.get(name) or "").strip() for name in ("name", "contact_name", "company_name")):
        errors["contact_name"] = [_("Tell us your name.")]
    if not any(str(values.get(name) or "").strip() for name in ("email", "phone", "mobile")):
        errors["email"] = [_("Give an e-mail address or a phone number, so that we can answer.")]
    return errors


def submit_web_form(
    *, target: FormTarget, values: Mapping[str, Any], visitor_id: str = "", honeypot: str = ""
) -> WebLeadResult:
    """Create the lead a visitor sent through the form of ``target`` (see :func:`form_target`).

    ``values`` are parsed form fields (``FORM_FIELDS``; ``country`` a Country, ``description`` HTML made
    from the visitor's text). The lead's name defaults to the contact's name, the company or the e-mail.
    A filled ``honeypot`` stores nothing and still answers as a success (robots learn nothing).
    """
    if honeypot.strip():
        return WebLeadResult(lead=None, spam=True)
    fields = {
        name: value for name, value in values.items() if name in FORM_FIELDS and value not in ("", None)
    }
    errors = _contact_errors(fields)
    if errors:
        raise CaptureError(code=CaptureError.Code.INVALID, field_errors=errors)
    fields.setdefault(
        "name", fields.get("contact_name") or fields.get("company_name") or fields.get("email") or ""
    )
    source = target.source or Source.objects.get_or_create(name=WEBSITE_SOURCE)[0]
    warnings = contact_field_errors(fields)
    # One transaction (create_lead's): the lead, its history, its score, its assignment and the visitor's
    # page views.
    values = {**fields, "team": target.team, "source": source}
    if not warnings:
        lead = create_lead(actor=None, values=values, visitor_id=visitor_id, settings=target.settings)
        return WebLeadResult(lead=lead)
    with transaction.atomic():
        lead = create_lead(
            actor=None, values=values, visitor_id=visitor_id, settings=target.settings, check_contacts=False
        )
        problems = " ".join(message for messages in warnings.values() for message in messages)
        log_entry(
            record=lead,
            kind=HistoryKind.SYSTEM,
            body=_("Sent through the web form; kept as typed, not used to find duplicates: %(problems)s")
            % {"problems": problems},
        )
    return WebLeadResult(lead=lead, warnings=warnings)


@transaction.atomic
def regenerate_form_key(*, actor: Any, team: Team) -> Team:
    """Give ``team`` a new random form key (``secrets``); the old address stops working at once.

    Managers only. The key is 32 URL-safe characters (192 bits)."""
    _check_manager(actor)
    key = secrets.token_urlsafe(24)
    Team.objects.filter(pk=team.pk).update(form_key=key)
    team.form_key = key
    return team


WEB_FORM_FIELDS: tuple[str, ...] = ("allowed_origins", "redirect_url")


def _origin_errors(text: str) -> list[str]:
    bad = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and line.strip() != "*" and not line.strip().startswith(("http://", "https://"))
    ]
    if bad:
        return [
            _("A site is written as https://www.example.vn, not “%(value)s”.") % {"value": ", ".join(bad)}
        ]
    return []


@transaction.atomic
def update_web_form(*, actor: Any, team: Team, values: Mapping[str, Any]) -> WebForm:
    """Change the team's form settings (allowed sites, thank-you page); managers only. The form gets a key
    at the same time if it had none, so that it can be used at once."""
    _check_manager(actor)
    errors: dict[str, list[str]] = {}
    if "allowed_origins" in values and (messages := _origin_errors(values["allowed_origins"] or "")):
        errors["allowed_origins"] = messages
    redirect_url = str(values.get("redirect_url") or "").strip()
    if redirect_url and not redirect_url.startswith(("http://", "https://")):
        errors["redirect_url"] = [_("Give the full address, starting with https://.")]
    if errors:
        raise CaptureError(code=CaptureError.Code.INVALID, field_errors=errors)
    web_form, _created = WebForm.objects.get_or_create(team=team)
    for name in WEB_FORM_FIELDS:
        if name in values:
            value = values[name] or ""
            if name == "allowed_origins":
                value = "\n".join(line.strip().rstrip("/") for line in value.splitlines() if line.strip())
            setattr(web_form, name, value.strip())
    web_form.save()
    if not team.form_key:
        regenerate_form_key(actor=actor, team=team)
    return web_form
