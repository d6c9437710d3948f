"""Pages of capture: the public web form (HTML and JSON), and for signed-in users the capture page (web
forms and mailboxes for managers, the .eml upload for everyone) and the attachments of a lead."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from pheu.accounts.requests import AuthenticatedHttpRequest
from pheu.capture.exceptions import CaptureError
from pheu.capture.forms import EmlUploadForm, MailboxForm, WebFormSettingsForm, WebLeadForm, web_form_data
from pheu.capture.models import Attachment, Mailbox
from pheu.capture.services import (
    HONEYPOT_FIELD,
    VISITOR_FIELD,
    FormTarget,
    check_rate_limit,
    create_mailbox,
    delete_mailbox,
    fetch_mailbox,
    form_target,
    import_message,
    origin_allowed,
    regenerate_form_key,
    submit_web_form,
    team_for_form_key,
    update_mailbox,
    update_web_form,
    web_form_of,
)
from pheu.core.exceptions import PheuError
from pheu.core.forms import add_service_errors
from pheu.leads.models import Lead
from pheu.lib.ratelimit import client_ip
from pheu.teams.models import Team

JSON_TYPES = ("application/json",)


# --- the public form --------------------------------------------------------------------------------
def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.content_type in JSON_TYPES or ("application/json" in accept and "text/html" not in accept)


def _with_cors(request: HttpRequest, response: HttpResponse, team: Team | None) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    response["Vary"] = "Origin"
    if team is not None and origin and origin_allowed(team=team, origin=origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Accept"
        response["Access-Control-Max-Age"] = "86400"
    return response


def _form_page(request: HttpRequest, team: Team, form: WebLeadForm, *, status: int = 200) -> HttpResponse:
    context = {
        "team": team,
        "form": form,
        "visitor_id": request.POST.get(VISITOR_FIELD) or request.GET.get(VISITOR_FIELD, ""),
        "honeypot_field": HONEYPOT_FIELD,
        "visitor_field": VISITOR_FIELD,
    }
    return render(request, "capture/public_form.html", context, status=status)


def _success(
    request: HttpRequest, team: Team, as_json: bool, warnings: dict[str, list[str]] | None = None
) -> HttpResponse:
    thanks = web_form_of(team).redirect_url or reverse("capture:web_form_thanks", args=[team.form_key])
    if as_json:
        body: dict[str, Any] = {"ok": True, "redirect": thanks}
        if warnings:  # accepted, kept as typed
            body["warnings"] = {name: [str(m) for m in messages] for name, messages in warnings.items()}
        return JsonResponse(body, status=201)
    return HttpResponse(status=303, headers={"Location": thanks})  # 303: the browser GETs the page


def _post(request: HttpRequest, target: FormTarget, as_json: bool) -> HttpResponse:
    team = target.team
    if as_json and request.content_type in JSON_TYPES:
        origin = request.headers.get("Origin", "")
        if origin and not origin_allowed(team=team, origin=origin):
            return JsonResponse(
                {"detail": _("This site may not post to the form."), "code": "origin"}, status=403
            )
        try:
            data: Any = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return JsonResponse({"detail": _("The body is not valid JSON."), "code": "invalid"}, status=400)
    else:
        data = request.POST
    values, visitor_id, honeypot = web_form_data(data)
    form = WebLeadForm(values)
    if form.is_valid():
        try:
            result = submit_web_form(
                target=target, values=form.cleaned_data, visitor_id=visitor_id, honeypot=honeypot
            )
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            return _success(request, team, as_json, result.warnings)
    if as_json:
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        return JsonResponse(errors, status=400)
    return _form_page(request, team, form, status=400)


@csrf_exempt  # posted from other sites; the key names the form, the rate limit and honeypot guard it
@xframe_options_exempt  # the hosted form may be shown in a frame on the team's site
def web_form(request: HttpRequest, key: str) -> HttpResponse:
    """``/forms/lead/<key>/``: GET the hosted form, POST a lead (form-encoded or JSON), OPTIONS (CORS)."""
    as_json = _wants_json(request)
    if request.method == "POST":
        try:
            check_rate_limit(ip=client_ip(request))
        except CaptureError as exc:
            response = (
                JsonResponse({"detail": exc.message, "code": exc.code}, status=429)
                if as_json
                else HttpResponse(exc.message, status=429, content_type="text/plain; charset=utf-8")
            )
            response["Retry-After"] = str(getattr(exc, "retry_after", 60))
            return response
    try:
        target = form_target(key)
    except CaptureError as exc:
        if as_json or request.method == "OPTIONS":
            return JsonResponse({"detail": exc.message, "code": exc.code}, status=404)
        raise Http404(exc.message) from exc
    team = target.team
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
    elif request.method == "POST":
        response = _post(request, target, as_json)
    elif request.method in ("GET", "HEAD"):
        response = _form_page(request, team, WebLeadForm())
    else:
        response = HttpResponse(status=405, headers={"Allow": "GET, POST, OPTIONS"})
    return _with_cors(request, response, team)


@xframe_options_exempt
def web_form_thanks(request: HttpRequest, key: str) -> HttpResponse:
    try:
        team = team_for_form_key(key)
    except CaptureError as exc:
        raise Http404(exc.message) from exc
    return render(request, "capture/public_thanks.html", {"team": team})


# --- the capture page -------------------------------------------------------------------------------
def _require_manager(request: AuthenticatedHttpRequest) -> None:
    if not request.user.manages_configuration:
        raise PermissionDenied


def _index_context(request: AuthenticatedHttpRequest, upload_form: EmlUploadForm) -> dict[str, Any]:
    manager = request.user.manages_configuration
    return {
        "manager": manager,
        "teams": Team.objects.filter(active=True).select_related("web_form") if manager else [],
        "mailboxes": Mailbox.objects.select_related("team") if manager else [],
        "upload_form": upload_form,
    }


@login_required
def capture_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "capture/index.html", _index_context(request, EmlUploadForm()))


def form_url(request: HttpRequest, team: Team) -> str:
    return (
        request.build_absolute_uri(reverse("capture:web_form", args=[team.form_key])) if team.form_key else ""
    )


@login_required
def team_web_form(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A team's web form: the snippet to paste, the settings (sites, thank-you page), the key."""
    _require_manager(request)
    team = get_object_or_404(Team, pk=pk)
    settings_record = web_form_of(team)
    if request.method == "POST":
        form = WebFormSettingsForm(request.POST)
        if form.is_valid():
            try:
                update_web_form(actor=request.user, team=team, values=form.cleaned_data)
            except PheuError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The web form was saved."))
                return redirect("capture:team_web_form", pk=team.pk)
    else:
        form = WebFormSettingsForm(
            initial={
                "allowed_origins": settings_record.allowed_origins,
                "redirect_url": settings_record.redirect_url,
            }
        )
    url = form_url(request, team)
    snippet = ""
    if url:
        snippet = render_to_string(
            "capture/_snippet.html",
            {
                "url": url,
                "form": WebLeadForm(),
                "honeypot_field": HONEYPOT_FIELD,
                "visitor_field": VISITOR_FIELD,
            },
        ).strip()
    return render(
        request,
        "capture/team_web_form.html",
        {"team": team, "form": form, "url": url, "snippet": snippet},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def team_form_key(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    team = get_object_or_404(Team, pk=pk)
    regenerate_form_key(actor=request.user, team=team)
    messages.success(request, _("The form has a new address; the old one no longer works."))
    return redirect("capture:team_web_form", pk=team.pk)


@login_required
def mailbox_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    _require_manager(request)
    mailbox = get_object_or_404(Mailbox, pk=pk) if pk is not None else None
    form = MailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        try:
            if mailbox is None:
                mailbox = create_mailbox(actor=request.user, values=form.values())
            else:
                mailbox = update_mailbox(actor=request.user, mailbox=mailbox, values=form.values())
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The mailbox “%(name)s” was saved.") % {"name": mailbox.name})
            return redirect("capture:index")
    return render(
        request,
        "capture/mailbox_form.html",
        {"form": form, "mailbox": mailbox},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def mailbox_fetch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    result = fetch_mailbox(mailbox=get_object_or_404(Mailbox, pk=pk))
    summary = _("%(new)d new leads, %(replies)d replies.") % {
        "new": result.new_leads,
        "replies": result.replies,
    }
    if result.ok:
        messages.success(request, summary)
    else:
        messages.error(request, f"{summary} {' '.join(result.errors)}")
    return redirect("capture:index")


@login_required
@require_POST
def mailbox_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    mailbox = get_object_or_404(Mailbox, pk=pk)
    delete_mailbox(actor=request.user, mailbox=mailbox)
    messages.success(request, _("The mailbox “%(name)s” was deleted.") % {"name": mailbox.name})
    return redirect("capture:index")


@login_required
@require_POST
def eml_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EmlUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            result = import_message(
                raw=form.cleaned_data["file"].read(), team=form.cleaned_data["team"], actor=request.user
            )
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            if result.duplicate:
                messages.info(request, _("This e-mail was imported before."))
            elif result.reply:
                messages.success(request, _("The reply was added to the history of this record."))
            else:
                messages.success(request, _("A lead was created from the e-mail."))
            if Lead.objects.visible_to(request.user).filter(pk=result.lead.pk).exists():
                return redirect("leads:detail", pk=result.lead.pk)
            return redirect("capture:index")
    return render(request, "capture/index.html", _index_context(request, form), status=400)


@login_required
def attachment_download(request: AuthenticatedHttpRequest, pk: int) -> FileResponse:
    """A file of a lead, to who may see the lead (404 otherwise: it does not say the file exists)."""
    attachment = get_object_or_404(
        Attachment.objects.filter(lead__in=Lead.objects.visible_to(request.user)), pk=pk
    )
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The file is missing.")) from exc
    return FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type or None
    )


def attachments_panel(request: HttpRequest, lead: Any) -> dict[str, Any] | None:
    """The lead page's panel of files that came by e-mail; hidden when there are none."""
    files = list(lead.attachments.all())
    return {"attachments": files} if files else None
