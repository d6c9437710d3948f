from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from pheu.accounts.models import User
from pheu.accounts.services import unlock_users
from pheu.core.admin import AdministrationAdmin

# The admin logs people in through Pheu's own page, so the failed-login lock-out applies there too.
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]  # the admin site's login behind ours


@admin.register(User)
class UserAdmin(AdministrationAdmin, DjangoUserAdmin):
    list_display = (
        "username",
        "display_name",
        "email",
        "role",
        "language",
        "is_active",
        "locked_until",
        "last_login",
    )
    list_filter = ("role", "language", "is_active", "is_staff")
    search_fields = ("username", "first_name", "last_name", "email")
    readonly_fields = ("last_login", "date_joined", "failed_logins", "locked_until")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "email", "phone", "language")}),
        (_("Role"), {"fields": ("role", "is_active", "is_staff", "is_superuser")}),
        (_("Log-ins"), {"fields": ("last_login", "date_joined", "failed_logins", "locked_until")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "role", "language", "password1", "password2"),
            },
        ),
    )
    actions = ("unlock",)

    @admin.display(description=_("name"))
    def display_name(self, obj: User) -> str:
        return obj.display_name

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = unlock_users(users=queryset)
        messages.success(
            request,
            ngettext("%(count)d account unlocked.", "%(count)d accounts unlocked.", count) % {"count": count},
        )
