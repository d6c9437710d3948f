"""The API's error format: HTTP 400 with ``{field: [messages]}`` for bad input, never a 500 for it.

Errors about the whole request carry ``{"detail": "…", "code": "…"}``. Deleting a configuration record
still in use is a 409 (records with an ``active`` flag are archived instead).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from pheu.core.exceptions import PermissionDeniedError, PheuError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PheuError):
        forbidden = isinstance(exc, PermissionDeniedError) or exc.code == PheuError.Code.FORBIDDEN
        code = status.HTTP_403_FORBIDDEN if forbidden else status.HTTP_400_BAD_REQUEST
        return Response(exc.as_dict(), status=code)
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError | RestrictedError):
        blocking = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        return Response(
            {
                "detail": _(
                    "This record is used by %(count)d other records and cannot be deleted; "
                    "archive it instead."
                )
                % {"count": len(blocking)},
                "code": "in_use",
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, RequestDataTooBig):  # DATA_UPLOAD_MAX_MEMORY_SIZE: said before the body is read
        message = _("The request body is too large (at most %(mb)s MB).") % {
            "mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024
        }
        return Response({"detail": message, "code": "too_large"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SuspiciousOperation):  # too many fields, a malformed multipart body, …
        return Response(
            {"detail": _("The request cannot be read."), "code": "malformed"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, Http404):
        # Django's message ("No Lead matches the given query.") is not translated and names a Python class.
        exc = NotFound()
    return drf_exception_handler(exc, context)


@csrf_exempt  # as every API view: a POST to a path that does not exist is a 404, not a CSRF refusal
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """A path under ``/api/v1/`` that no resource matches: the API's 404 body, not the 404 page."""
    return JsonResponse({"detail": str(NotFound.default_detail), "code": "not_found"}, status=404)
