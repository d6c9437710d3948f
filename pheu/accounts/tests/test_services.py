from __future__ import annotations

import pytest

from pheu.accounts.exceptions import LoginError
from pheu.accounts.models import User
from pheu.accounts.permissions import assignable_users
from pheu.accounts.services import authenticate_user, set_user_language, unlock_users
from pheu.core.exceptions import PheuError
from pheu.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_unknown_username_is_refused_without_counting_anything(actors):
    with pytest.raises(LoginError) as err:
        authenticate_user(request=None, username="ghost", password="x")
    assert err.value.code == LoginError.Code.INVALID
    assert set(User.objects.values_list("failed_logins", flat=True)) == {0}


def test_lock_restarts_the_count_so_the_next_lock_needs_the_full_number(actors, settings):
    settings.PHEU_LOGIN_MAX_FAILURES = 2
    for _attempt in range(2):
        with pytest.raises(LoginError):
            authenticate_user(request=None, username="sales1", password="wrong")
    user = User.objects.get(username="sales1")
    assert user.failed_logins == 0
    assert user.locked_until is not None
    with pytest.raises(LoginError) as err:
        authenticate_user(request=None, username="sales1", password=PASSWORD)
    assert err.value.code == LoginError.Code.LOCKED


def test_unlock_lets_the_person_in_again(actors, settings):
    settings.PHEU_LOGIN_MAX_FAILURES = 1
    with pytest.raises(LoginError):
        authenticate_user(request=None, username="sales1", password="wrong")
    assert unlock_users(users=[actors.sales1, actors.sales2]) == 1
    assert authenticate_user(request=None, username="sales1", password=PASSWORD) == actors.sales1


def test_set_user_language_refuses_unknown_codes(actors):
    with pytest.raises(PheuError) as err:
        set_user_language(user=actors.sales1, language="fr")
    assert "language" in err.value.field_errors


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("sales1", {"sales1"}),
        ("leader", {"leader", "sales1", "sales2"}),
        ("manager", {"admin", "manager", "leader", "sales1", "sales2", "sales3"}),
    ],
)
def test_assignable_users_follow_the_roles(actors, actor, expected):
    assert set(assignable_users(actors.by_name(actor)).values_list("username", flat=True)) == expected


def test_passwords_are_stored_with_argon2(db):
    from django.conf import settings as django_settings
    from django.test import override_settings

    from pheu.settings import PASSWORD_HASHERS

    with override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS):
        user = make_user("argon")
        assert user.password.startswith("argon2$")
    assert django_settings.PASSWORD_HASHERS != PASSWORD_HASHERS  # the tests' fast hasher is back
