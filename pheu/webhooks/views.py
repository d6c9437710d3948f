"""Pages of webhooks: the endpoints, one endpoint with its delivery log, the form, "send test"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pheu.accounts.requests import AuthenticatedHttpRequest
from pheu.core.exceptions import PheuError
from pheu.core.forms import add_service_errors
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.forms import EndpointForm
from pheu.webhooks.models import WebhookEndpoint
from pheu.webhooks.services import create_endpoint, delete_endpoint, send_test, update_endpoint

DELIVERIES_PER_PAGE = 25


def _require_manager(request: AuthenticatedHttpRequest) -> None:
    if not request.user.manages_configuration:
        raise PermissionDenied


@login_required
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_manager(request)
    return render(request, "webhooks/index.html", {"endpoints": WebhookEndpoint.objects.all()})


@login_required
def endpoint_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The endpoint, its secret and the log of its deliveries (newest first)."""
    _require_manager(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    page = Paginator(endpoint.deliveries.order_by("-created_at", "-id"), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    labels = dict(WebhookEvent.choices)
    event_labels = [(event, labels.get(event, event)) for event in endpoint.events]
    context = {"endpoint": endpoint, "page_obj": page, "event_labels": event_labels}
    return render(request, "webhooks/detail.html", context)


@login_required
def endpoint_edit(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    _require_manager(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk) if pk is not None else None
    initial = (
        {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
        if endpoint is not None
        else {"events": [WebhookEvent.LEAD_CREATED], "active": True}
    )
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if endpoint is None:
                endpoint = create_endpoint(actor=request.user, values=form.values())
            else:
                endpoint = update_endpoint(actor=request.user, endpoint=endpoint, values=form.values())
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The webhook “%(name)s” was saved.") % {"name": endpoint.name})
            return redirect("webhooks:detail", pk=endpoint.pk)
    return render(
        request,
        "webhooks/form.html",
        {"form": form, "endpoint": endpoint},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def endpoint_test(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    send_test(actor=request.user, endpoint=get_object_or_404(WebhookEndpoint, pk=pk))
    messages.success(request, _("A test event was queued; its delivery shows below."))
    return redirect("webhooks:detail", pk=pk)


@login_required
@require_POST
def endpoint_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    delete_endpoint(actor=request.user, endpoint=endpoint)
    messages.success(request, _("The webhook “%(name)s” was deleted.") % {"name": endpoint.name})
    return redirect("webhooks:index")
