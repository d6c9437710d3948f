"""THE visibility rule of Pheu (SPEC section 11), in one place, used by pages, API, exports and reports.

- salesperson: their own records, and the unassigned records of the teams they are an active member of;
- team leader: the same, plus every record of the teams they lead;
- sales manager, administrator: every record.

What a user may see is also what they may edit. The function is generic over the owner and team field
names, so that any model with a salesperson and a team (leads, activities, quotations…) is scoped alike;
it reaches teams through reverse relations only, so this module imports no other app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Q, QuerySet

if TYPE_CHECKING:
    from pheu.accounts.models import User

# The queryset's own class comes back (a LeadQuerySet stays one), so its methods chain after the scope.
QS = TypeVar("QS", bound=QuerySet[Any, Any])


def record_scope(user: User, *, owner_field: str = "user", team_field: str = "team") -> Q | None:
    """The condition selecting what ``user`` may see, or ``None`` when they see everything."""
    if user.sees_all_records:
        return None
    member_of = user.team_memberships.filter(active=True).values("team_id")
    scope = Q(**{owner_field: user.pk}) | Q(
        **{f"{owner_field}__isnull": True, f"{team_field}__in": member_of}
    )
    if user.role == "team_leader":
        scope |= Q(**{f"{team_field}__in": user.led_teams.values("pk")})
    return scope


def scope_queryset(queryset: QS, user: Any, *, owner_field: str = "user", team_field: str = "team") -> QS:
    """Narrow ``queryset`` to the records ``user`` may see and edit (nothing for anonymous users)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    scope = record_scope(user, owner_field=owner_field, team_field=team_field)
    return queryset if scope is None else queryset.filter(scope)


def can_assign(user: User, *, salesperson: User | None, team_id: int | None) -> bool:
    """May ``user`` give a record to ``salesperson`` (None = unassigned) within team ``team_id``?

    Salespeople may take a record or leave it unassigned; team leaders may also give it to anyone in a
    team they lead; managers to anyone.
    """
    if user.sees_all_records or salesperson is None or salesperson.pk == user.pk:
        return True
    if user.role == "team_leader":
        led = set(user.led_teams.values_list("pk", flat=True))
        if team_id in led:
            return True
        return salesperson.team_memberships.filter(team_id__in=led, active=True).exists()
    return False


def assignable_users(user: User) -> QuerySet[User]:
    """The active people ``user`` may give a record to (the choices of a salesperson field).

    Mirrors :func:`can_assign`: managers anyone, team leaders themselves and the members of the teams
    they lead, salespeople only themselves. (A team leader may also give a record of a team they lead to
    someone outside it; pickers offer the usual people and the service accepts the rest.)
    """
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
    if user.sees_all_records:
        return users
    if user.role == "team_leader":
        members = users.filter(
            team_memberships__team__in=user.led_teams.values("pk"), team_memberships__active=True
        ).values("pk")
        return users.filter(Q(pk=user.pk) | Q(pk__in=members))
    return users.filter(pk=user.pk)
