"""A database that does not answer is a clean 503 — a short page, or the API's ``{detail, code}`` — never a
traceback and never a 500 (SPEC 14: ``/healthz`` says the same to the load balancer)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

logger = logging.getLogger("pheu.core")

# Connection refused or lost, server shutting down, "database is locked" past the busy timeout, a deadlock
# victim: all say "try again in a moment", none is the request's fault or a bug to show.
UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer. Built without the database: no user, no session, no context processors."""
    message = _("The database does not answer right now. Please try again in a moment.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
    else:
        html = render_to_string("503.html", {"message": message, "LANGUAGE_CODE": get_language()})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turn a database failure raised by a view (the API's included) into :func:`database_unavailable`, with
    one log line instead of a traceback. A failure in another middleware (the session read before any view)
    reaches ``handler500``, which answers the same (``pheu.core.views.server_error``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, UNAVAILABLE):
            return None
        logger.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)
