"""Users and their roles (SPEC section 11)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from pheu.lib.names import full_name


class Role(models.TextChoices):
    SALESPERSON = "salesperson", _("Salesperson")
    TEAM_LEADER = "team_leader", _("Team leader")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    """A person who logs in. What they may see and edit follows from ``role`` (see ``permissions``)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALESPERSON)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    failed_logins = models.PositiveSmallIntegerField(_("failed log-ins in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name

    def get_full_name(self) -> str:
        """Family name first in Vietnamese ("Bùi Vi"), given name first in English ("Vi Bùi")."""
        return full_name(self.first_name, self.last_name)

    @property
    def display_name(self) -> str:
        full = self.get_full_name().strip()
        return full or self.username

    @property
    def initials(self) -> str:
        parts = self.display_name.split()
        if not parts:
            return "?"
        if len(parts) == 1:
            return parts[0][:2].upper()
        return (parts[0][0] + parts[-1][0]).upper()

    @property
    def sees_all_records(self) -> bool:
        """Managers and administrators see and edit every record."""
        return self.is_superuser or self.role in (Role.SALES_MANAGER, Role.ADMINISTRATOR)

    @property
    def manages_configuration(self) -> bool:
        """Teams, stages, rules and other configuration records are edited by managers and administrators."""
        return self.sees_all_records

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.role == Role.ADMINISTRATOR
