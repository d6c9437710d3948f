from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from pheu.accounts.models import User
from pheu.core.forms import BootstrapFormMixin


class UserChoiceField(forms.ModelChoiceField["User"]):
    """A choice of one person, listed by their display name."""

    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class UsersChoiceField(forms.ModelMultipleChoiceField["User"]):
    """A choice of several people, listed by their display name."""

    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class LoginForm(BootstrapFormMixin, forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ResetPasswordForm(BootstrapFormMixin, PasswordResetForm):
    """Django's "e-mail me a link": the same answer whether or not the address belongs to a user."""


class NewPasswordForm(BootstrapFormMixin, SetPasswordForm):
    """The new password, from the e-mailed link; saved through the accounts service."""

    def save(self, commit: bool = True) -> Any:
        from pheu.accounts.services import reset_password

        return reset_password(user=self.user, password=self.cleaned_data["new_password1"])
