"""Password reset by e-mail: the link on the log-in page, the e-mail in the visitor's language, the new
password, and nothing told about unknown addresses."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from pheu.accounts.models import User
from pheu.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    user = make_user("an", email="an@daiviet.example", first_name="An", last_name="Nguyễn")
    user.set_password("old-pass-123")
    user.save()
    return user


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_the_login_page_links_to_the_reset(client):
    page = client.get(reverse("accounts:login")).content.decode()
    assert f'href="{reverse("accounts:password_reset")}"' in page


def test_a_user_resets_the_password_through_the_emailed_link(client, user):
    client.cookies["pheu_language"] = "en"
    response = client.post(reverse("accounts:password_reset"), {"email": "AN@daiviet.example"})
    assert response.status_code == 302 and response.url == reverse("accounts:password_reset_done")
    [message] = mail.outbox
    assert message.to == ["an@daiviet.example"] and message.subject == "Your Pheu password"
    assert "Your user name: an" in message.body

    form = client.get(_link(message), follow=True)
    assert form.status_code == 200 and 'id="new-password-form"' in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "Phễu-mới-2026!", "new_password2": "Phễu-mới-2026!"}
    )
    assert done.status_code == 302 and done.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Phễu-mới-2026!") and not user.check_password("old-pass-123")
    again = client.get(_link(message), follow=True).content.decode()
    assert 'id="invalid-reset-link"' in again  # a link works once


def test_the_email_and_pages_are_vietnamese_in_a_vietnamese_session(client, user):
    client.cookies["pheu_language"] = "vi"
    client.post(reverse("accounts:password_reset"), {"email": "an@daiviet.example"})
    [message] = mail.outbox
    assert message.subject == "Mật khẩu Pheu của bạn"
    assert "Xin chào Nguyễn An," in message.body and "Tên đăng nhập của bạn: an" in message.body
    page = client.get(reverse("accounts:password_reset_done")).content.decode()
    assert "Hãy kiểm tra e-mail" in page


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, user):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@daiviet.example"})
    assert response.status_code == 302 and response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_a_weak_new_password_is_refused_next_to_its_field(client, user):
    client.cookies["pheu_language"] = "en"
    client.post(reverse("accounts:password_reset"), {"email": "an@daiviet.example"})
    form = client.get(_link(mail.outbox[0]), follow=True)
    refused = client.post(form.redirect_chain[-1][0], {"new_password1": "123", "new_password2": "123"})
    assert refused.status_code == 200 and refused.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.check_password("old-pass-123")


def test_resetting_lifts_the_failed_login_lock(client, user):
    User.objects.filter(pk=user.pk).update(failed_logins=5, locked_until=timezone.now() + timedelta(hours=1))
    client.post(reverse("accounts:password_reset"), {"email": "an@daiviet.example"})
    form = client.get(_link(mail.outbox[0]), follow=True)
    client.post(
        form.redirect_chain[-1][0], {"new_password1": "Phễu-mới-2026!", "new_password2": "Phễu-mới-2026!"}
    )
    user.refresh_from_db()
    assert (user.failed_logins, user.locked_until) == (0, None)
    login = client.post(reverse("accounts:login"), {"username": "an", "password": "Phễu-mới-2026!"})
    assert login.status_code == 302
