"""The pipeline: the kanban board's reads, and the writes of its configuration (stage order, lost reasons).

Reads take a queryset already scoped and filtered (``Lead.objects.visible_to(user)`` then the
``LeadFilterSet``) and only narrow it. The board costs three queries whatever the number of records: the
stages, the column totals (one aggregate), and the first cards of every column (one query, compiled once
whatever the number of columns).

The column totals of a board filtered by team and/or salesperson only (the usual boards) are summed from the
running totals the database keeps (:mod:`pheu.leads.totals`), a few rows per stage, instead of from every
record; any other filter sums the records themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import Count, F, Model, OuterRef, Q, QuerySet, Subquery, Sum, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.accounts.permissions import scope_queryset
from pheu.core.exceptions import PermissionDeniedError
from pheu.core.validation import required_text_errors
from pheu.leads.choices import WonStatus
from pheu.leads.exceptions import LeadError
from pheu.leads.models import Lead, LostReason, PipelineTotal, Stage

CARDS_PER_COLUMN = 20
# Newest first: the order of the (stage, -created_at) index, so a column's first cards are read from it.
CARD_ORDER = ("-created_at", "-id")
# What a card shows (and its rotting needs): the rest of the wide lead row is not read.
CARD_FIELDS = (
    "name",
    "company_name",
    "contact_name",
    "expected_revenue",
    "probability",
    "rating",
    "priority",
    "won_status",
    "stage_id",
    "stage_changed_at",
    "created_at",
    "user__first_name",
    "user__last_name",
    "user__username",
    "partner__name",
)
# What a row of the pipeline list shows: the card's fields and a few more.
ROW_FIELDS = (*CARD_FIELDS, "customer_type", "expected_close_date", "stage__name", "stage__rotting_days")


# --- activities (the activities app adds `Lead.activities`; leads never import it) ----------------------
def has_activities() -> bool:
    try:
        Lead._meta.get_field("activities")
    except FieldDoesNotExist:
        return False
    return True


def with_next_activity(rows: QuerySet[Lead]) -> QuerySet[Lead]:
    """Annotate ``next_activity_date``: the earliest due date of the record's open activities (or None)."""
    if not has_activities():
        return rows
    # Read from the activities' table itself (not through a join back to the lead): a simpler plan.
    relation = Lead._meta.get_field("activities")
    activity = cast("type[Model]", relation.related_model)  # a class, not "self": the apps are loaded
    first_due = (
        activity._base_manager.filter(**{relation.field.name: OuterRef("pk"), "done_at__isnull": True})
        .order_by("due_date")
        .values("due_date")[:1]
    )
    return rows.annotate(next_activity_date=Subquery(first_due))


def with_activity_state(rows: QuerySet[Lead], state: str, today: dt.date) -> QuerySet[Lead]:
    """Narrow to the records with an open activity ``overdue`` (due before today), due ``today`` or
    ``planned`` (later); without the activities app, nothing has activities."""
    if not has_activities():
        return rows.none()
    due = {"overdue": Q(activities__due_date__lt=today), "today": Q(activities__due_date=today)}.get(
        state, Q(activities__due_date__gt=today)
    )
    matching = Lead.objects.filter(due, activities__done_at__isnull=True).values("pk")
    return rows.filter(pk__in=matching)


def activity_state(due: dt.date | None, today: dt.date) -> str:
    if due is None:
        return ""
    if due < today:
        return "overdue"
    return "today" if due == today else "planned"


# --- the board -------------------------------------------------------------------------------------------
@dataclass
class Column:
    """One column of the board: its stage (None: records without a stage), totals over every record of
    the filter in it, and its first cards."""

    stage: Stage | None
    count: int = 0
    expected_revenue: Decimal = Decimal(0)
    cards: list[Lead] = field(default_factory=list)

    @property
    def key(self) -> str:
        return str(self.stage.pk) if self.stage else "none"

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


Totals = dict[int | None, tuple[int, Decimal]]


@dataclass(frozen=True)
class TotalsScope:
    """A filter of active opportunities the running totals answer: what ``viewer`` may see, narrowed to a
    team and/or a salesperson (None: any)."""

    viewer: Any
    team_id: int | None = None
    salesperson_id: int | None = None


def column_totals(rows: QuerySet[Lead]) -> Totals:
    """Count and expected revenue of ``rows`` per stage id, in one aggregate query."""
    totals = rows.order_by().values("stage_id").annotate(count=Count("id"), revenue=Sum("expected_revenue"))
    return {row["stage_id"]: (row["count"], row["revenue"] or Decimal(0)) for row in totals}


def running_totals(scope: TotalsScope, stage_ids: Collection[int | None] | None = None) -> Totals:
    """Count and expected revenue per stage id of the active opportunities in ``scope`` (optionally of some
    stages only), in one aggregate query over the running totals; the same figures as :func:`column_totals`
    over those records."""
    rows = scope_queryset(PipelineTotal.objects.all(), scope.viewer)
    if scope.team_id is not None:
        rows = rows.filter(team_id=scope.team_id)
    if scope.salesperson_id is not None:
        rows = rows.filter(user_id=scope.salesperson_id)
    if stage_ids is not None:
        wanted = [pk for pk in stage_ids if pk is not None]
        rows = rows.filter(Q(stage_id__in=wanted) | (Q(stage__isnull=True) if None in stage_ids else Q()))
    sums = rows.order_by().values("stage_id").annotate(count=Sum("count"), revenue=Sum("expected_revenue"))
    return {row["stage_id"]: (row["count"], row["revenue"] or Decimal(0)) for row in sums if row["count"]}


def first_cards(rows: QuerySet[Lead], stage_ids: Sequence[int | None], per_column: int) -> list[Lead]:
    """The first ``per_column`` cards of each stage in ``stage_ids`` (in ``CARD_ORDER``), in one query.

    PostgreSQL: the ids are picked by one ``LIMIT`` per stage, joined ``LATERAL`` to the list of stages
    (each read from a stage index), and the cards are read by id. The filter is compiled and planned once
    whatever the number of columns (a ``UNION`` of one query per stage spent more time being compiled and
    planned than run). Elsewhere a window function ranks the cards of each stage.
    """
    if not stage_ids:
        return []
    if connection.vendor == "postgresql":  # the ids are of ``rows``: the cards are read by id only
        return list(_cards(Lead.objects.all()).filter(_first_ids(rows, stage_ids, per_column)))
    ranked = (
        _cards(rows)
        .filter(
            Q(stage_id__in=[pk for pk in stage_ids if pk is not None])
            | (Q(stage__isnull=True) if None in stage_ids else Q(pk__in=[]))
        )
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("stage_id")], order_by=[F("created_at").desc(), F("id").desc()]
            )
        )
    )
    return list(ranked.filter(rank__lte=per_column))


def _cards(rows: QuerySet[Lead]) -> QuerySet[Lead]:
    return with_next_activity(rows.select_related("user", "partner").only(*CARD_FIELDS).order_by(*CARD_ORDER))


def _first_ids(rows: QuerySet[Lead], stage_ids: Sequence[int | None], per_column: int) -> Q:
    """PostgreSQL: a condition on the ids of the first ``per_column`` records of each stage of ``rows``."""
    first = rows.order_by(*CARD_ORDER).values("pk")
    in_stage = first.filter(stage_id=RawSQL('"board_stage"."id"', ()))[:per_column]
    sql, params = in_stage.query.sql_with_params()
    ids = Q(
        pk__in=RawSQL(
            f'SELECT "card"."pk" FROM unnest(%s::bigint[]) AS "board_stage"("id") '
            f'CROSS JOIN LATERAL ({sql}) AS "card"',
            (sorted(pk for pk in stage_ids if pk is not None), *params),
        )
    )
    if None in stage_ids:
        ids |= Q(pk__in=first.filter(stage__isnull=True)[:per_column])
    return ids


def board(
    rows: QuerySet[Lead],
    stages: Iterable[Stage],
    *,
    per_column: int = CARDS_PER_COLUMN,
    now: dt.datetime | None = None,
    scope: TotalsScope | None = None,
) -> list[Column]:
    """The kanban columns of ``rows`` over ``stages`` (in order), plus a "no stage" column first when
    records of the filter have none. Cards carry ``activity_state`` and ``rotting``. With ``scope`` (the
    same records as ``rows``), the column totals come from the running totals."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    totals = running_totals(scope) if scope is not None else column_totals(rows)
    columns = [Column(stage=stage) for stage in stages]
    if None in totals:
        columns.insert(0, Column(stage=None))
    by_stage = {column.stage.pk if column.stage else None: column for column in columns}
    for stage_id, (count, revenue) in totals.items():
        if stage_id in by_stage:
            by_stage[stage_id].count, by_stage[stage_id].expected_revenue = count, revenue
    with_cards = [key for key, column in by_stage.items() if column.count]
    for card in first_cards(rows, with_cards, per_column):
        column = by_stage[card.stage_id]
        card.stage = column.stage  # already loaded: no query per card
        decorate(card, now=now, today=today)
        column.cards.append(card)
    for column in columns:
        column.cards.sort(key=lambda card: (card.created_at, card.pk), reverse=True)
    return columns


def decorate(card: Lead, *, now: dt.datetime, today: dt.date) -> Lead:
    """Set what a card shows beyond its fields: ``activity_state`` and ``rotting``."""
    card.activity_state = activity_state(getattr(card, "next_activity_date", None), today)  # type: ignore[attr-defined]  # card attributes the board template reads
    card.rotting = is_rotting(card, now=now)  # type: ignore[attr-defined]  # card attributes the board template reads
    return card


def is_rotting(lead: Lead, *, now: dt.datetime) -> bool:
    """Open and idle in its stage (no stage change) for longer than the stage's ``rotting_days``."""
    stage = lead.stage
    if stage is None or not stage.rotting_days or lead.won_status != WonStatus.OPEN:
        return False
    since = lead.stage_changed_at or lead.created_at
    return since is not None and now - since > dt.timedelta(days=stage.rotting_days)


def board_stages(team_id: int | None) -> QuerySet[Stage]:
    """The columns of a team's board: its stages and the shared ones; without a team, every stage."""
    stages = Stage.objects.select_related("team").order_by("sequence", "id")
    if team_id is None:
        return stages
    return stages.filter(Q(team_id=team_id) | Q(team__isnull=True))


# --- configuration writes ---------------------------------------------------------------------------
def _check_manager(actor: Any) -> None:
    if actor is not None and not getattr(actor, "manages_configuration", False):
        raise PermissionDeniedError(_("Only sales managers and administrators change the pipeline."))


@transaction.atomic
def reorder_stages(*, actor: Any, stage_ids: Sequence[int]) -> None:
    """Give the stages ``stage_ids`` the sequences 10, 20, 30… in that order (others keep theirs)."""
    _check_manager(actor)
    stages = Stage.objects.select_for_update().in_bulk(list(stage_ids))
    unknown = [pk for pk in stage_ids if pk not in stages]
    if unknown or len(set(stage_ids)) != len(stage_ids):
        raise LeadError(
            code=LeadError.Code.INVALID, field_errors={"stages": [_("Give each existing stage once.")]}
        )
    for position, pk in enumerate(stage_ids, start=1):
        stages[pk].sequence = position * 10
    Stage.objects.bulk_update(stages.values(), ["sequence"])


def _lost_reason_errors(values: Mapping[str, Any], current: LostReason | None) -> dict[str, list[str]]:
    errors = required_text_errors(values, {"name": _("Name")})
    name = (values.get("name") or "").strip()
    same_name = LostReason.objects.filter(name__iexact=name)
    if current is not None:
        same_name = same_name.exclude(pk=current.pk)
    if name and same_name.exists():
        errors["name"] = [_("A lost reason with this name exists already.")]
    return errors


@transaction.atomic
def create_lost_reason(*, actor: Any, values: Mapping[str, Any]) -> LostReason:
    """Create a lost reason (``name``, ``active``); names are unique whatever their case."""
    _check_manager(actor)
    if errors := _lost_reason_errors({"name": "", **values}, None):
        raise LeadError(code=LeadError.Code.INVALID, field_errors=errors)
    return LostReason.objects.create(name=values["name"].strip(), active=values.get("active", True))


@transaction.atomic
def update_lost_reason(*, actor: Any, lost_reason: LostReason, values: Mapping[str, Any]) -> LostReason:
    """Rename or archive a lost reason (records keep it; an archived one is no longer offered)."""
    _check_manager(actor)
    if errors := _lost_reason_errors(values, lost_reason):
        raise LeadError(code=LeadError.Code.INVALID, field_errors=errors)
    lost_reason = LostReason.objects.select_for_update().get(pk=lost_reason.pk)
    if "name" in values:
        lost_reason.name = values["name"].strip()
    if "active" in values:
        lost_reason.active = bool(values["active"])
    lost_reason.save()
    return lost_reason
