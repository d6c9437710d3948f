"""Writes of users: log-in with failed-login lock-out, language preference, unlocking."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from pheu.accounts.exceptions import LoginError
from pheu.accounts.models import User
from pheu.core.exceptions import PheuError


def _locked_error(until: datetime) -> LoginError:
    when = formats.date_format(timezone.localtime(until), "SHORT_DATETIME_FORMAT")
    return LoginError(
        _("This account is locked after too many failed log-ins. Try again after %(time)s.") % {"time": when},
        code=LoginError.Code.LOCKED,
    )


def _record_failure(user_id: int, now: datetime) -> datetime | None:
    """Count one failed log-in; lock the account once the limit is reached. Returns the lock's end."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user_id)
        user.failed_logins += 1
        if user.failed_logins >= settings.PHEU_LOGIN_MAX_FAILURES:
            # The count restarts with the lock: after it ends, the person gets the full number of tries again.
            user.locked_until = now + timedelta(minutes=settings.PHEU_LOGIN_LOCK_MINUTES)
            user.failed_logins = 0
        user.save(update_fields=["failed_logins", "locked_until"])
        return user.locked_until if user.locked_until and user.locked_until > now else None


def authenticate_user(*, request: HttpRequest | None, username: str, password: str) -> User:
    """Check a username and password; return the user, or raise :class:`LoginError`.

    ``PHEU_LOGIN_MAX_FAILURES`` wrong passwords in a row lock the account for ``PHEU_LOGIN_LOCK_MINUTES``;
    while locked even the right password is refused (``LoginError.Code.LOCKED``, naming the end of the
    lock). A successful log-in resets the count. An unknown username or an inactive account gives the
    same message as a wrong password, so the page does not tell which usernames exist.
    Logging the user in (the session) is the caller's job.
    """
    now = timezone.now()
    account = User.objects.filter(username=username).only("pk", "locked_until").first()
    if account is not None and account.locked_until is not None and account.locked_until > now:
        raise _locked_error(account.locked_until)
    user = authenticate(request, username=username, password=password)
    if user is None:
        locked_until = _record_failure(account.pk, now) if account is not None else None
        if locked_until is not None:
            raise _locked_error(locked_until)
        raise LoginError(_("Wrong username or password."), code=LoginError.Code.INVALID)
    if user.failed_logins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        user.failed_logins, user.locked_until = 0, None
    return user


def set_user_language(*, user: User, language: str) -> None:
    """Save ``language`` (one of ``settings.LANGUAGES``) as the user's preference for every page."""
    if language not in dict(settings.LANGUAGES):
        raise PheuError(field_errors={"language": [_("Unknown language “%(code)s”.") % {"code": language}]})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def unlock_users(*, users: Iterable[User]) -> int:
    """Lift the failed-login lock of ``users``; returns how many were changed."""
    ids = [user.pk for user in users]
    return (
        User.objects.filter(pk__in=ids)
        .exclude(failed_logins=0, locked_until=None)
        .update(failed_logins=0, locked_until=None)
    )


@transaction.atomic
def reset_password(*, user: User, password: str) -> User:
    """Set the password a user chose through the e-mailed reset link (already checked against
    ``AUTH_PASSWORD_VALIDATORS`` by the form); the failed-login lock is lifted, since whoever holds the
    mailbox proved who they are."""
    user.set_password(password)
    user.failed_logins, user.locked_until = 0, None
    user.save(update_fields=["password", "failed_logins", "locked_until"])
    return user


@transaction.atomic
def issue_api_token(*, user: User) -> str:
    """The key of ``user``'s API token (``Authorization: Token …``), made the first time it is asked for;
    the same key afterwards, until an administrator deletes the token."""
    token, _created = Token.objects.get_or_create(user=user)
    return str(token.key)
