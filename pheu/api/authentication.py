"""The API's token authentication: DRF's, with the token and its user read by one hand-written statement.

Every API request authenticates, so the ORM's form of this lookup (a ``select_related`` query compiled anew
each time, ≈ 0.5 ms of Python) was the largest single cost of a lead creation after the creation itself.
Same tokens, same answers and messages as DRF's :class:`~rest_framework.authentication.TokenAuthentication`.
The same statement reads the installation's settings, which a lead creation needs
(:func:`pheu.core.api.requests.request_settings`): one round trip fewer a creation (≈ 0.4 ms).

A request authenticated by a token speaks its user's language (as a signed-in page does, through
``pheu.accounts.middleware.UserLanguageMiddleware``, which runs before DRF knows the user), unless it sends an
``Accept-Language`` header: an API client that asks for a language gets it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from pheu.accounts.models import User
from pheu.core.api.requests import SETTINGS_ATTRIBUTE
from pheu.core.models import PheuSettings
from pheu.core.rows import ModelColumns

_TOKEN = ModelColumns(Token, "k")
_USER = ModelColumns(User, "u")
_SETTINGS = ModelColumns(PheuSettings, "p")


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        found = super().authenticate(request)
        if found is not None and "HTTP_ACCEPT_LANGUAGE" not in request.META:
            language = getattr(found[0], "language", None)
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return found

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        sql = (
            f"SELECT {_TOKEN.select()}, {_USER.select()}, {_SETTINGS.select()} FROM {_TOKEN.table()} k "
            f"JOIN {_USER.table()} u ON u.id = k.user_id LEFT JOIN {_SETTINGS.table()} p ON p.id = 1 "
            "WHERE k.key = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user_at = len(_TOKEN)
        settings_at = user_at + len(_USER)
        token = _TOKEN.instance(row[:user_at])
        user = _USER.instance(row[user_at:settings_at])
        assert isinstance(token, Token) and isinstance(user, User)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token.user = user  # as select_related("user") gives it
        setattr(token, SETTINGS_ATTRIBUTE, _SETTINGS.instance(row[settings_at:]))  # read by request_settings
        return user, token
