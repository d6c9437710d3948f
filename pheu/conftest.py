"""Shared fixtures: named actors in two teams, API clients, background tasks run inline."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import redis
from rest_framework.test import APIClient

from pheu.accounts.models import Role, User
from pheu.teams.models import Team
from pheu.testing import make_member, make_team, make_user


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Background tasks run at once, inside the test, so their effects can be asserted; passwords are
    hashed with a fast hasher (Argon2 costs ~0.1 s a user by design, which would dominate the suite)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_prediction_model(monkeypatch):
    """Each test starts with an empty database, whose model versions restart at 0: forget the model
    a previous test cached under the same version."""
    from pheu.scoring.services import prediction

    monkeypatch.setattr(prediction, "_MODEL", None)


@pytest.fixture(autouse=True)
def _default_phone_region():
    """The phone region this process last read in the settings (pheu.lib.phones) would outlive the test
    that changed it (its database is rolled back): each test starts from PHEU_PHONE_REGION."""
    from pheu.lib import phones

    phones.set_default_region(None)
    yield
    phones.set_default_region(None)


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
def actors(db) -> Actors:
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
def english(client, actors):
    """Pages in English, for tests that read English text (Pheu's default language is Vietnamese)."""
    User.objects.update(language="en")
    for person in vars(actors).values():
        if isinstance(person, User):
            person.language = "en"
    client.cookies["pheu_language"] = "en"
    return actors


@pytest.fixture
def api_client():
    """``api_client(user)`` → an APIClient authenticated with that user's API token."""
    from rest_framework.authtoken.models import Token

    def make(user: User | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@dataclass(frozen=True)
class RedisForTest:
    """A Redis for one test: ``url`` (its own database number) and ``prefix``, the test's own key prefix."""

    url: str
    prefix: str
    client: redis.Redis

    def stored_keys(self) -> list[str]:
        return [key.decode() for key in self.client.scan_iter(f"{self.prefix}:*", count=1000)]


# Database 9 of the local Redis, keys under a prefix drawn per test: parallel runs and a Redis in use for
# something else (database 0) do not collide.
TEST_REDIS_URL = os.environ.get("PHEU_TEST_REDIS", "redis://127.0.0.1:6379/9")


@pytest.fixture
def redis_store() -> Iterator[RedisForTest]:
    """The Redis at ``PHEU_TEST_REDIS`` with a key prefix of the test's own, emptied afterwards. A Redis that
    does not answer fails the test with ``CI=true`` (as ``.ci/run`` sets), and skips it elsewhere."""
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis does not answer at {TEST_REDIS_URL} ({exc}); set PHEU_TEST_REDIS"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    store = RedisForTest(url=TEST_REDIS_URL, prefix=f"pheu-test-{uuid.uuid4().hex[:12]}", client=client)
    try:
        yield store
    finally:
        keys = store.stored_keys()
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        client.close()


__all__ = ["Actors", "RedisForTest", "make_member"]
