from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from pheu.accounts.models import User
from pheu.testing import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username: str, password: str):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_with_the_right_password_opens_the_dashboard(client, actors):
    response = _login(client, "sales1", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_login_follows_a_local_next_but_not_another_site(client, actors):
    url = reverse("accounts:login")
    response = client.post(
        f"{url}?next=/customers/", {"username": "sales1", "password": PASSWORD, "next": "/customers/"}
    )
    assert response["Location"] == "/customers/"
    client.logout()
    response = client.post(url, {"username": "sales1", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


@pytest.mark.usefixtures("english")
def test_wrong_password_says_so_without_naming_the_wrong_part(client, actors):
    response = _login(client, "sales1", "nope")
    assert response.status_code == 200
    assert "Wrong username or password." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The same message for a username that does not exist.
    assert "Wrong username or password." in _login(client, "nobody", "nope").content.decode()


def test_pages_send_anonymous_visitors_to_the_login_page(client, db):
    response = client.get(reverse("leads:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


@pytest.mark.usefixtures("english")
def test_account_locks_after_the_allowed_failures_even_for_the_right_password(client, actors, settings):
    settings.PHEU_LOGIN_MAX_FAILURES = 3
    settings.PHEU_LOGIN_LOCK_MINUTES = 15
    for _attempt in range(2):
        assert "Wrong username or password." in _login(client, "sales1", "wrong").content.decode()
    third = _login(client, "sales1", "wrong").content.decode()
    assert "This account is locked after too many failed log-ins. Try again after" in third

    user = User.objects.get(username="sales1")
    assert user.locked_until is not None
    assert timedelta(minutes=14) < user.locked_until - timezone.now() <= timedelta(minutes=15)

    response = _login(client, "sales1", PASSWORD)
    assert response.status_code == 200
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_ends_and_a_successful_login_resets_the_count(client, actors, settings):
    settings.PHEU_LOGIN_MAX_FAILURES = 3
    User.objects.filter(username="sales1").update(
        failed_logins=2, locked_until=timezone.now() - timedelta(minutes=1)
    )
    assert _login(client, "sales1", PASSWORD).status_code == 302
    user = User.objects.get(username="sales1")
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_logout_needs_a_post(client, actors):
    client.force_login(actors.sales1)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session


def test_language_switch_saves_the_preference_and_the_next_page_is_in_english(client, actors):
    client.force_login(actors.sales1)
    assert '<html lang="vi">' in client.get(reverse("leads:list")).content.decode()

    response = client.post(reverse("accounts:language"), {"language": "en", "next": "/leads/"})

    assert response.status_code == 302
    assert response["Location"] == "/leads/"
    assert response.cookies["pheu_language"].value == "en"
    actors.sales1.refresh_from_db()
    assert actors.sales1.language == "en"
    page = client.get(reverse("leads:list")).content.decode()
    assert '<html lang="en">' in page
    assert ">Leads</a>" in page


def test_the_saved_language_wins_over_a_cookie_from_another_browser(client, actors):
    User.objects.filter(pk=actors.sales1.pk).update(language="en")
    client.cookies["pheu_language"] = "vi"
    client.force_login(actors.sales1)
    assert '<html lang="en">' in client.get(reverse("leads:list")).content.decode()


def test_anonymous_language_switch_sets_only_the_cookie(client, actors):
    response = client.post(reverse("accounts:language"), {"language": "en", "next": "/accounts/login/"})
    assert response.cookies["pheu_language"].value == "en"
    assert '<html lang="en">' in client.get(reverse("accounts:login")).content.decode()
    assert set(User.objects.values_list("language", flat=True)) == {"vi"}


def test_unknown_language_changes_nothing(client, actors):
    client.force_login(actors.sales1)
    client.post(reverse("accounts:language"), {"language": "xx", "next": "/leads/"})
    actors.sales1.refresh_from_db()
    assert actors.sales1.language == "vi"
