"""Pages of scoring: the scoring rules (everyone reads them, managers change them), the live impact of a
rule being typed, the progress of a background re-scoring, the predictive model's settings, and the public
tracking snippet and endpoint. Each view parses input, calls one service and renders."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pheu.accounts.requests import AuthenticatedHttpRequest
from pheu.core.forms import add_service_errors
from pheu.core.htmx import is_htmx
from pheu.core.models import PheuSettings
from pheu.core.views import manager_required
from pheu.leads.models import Lead
from pheu.lib.ratelimit import client_ip
from pheu.rules import DomainError, clean_domain
from pheu.scoring.exceptions import ScoringError
from pheu.scoring.forms import ImpactForm, PredictionSettingsForm, ScoringRuleForm
from pheu.scoring.models import ModelState, RescoreRun, ScoringRule
from pheu.scoring.services import (
    PageViewInput,
    RescoreOutcome,
    delete_scoring_rule,
    record_pageview,
    rule_impact,
    save_scoring_rule,
    schedule_rescore,
)
from pheu.scoring.services.prediction import (
    chosen_variables,
    request_rebuild,
    update_prediction_settings,
)
from pheu.scoring.tracking import over_rate_limit, with_cors

logger = logging.getLogger("pheu.scoring")


def _announce(request: HttpRequest, outcome: RescoreOutcome) -> None:
    if outcome.run is None:
        assert outcome.changed is not None  # re-scored at once: changed is counted
        messages.success(
            request,
            ngettext("%(count)s score changed.", "%(count)s scores changed.", outcome.changed)
            % {"count": outcome.changed},
        )
    else:
        messages.info(request, _("The open leads are being re-scored in the background."))


def _rules_url(outcome: RescoreOutcome | None = None) -> str:
    url = reverse("scoring:rules")
    return f"{url}?run={outcome.run.pk}" if outcome and outcome.run else url


# --- rules ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleRow:
    rule: ScoringRule
    explanation: str
    problem: bool


def rule_row(rule: ScoringRule) -> RuleRow:
    """The rule with its domain in words (or the reason it no longer reads: it then counts for nothing)."""
    if not rule.domain.strip():
        return RuleRow(rule, _("Every lead"), False)
    try:
        return RuleRow(rule, clean_domain(rule.domain, "lead").domain.explain(), False)
    except DomainError as exc:
        return RuleRow(rule, "; ".join(exc.messages), True)


@login_required
def rule_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    run = None
    if request.GET.get("run", "").isdigit():
        run = RescoreRun.objects.filter(pk=int(request.GET["run"])).first()
    if run is None:
        run = RescoreRun.objects.filter(
            status__in=[RescoreRun.Status.QUEUED, RescoreRun.Status.RUNNING]
        ).first()
    return render(
        request,
        "scoring/rules.html",
        {
            "rows": [rule_row(rule) for rule in ScoringRule.objects.order_by("sequence", "id")],
            "can_edit": request.user.manages_configuration,
            "run": run,
            "open_leads": Lead.objects.open().count(),
            "track_js_url": request.build_absolute_uri(reverse("scoring:track_js")),
            "track_endpoint": request.build_absolute_uri(reverse("scoring:track_pageview")),
        },
    )


def _rule_form(request: HttpRequest, rule: ScoringRule | None) -> HttpResponse:
    form = ScoringRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        values = (
            form.values() if rule is None else {name: form.cleaned_data[name] for name in form.changed_data}
        )
        try:
            _saved, outcome = save_scoring_rule(actor=request.user, rule=rule, values=values)
        except ScoringError as exc:
            add_service_errors(form, exc)
        else:
            _announce(request, outcome)
            return redirect(_rules_url(outcome))
    impact_url = reverse("scoring:rule_impact")
    if rule is not None:
        impact_url += f"?rule={rule.pk}"
    return render(request, "scoring/rule_form.html", {"form": form, "rule": rule, "impact_url": impact_url})


@manager_required
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@manager_required
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(ScoringRule, pk=pk))


@manager_required
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(ScoringRule, pk=pk)
    if request.method == "POST":
        outcome = delete_scoring_rule(actor=request.user, rule=rule)
        messages.success(request, _("The rule “%(name)s” was deleted.") % {"name": rule.name})
        _announce(request, outcome)
        return redirect(_rules_url(outcome))
    return render(request, "scoring/rule_delete.html", {"row": rule_row(rule)})


@manager_required
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch a rule on or off (htmx: its row, and the outcome above the table)."""
    rule = get_object_or_404(ScoringRule, pk=pk)
    rule, outcome = save_scoring_rule(actor=request.user, rule=rule, values={"active": not rule.active})
    if not is_htmx(request):
        _announce(request, outcome)
        return redirect(_rules_url(outcome))
    return render(
        request,
        "scoring/_rule_toggled.html",
        {"row": rule_row(rule), "can_edit": True, "outcome": outcome, "run": outcome.run},
    )


@manager_required
@require_POST
def rule_impact_preview(request: HttpRequest) -> HttpResponse:
    """The live impact of the rule being typed: matching open leads, and the scores it would raise or
    lower. Reads only."""
    rule = None
    if request.GET.get("rule", "").isdigit():
        rule = ScoringRule.objects.filter(pk=int(request.GET["rule"])).first()
    form = ImpactForm(request.POST)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        try:
            context["impact"] = rule_impact(
                domain_text=data["domain"],
                points=(data["points"] or 0) if data["active"] else 0,
                window_days=data["window_days"],
                rule=rule,
            )
        except DomainError:
            context["bad_rule"] = True  # the domain field's own preview lists the problems
        context["inactive"] = not data["active"]
    return render(request, "scoring/_impact.html", context)


@manager_required
@require_POST
def rescore_all(request: HttpRequest) -> HttpResponse:
    """ "Re-score all now": at once on a small base (with the counts), in the background otherwise."""
    outcome = schedule_rescore(
        actor=request.user, reason=_("Re-score all, asked by %(name)s") % {"name": request.user}
    )
    if outcome.run is None:
        messages.success(
            request,
            _("%(checked)s open leads checked, %(changed)s scores changed.")
            % {"checked": outcome.checked, "changed": outcome.changed},
        )
        return redirect("scoring:rules")
    _announce(request, outcome)
    return redirect(_rules_url(outcome))


@login_required
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """A background re-scoring's progress bar (htmx polls it every second until it ends)."""
    run = get_object_or_404(RescoreRun, pk=pk)
    return render(request, "scoring/_run.html", {"run": run})


# --- the predictive model ------------------------------------------------------------------------------
@manager_required
def model_settings(request: HttpRequest) -> HttpResponse:
    state = ModelState.load()
    current = PheuSettings.load()
    form = PredictionSettingsForm(
        request.POST or None,
        initial={
            "predictive_fields": chosen_variables(),
            "probability_follows_prediction": current.probability_follows_prediction,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_prediction_settings(
                actor=request.user,
                predictive_fields=form.cleaned_data["predictive_fields"],
                probability_follows_prediction=form.cleaned_data["probability_follows_prediction"],
            )
        except ScoringError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The settings were saved. Open records are predicted again within a few minutes."),
            )
            return redirect("scoring:model")
    return render(request, "scoring/model.html", {"form": form, "state": state})


@manager_required
@require_POST
def model_rebuild(request: HttpRequest) -> HttpResponse:
    """Learn again from every won and lost record, measure, and predict every open record (in the
    background on a large history)."""
    outcome = request_rebuild()
    if outcome.queued:
        messages.info(
            request,
            _(
                "The model is learning from %(closed)s closed records in the background; "
                "this page shows when it is done."
            )
            % {"closed": intcomma(outcome.closed)},
        )
        return redirect("scoring:model")
    result, predicted = outcome.rebuilt, outcome.predicted
    assert result is not None and predicted is not None  # not queued: rebuilt and predicted at once
    messages.success(
        request,
        _(
            "The model learnt from %(samples)s closed records (%(won)s won, %(lost)s lost); "
            "%(changed)s of %(checked)s open records got a new probability."
        )
        % {
            "samples": result.samples,
            "won": result.won,
            "lost": result.lost,
            "changed": predicted.changed,
            "checked": predicted.checked,
        },
    )
    return redirect("scoring:model")


# --- tracking (public) ---------------------------------------------------------------------------------
@require_GET
def track_js(request: HttpRequest) -> HttpResponse:
    """The tracking snippet's script, for customers' websites (public, cached for an hour)."""
    response = render(
        request,
        "scoring/track.js",
        {"endpoint": request.build_absolute_uri(reverse("scoring:track_pageview"))},
        content_type="application/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


PUBLIC_FIELDS = ("url", "visitor_id", "email")


def _tracking_input(request: HttpRequest) -> dict[str, str] | None:
    """The posted fields as text (form-encoded, as the snippet sends them, or a JSON object); None when the
    body is not readable."""
    if (request.content_type or "").startswith("application/json"):
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(body, dict):
            return None
        source: Any = body
    else:
        source = request.POST
    values: dict[str, str] = {}
    for name in PUBLIC_FIELDS:
        value = source.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            return None
        values[name] = value
    return values


@csrf_exempt  # posted by other sites' pages, without cookies; rate-limited by IP
@require_http_methods(["POST", "OPTIONS"])
def track_pageview(request: HttpRequest) -> HttpResponse:
    """``POST /scoring/t/pageview/`` (``url``, ``visitor_id``, optional ``email``): 204 when recorded,
    400 with field errors, 429 past the rate limit. Never a 500 for bad input."""
    if request.method == "OPTIONS":
        return with_cors(request, HttpResponse(status=204))
    wait = over_rate_limit(client_ip(request))
    if wait:
        response = JsonResponse(
            {"detail": _("Too many page views from your address; try again later."), "code": "rate_limited"},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return with_cors(request, response)
    values = _tracking_input(request)
    if values is None:
        body = {"detail": _("Send url, visitor_id and optionally email, form-encoded or as a JSON object.")}
        return with_cors(request, JsonResponse(body, status=400))
    errors = {
        name: [_("Null characters are not allowed.")] for name, value in values.items() if "\x00" in value
    }
    if not values["visitor_id"].strip() and not values["email"].strip():
        errors["visitor_id"] = [_("Give the visitor ID or the e-mail of the page view.")]
    if errors:
        return with_cors(request, JsonResponse(errors, status=400))
    try:
        record_pageview(
            view=PageViewInput(url=values["url"], visitor_id=values["visitor_id"], email=values["email"])
        )
    except ScoringError as exc:
        return with_cors(request, JsonResponse(exc.as_dict(), status=400))
    except DatabaseError:
        logger.exception("page view not recorded")
        return with_cors(request, JsonResponse({"detail": _("Try again later.")}, status=503))
    return with_cors(request, HttpResponse(status=204))
