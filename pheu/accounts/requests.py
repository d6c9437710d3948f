"""The request type of pages that require a signed-in user."""

from __future__ import annotations

from django.http import HttpRequest

from pheu.accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind ``login_required`` (or a check that implies it): its user is signed in.

    For type checking only: Django builds plain ``HttpRequest``s; this says what ``request.user`` is there."""

    user: User
