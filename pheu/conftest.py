"""Shared fixtures: named actors in two teams, API clients, background tasks run inline."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from pheu.accounts.models import Role, User
from pheu.teams.models import Team
from pheu.testing import make_member, make_team, make_user


@pytest.fixture(autouse=True)
def _test_settings(settings):  # type: ignore[no-untyped-def]
    """Background tasks run at once, inside the test, so their effects can be asserted; passwords are
    hashed with a fast hasher (Argon2 costs ~0.1 s a user by design, which would dominate the suite)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_prediction_model(monkeypatch):  # type: ignore[no-untyped-def]
    """Each test starts with an empty database, whose model versions restart at 0: forget the model
    a previous test cached under the same version."""
    from pheu.scoring import prediction

    monkeypatch.setattr(prediction, "_MODEL", None)


@dataclass
class Actors:
    """The people of every permission test.

    Team "Miền Bắc" (north) is led by ``leader`` with members ``sales1`` and ``sales2``;
    team "Miền Nam" (south) has ``sales3``. ``manager`` and ``admin`` see everything.
    """

    admin: User
    manager: User
    leader: User
    sales1: User
    sales2: User
    sales3: User
    north: Team
    south: Team

    def by_name(self, name: str) -> User:
        return getattr(self, name)


@pytest.fixture
def actors(db) -> Actors:  # type: ignore[no-untyped-def]
    admin = make_user("admin", role=Role.ADMINISTRATOR, first_name="Quản", last_name="Trị")
    manager = make_user("manager", role=Role.SALES_MANAGER, first_name="Minh", last_name="Trần")
    leader = make_user("leader", role=Role.TEAM_LEADER, first_name="Lan", last_name="Phạm")
    sales1 = make_user("sales1", first_name="An", last_name="Nguyễn")
    sales2 = make_user("sales2", first_name="Bình", last_name="Lê")
    sales3 = make_user("sales3", first_name="Chi", last_name="Võ")
    north = make_team("Miền Bắc", leader=leader, members=[leader, sales1, sales2], sequence=1)
    south = make_team("Miền Nam", members=[sales3], sequence=2)
    return Actors(admin, manager, leader, sales1, sales2, sales3, north, south)


@pytest.fixture
def english(client, actors):  # type: ignore[no-untyped-def]
    """Pages in English, for tests that read English text (Pheu's default language is Vietnamese)."""
    User.objects.update(language="en")
    for person in vars(actors).values():
        if isinstance(person, User):
            person.language = "en"
    client.cookies["pheu_language"] = "en"
    return actors


@pytest.fixture
def api_client():  # type: ignore[no-untyped-def]
    """``api_client(user)`` → an APIClient authenticated with that user's API token."""
    from rest_framework.authtoken.models import Token

    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


__all__ = ["Actors", "make_member"]
