"""Pages of the core app (the health endpoint, the installation's settings) and what other pages share;
the home page is the dashboard (pheu.reports)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from pheu.core.exceptions import PheuError
from pheu.core.forms import SettingsForm, add_service_errors
from pheu.core.health import check_health
from pheu.core.models import PheuSettings
from pheu.core.services import update_settings


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and worker state as JSON, for load balancers and monitoring (no login).

    HTTP 503 when the database does not answer, else 200 (with ``"degraded"`` when no worker is alive).
    """
    health = check_health()
    return JsonResponse(health.as_dict(), status=200 if health.database_ok else 503)


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after a form: its ``next`` (posted, else in the query) when it stays on this site, else
    ``default`` (a URL or a URL name). Never another site: a crafted link cannot send users away."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(default)


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Pages that change configuration: sales managers and administrators only (others get 403)."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "manages_configuration", False):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@manager_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """The installation's settings (managers and administrators): leads on or off, assignment, sales, the
    phone region, the predictive model's variables, the duplicate thresholds. Teams override some of them
    on their page."""
    form = SettingsForm(request.POST or None, instance=PheuSettings.load())
    if request.method == "POST" and form.is_valid():
        try:
            update_settings(actor=request.user, values=form.changed_values())
        except PheuError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The settings were saved."))
            return redirect("core:settings")
    return render(request, "core/settings.html", {"form": form})


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database that does not answer is a 503 (``pheu.core.middleware``) even when it
    failed before any view (reading the session); anything else is the 500 page."""
    import sys

    from django.views.defaults import server_error as default_server_error

    from pheu.core.middleware import UNAVAILABLE, database_unavailable

    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        return database_unavailable(request)
    return default_server_error(request)
