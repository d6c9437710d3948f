"""Scoring: rule points and page views, kept true by set-based SQL.

A lead's ``score`` is the sum of the points of the active scoring rules it matches (SPEC section 4). It is
kept in a narrow table of its own (:class:`~pheu.leads.models.LeadScore`) and written by one statement per
batch, ``UPDATE scores SET score = new FROM (SELECT id, Σ CASE WHEN rule THEN points ELSE 0 END AS new
FROM leads WHERE <batch>) WHERE score <> new``, so that a rule change writes only the scores that change, and
each of them rewrites a few bytes rather than the lead's whole row.

Every write path that changes leads calls :func:`refresh_leads` in its transaction with the ids it wrote
(the lead services, merge, won/lost and assignment through ``pheu.leads.services.steps.leads_changed``,
which ``pheu.scoring.lead_steps`` answers; imports directly); a rule change re-scores the open leads that
the rule matched before or matches now (:func:`rescore_open_leads` with a scope), in the background with
progress when the base is large.

The predictive model, its samples, rebuilds and predictions are :mod:`pheu.scoring.services.prediction`;
:func:`refresh_leads` keeps its samples true.
"""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.db.models.expressions import Expression
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.core.models import PheuSettings
from pheu.core.rows import sql_on_tables
from pheu.core.validation import required_text_errors
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead, LeadScore
from pheu.leads.rules_schema import lead_facts
from pheu.lib.emails import email_key
from pheu.rules import Domain, DomainError, clean_domain
from pheu.scoring.exceptions import ScoringError
from pheu.scoring.models import PageView, RescoreRun, ScoringRule
from pheu.scoring.services.prediction import refresh_samples

# Re-scoring goes through the open leads in id ranges of this size: one statement each.
BATCH_SIZE = 50_000
# Above this many open leads, a rule change re-scores in the background, with progress.
BACKGROUND_THRESHOLD = 20_000
RULE_FIELDS: tuple[str, ...] = ("name", "domain", "points", "window_days", "active", "sequence")
MAX_POINTS = 1_000_000


# --- rules, compiled ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledRule:
    """A scoring rule ready for SQL and for Python evaluation (parsed once per change of the rule)."""

    id: int
    name: str
    points: int
    window_days: int | None
    domain: Domain

    def since(self, now: datetime) -> datetime | None:
        return now - timedelta(days=self.window_days) if self.window_days else None

    def q(self, now: datetime, ids: tuple[int, int] | None = None) -> Q:
        """The rule's condition on leads. A condition that needs a join (a field of the partner…) becomes
        ``id IN (…)``, since an UPDATE takes no join; the others stay plain columns and ``IN`` sets.

        ``ids``: the half-open id range of a batch that the statement is limited to — its sets (tags, page
        views, joined leads) are then computed for that range only."""
        q = self.domain.to_q(since=self.since(now), ids=ids)
        if _needs_join(q):
            joined = Lead._base_manager.filter(q)
            if ids is not None:
                joined = joined.filter(pk__gte=ids[0], pk__lt=ids[1])
            q = Q(pk__in=joined.values("pk"))
        return q


def _needs_join(q: Q) -> bool:
    """Whether ``q`` reads another table through a join (Django keeps trimmed joins in ``alias_map`` with
    no reference: only the referenced aliases count)."""
    query = Lead._base_manager.filter(q).query
    return sum(1 for alias in query.alias_map if query.alias_refcount[alias]) > 1


# Parsed domains by rule, save time and text: a stored rule is parsed again only when it is saved, so that
# scoring one lead costs one query for the rules, not the lookups of the names they contain (points and
# window are read fresh each time). Keys of rules no longer active are dropped at each load. Names in a rule
# were resolved to ids when it was parsed: renaming a tag it names is seen at the rule's next save.
_PARSED: dict[tuple[int, Any, str], Domain] = {}
_PARSED_LOCK = threading.Lock()


# The active rules as last read by this process, with the settings' ``scoring_rules_stamp`` of that time.
_ACTIVE: tuple[uuid.UUID, tuple[CompiledRule, ...]] | None = None


def rules_changed() -> None:
    """After a write of scoring rules, in its transaction: draw a new ``scoring_rules_stamp``, so that every
    process reads the active rules again at its next creation of a lead. The rule services call it (the
    admin writes through them); a loader writing rules itself (the demo) calls it too."""
    PheuSettings.objects.filter(pk=1).update(scoring_rules_stamp=uuid.uuid4())


def active_rules(stamp: uuid.UUID | None = None) -> list[CompiledRule]:
    """The active rules, compiled (one query). A stored rule that no longer parses counts for nothing and
    is reported on the rules page.

    ``stamp``: the ``scoring_rules_stamp`` of settings just read; while it is the one of this process's
    last read, the rules are not read again (no query). Every write of rules draws a new stamp
    (:func:`rules_changed`); a rule written around the services (a shell, a test) is seen once it does."""
    global _ACTIVE
    cached = _ACTIVE
    if stamp is not None and cached is not None and cached[0] == stamp:
        return list(cached[1])
    rows = list(
        ScoringRule.objects.filter(active=True)
        .order_by("sequence", "id")
        .values_list("id", "name", "points", "window_days", "domain", "updated_at")
    )
    compiled: list[CompiledRule] = []
    with _PARSED_LOCK:
        keys = {(pk, updated, text) for pk, _n, _p, _w, text, updated in rows}
        for key in [key for key in _PARSED if key not in keys]:
            del _PARSED[key]
        for pk, name, points, window_days, text, updated in rows:
            domain = _PARSED.get((pk, updated, text))
            if domain is None:
                try:
                    domain = clean_domain(text, "lead").domain
                except DomainError:
                    continue
                _PARSED[(pk, updated, text)] = domain
            compiled.append(CompiledRule(pk, name, points, window_days, domain))
    if stamp is not None:
        _ACTIVE = (stamp, tuple(compiled))
    return compiled


def score_expression(
    rules: Sequence[CompiledRule], now: datetime | None = None, ids: tuple[int, int] | None = None
) -> Expression:
    """``Σ CASE WHEN rule THEN points ELSE 0 END`` over ``rules`` (0 when there is none); ``ids``: for a
    statement limited to that id range (see :meth:`CompiledRule.q`)."""
    now = now or timezone.now()
    terms: list[Any] = [
        Case(When(rule.q(now, ids), then=Value(rule.points)), default=Value(0), output_field=IntegerField())
        for rule in rules
        if rule.points
    ]
    if not terms:
        return Value(0, output_field=IntegerField())
    total: Expression = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _write_scores(leads: Any, expression: Expression, ids: tuple[int, int] | None = None) -> int:
    """Set the score of the leads of the queryset ``leads`` to ``expression`` where it differs: one UPDATE
    of the narrow score table (:class:`~pheu.leads.models.LeadScore`) from the leads' new scores, which
    writes only the rows that change. ``ids``: the id range ``leads`` lies in, so that only that range of
    the score table is read. Returns how many changed."""
    select, params = (
        leads.order_by().annotate(new_score=expression).values_list("id", "new_score").query.sql_with_params()
    )
    table = connection.ops.quote_name(LeadScore._meta.db_table)
    within = ""
    if ids is not None:
        within = " AND s.lead_id >= %s AND s.lead_id < %s"
        params = (*params, *ids)
    if connection.vendor == "postgresql":
        # MATERIALIZED: each new score computed once. Inlined, the planner computes the rules' sum twice
        # per lead (for SET and for the comparison).
        prefix, source = f"WITH c AS MATERIALIZED ({select}) ", "c"
    else:  # SQLite reports no row count for a statement that starts with WITH
        prefix, source = "", f"({select}) AS c"
    sql = (
        f"{prefix}UPDATE {table} AS s SET score = c.new_score FROM {source} "
        f"WHERE s.lead_id = c.id AND s.score <> c.new_score{within}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: int = cursor.rowcount
        return rows


# --- keeping scores true ------------------------------------------------------------------------------
def refresh_leads(*, lead_ids: Collection[int] | QuerySet[Any], outcome_may_change: bool = True) -> int:
    """Re-score ``lead_ids`` and keep the predictive model's samples of them true (won, lost, restored,
    fields of closed records changed). Call it in the transaction that wrote them, after the writes.

    ``lead_ids`` may be a queryset of ids (``….values("lead_id")``): it is used as a subquery, so that a
    batch of any size never becomes a list of ids in the SQL.

    Queries: the rules and one UPDATE (+ a few for the model when ``outcome_may_change``), whatever the
    number of ids. Closed and inactive records keep the score they had when they closed. Returns how many
    scores changed.
    """
    if isinstance(lead_ids, QuerySet):
        if outcome_may_change:
            found = Lead.objects.filter(pk__in=lead_ids).values_list("pk", flat=True)
            return refresh_leads(lead_ids=list(found), outcome_may_change=True)
        return _write_scores(
            Lead.objects.filter(pk__in=lead_ids, won_status=WonStatus.OPEN, active=True),
            score_expression(active_rules()),
        )
    ids = list(lead_ids)
    if not ids:
        return 0
    changed = _write_scores(
        Lead.objects.filter(pk__in=ids, won_status=WonStatus.OPEN, active=True),
        score_expression(active_rules()),
    )
    if outcome_may_change:
        refresh_samples(lead_ids=ids)
    return changed


def staged_scores_sql(*, tables: Mapping[str, str]) -> tuple[str, tuple[Any, ...]]:
    """The ``SELECT id, new_score`` of leads not stored yet — rows of stand-in tables of the lead table's
    columns (an import's staging table: ``tables``, see :func:`pheu.core.rows.sql_on_tables`) — scored as
    :func:`refresh_leads` scores stored ones: the open, active rows, by the active rules. Raises
    :class:`~pheu.core.rows.ReadsRealTable` when a rule reads the lead table in a subquery."""
    leads = Lead.objects.filter(won_status=WonStatus.OPEN, active=True).order_by()
    select = leads.annotate(new_score=score_expression(active_rules())).values_list("id", "new_score")
    return sql_on_tables(select, tables)


def rules_depend_on(fields: Collection[str]) -> bool:
    """Whether some active scoring rule reads one of the lead ``fields`` (canonical names of the lead
    schema: "team", "user", "stage"…): a writer that changes only other fields needs no re-scoring."""
    from pheu.rules.nodes import conditions

    wanted = set(fields)
    return any(
        cond.target is not None and cond.target.steps[0].name in wanted
        for rule in active_rules()
        if rule.points
        for cond in conditions(rule.domain.tree)
    )


def score_unsaved_lead(lead: Lead, *, tags: Iterable[Any] = (), rules_stamp: uuid.UUID | None = None) -> int:
    """The score of a lead about to be created, from its field values and ``tags`` (it has no page views
    yet): Python evaluation of the active rules (read again only when ``rules_stamp``, the settings'
    ``scoring_rules_stamp``, changed). The rule language's tests hold evaluation and SQL equal."""
    facts = lead_facts(lead, tags=list(tags), pageviews=())
    return sum(rule.points for rule in active_rules(rules_stamp) if rule.domain.evaluate(facts))


def store_new_score(lead: Lead) -> None:
    """Write the score given to ``lead`` (:func:`score_unsaved_lead`) once it is inserted; the insert's
    trigger made its row with 0, so a score of 0 costs no query."""
    if lead.score:
        table = connection.ops.quote_name(LeadScore._meta.db_table)
        with connection.cursor() as cursor:  # on every creation: the ORM's UPDATE cost ≈ 0.25 ms to compile
            cursor.execute(f"UPDATE {table} SET score = %s WHERE lead_id = %s", [lead.score, lead.pk])


def score_of(lead_id: int) -> int:
    return LeadScore.objects.values_list("score", flat=True).get(pk=lead_id)


@dataclass(frozen=True)
class RescoreResult:
    checked: int
    changed: int


@dataclass(frozen=True)
class RescoreOutcome:
    """What a rule change (or "re-score all") did to the open leads: re-scored at once (``checked`` and
    ``changed``), or in the background (``run``, to follow)."""

    changed: int | None = None
    checked: int | None = None
    run: RescoreRun | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.run is not None:
            return {
                "background": True,
                "run": self.run.pk,
                "status": self.run.status,
                "percent": self.run.percent,
            }
        return {"background": False, "changed": self.changed}


def rule_scope(rule: ScoringRule | None) -> list[dict[str, Any]]:
    """The part of a rule that decides which leads it can change: its condition while it is active and
    worth points (nothing otherwise). For :func:`rescore_open_leads`' ``scope``."""
    if rule is None or not rule.active or not rule.points:
        return []
    return [{"domain": rule.domain, "window_days": rule.window_days}]


def _scope_q(scope: Sequence[Mapping[str, Any]], now: datetime) -> Q | None:
    """The leads matching any condition of ``scope``; None when one of them no longer parses (then every
    open lead is checked)."""
    condition = Q(pk__in=[])
    for part in scope:
        try:
            domain = clean_domain(part["domain"], "lead").domain
        except DomainError:
            return None
        condition |= CompiledRule(0, "", 1, part.get("window_days"), domain).q(now)
    return condition


def rescore_open_leads(
    *,
    progress: Callable[[int, int], None] | None = None,
    run: RescoreRun | None = None,
    scope: Sequence[Mapping[str, Any]] | None = None,
) -> RescoreResult:
    """Re-score every open, active lead: one UPDATE per id range holding about ``BATCH_SIZE`` of them, each
    writing only the scores that change, each committed on its own (a crash leaves true scores behind, and
    running it again finishes the work: it is idempotent). ``progress(done, total)`` is told after each
    batch (in leads), and so is ``run`` (its ``total``/``done``/``changed``).

    ``scope`` (else ``run.scope``): after one rule changed, the conditions of that rule before and after
    (:func:`rule_scope`). Only the leads matching one of them can change score, so only they are
    evaluated — a rule on 10% of the base costs about 10% of a full re-score. Scores that drifted
    otherwise (page views aged out of a window) are left to the nightly :func:`rescore_decayed`.
    """
    now = timezone.now()
    if scope is None and run is not None and run.scope:
        scope = run.scope
    open_leads = Lead.objects.filter(won_status=WonStatus.OPEN, active=True)
    if scope is not None:
        condition = _scope_q(scope, now)
        if condition is not None:
            open_leads = open_leads.filter(condition)
    bounds = open_leads.aggregate(low=Min("id"), high=Max("id"))
    total = open_leads.count()
    if run is not None:
        RescoreRun.objects.filter(pk=run.pk).update(status=RescoreRun.Status.RUNNING, total=total)
    rules = active_rules()
    done = changed = 0
    if bounds["low"] is not None:
        # Id ranges holding about BATCH_SIZE of the leads to check: where they are few among the ids (a
        # rule's scope, a base of mostly closed records), the ranges are wider and fewer. Each statement
        # computes the rules' to-many sets (tags, page views) for its own range only: the batches of a whole
        # base read those tables once in all.
        span = max(BATCH_SIZE, math.ceil(BATCH_SIZE * (bounds["high"] - bounds["low"] + 1) / max(total, 1)))
        start = bounds["low"]
        while start <= bounds["high"]:
            stop = start + span
            batch = open_leads.filter(pk__gte=start, pk__lt=stop)
            with transaction.atomic():
                span_ids = (start, stop)
                changed += _write_scores(batch, score_expression(rules, now, ids=span_ids), span_ids)
            done = min(total, done + batch.count()) if progress or run else done
            if run is not None:
                RescoreRun.objects.filter(pk=run.pk).update(done=done, changed=changed)
            if progress is not None:
                progress(done, total)
            start = stop
    if run is not None:
        RescoreRun.objects.filter(pk=run.pk).update(
            status=RescoreRun.Status.DONE, done=total, changed=changed, finished_at=timezone.now()
        )
    return RescoreResult(checked=total, changed=changed)


def schedule_rescore(
    *, actor: Any, reason: str, scope: Sequence[Mapping[str, Any]] | None = None
) -> RescoreOutcome:
    """After a rule change: re-score the open leads (``scope``: see :func:`rescore_open_leads`) now when
    the base is small, otherwise in the background (after the transaction commits) with a ``RescoreRun``
    to follow."""
    if scope is not None and not scope:
        return RescoreOutcome(changed=0, checked=0)  # the rule gave no points before and gives none now
    open_count = Lead.objects.filter(won_status=WonStatus.OPEN, active=True).count()
    if open_count <= BACKGROUND_THRESHOLD:
        result = rescore_open_leads(scope=scope)
        return RescoreOutcome(changed=result.changed, checked=result.checked)
    run = RescoreRun.objects.create(
        reason=reason[:200], created_by=actor if _is_user(actor) else None, scope=list(scope or [])
    )

    def enqueue() -> None:
        from pheu.scoring.tasks import rescore_task

        rescore_task.enqueue(run.pk)

    transaction.on_commit(enqueue)
    return RescoreOutcome(run=run)


def run_rescore(*, run_id: int) -> RescoreResult:
    """Do the re-scoring of the run ``run_id`` (queued by :func:`schedule_rescore`; ``rescore_task``).
    Idempotent: a run already done (or gone) is not done again, and nothing is checked. A failure marks the
    run failed with its error, for the page that follows it, and is raised again."""
    run = RescoreRun.objects.filter(pk=run_id).first()
    if run is None or run.status == RescoreRun.Status.DONE:
        return RescoreResult(checked=0, changed=0)
    try:
        return rescore_open_leads(run=run)
    except Exception as exc:
        RescoreRun.objects.filter(pk=run_id).update(
            status=RescoreRun.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


# --- rules: writes ------------------------------------------------------------------------------------
def _check_rule(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors = required_text_errors({"name": "", **values} if creating else values, {"name": _("Name")})
    clean: dict[str, Any] = {k: v for k, v in values.items() if k in RULE_FIELDS}
    if "domain" in values:
        try:
            clean["domain"] = clean_domain(values["domain"], "lead").text
        except DomainError as exc:
            errors["domain"] = exc.messages  # worded per term, as POST domains/validate/ gives them
    if creating and values.get("points") is None:
        errors["points"] = [_("Give the points (negative to take points away).")]
    points = values.get("points")
    if points is not None and (not isinstance(points, int) or isinstance(points, bool)):
        errors["points"] = [_("The points are a whole number.")]
    elif points is not None and abs(points) > MAX_POINTS:
        errors["points"] = [_("The points are between -%(max)s and %(max)s.") % {"max": MAX_POINTS}]
    window = values.get("window_days")
    if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window < 1):
        errors["window_days"] = [_("A number of days, at least 1 (or empty: all the history).")]
    if errors:
        raise ScoringError(code=ScoringError.Code.INVALID, field_errors=errors)
    for name in ("name",):
        if isinstance(clean.get(name), str):
            clean[name] = clean[name].strip()
    return clean


@transaction.atomic
def create_scoring_rule(*, actor: Any, values: Mapping[str, Any]) -> tuple[ScoringRule, RescoreOutcome]:
    """Create a rule and re-score the open leads (now, or in the background on a large base)."""
    rule = ScoringRule(**_check_rule(values, creating=True))
    rule.save()
    rules_changed()
    reason = _("Rule “%(name)s” created") % {"name": rule.name}
    return rule, schedule_rescore(actor=actor, reason=reason, scope=rule_scope(rule))


@transaction.atomic
def update_scoring_rule(
    *, actor: Any, rule: ScoringRule, values: Mapping[str, Any]
) -> tuple[ScoringRule, RescoreOutcome]:
    """Change a rule (activate or deactivate it too) and re-score the open leads if scores may change."""
    clean = _check_rule(values, creating=False)
    rule = ScoringRule.objects.select_for_update().get(pk=rule.pk)
    scoring_before = (rule.domain, rule.points, rule.window_days, rule.active)
    scope_before = rule_scope(rule)
    for name, value in clean.items():
        setattr(rule, name, value)
    rule.save()
    rules_changed()
    if (rule.domain, rule.points, rule.window_days, rule.active) == scoring_before:
        return rule, RescoreOutcome(changed=0, checked=0)
    reason = _("Rule “%(name)s” changed") % {"name": rule.name}
    return rule, schedule_rescore(actor=actor, reason=reason, scope=[*scope_before, *rule_scope(rule)])


@transaction.atomic
def delete_scoring_rule(*, actor: Any, rule: ScoringRule) -> RescoreOutcome:
    """Delete a rule; the points it gave are taken back from the open leads."""
    rule = ScoringRule.objects.select_for_update().get(pk=rule.pk)
    scope = rule_scope(rule)
    ScoringRule.objects.filter(pk=rule.pk).delete()
    rules_changed()
    return schedule_rescore(
        actor=actor, reason=_("Rule “%(name)s” deleted") % {"name": rule.name}, scope=scope
    )


def save_scoring_rule(
    *, actor: Any, rule: ScoringRule | None, values: Mapping[str, Any]
) -> tuple[ScoringRule, RescoreOutcome]:
    """Create (``rule`` None) or change a rule: what the pages and the API call."""
    if rule is None:
        return create_scoring_rule(actor=actor, values=values)
    return update_scoring_rule(actor=actor, rule=rule, values=values)


# --- what a rule would do -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleImpact:
    """What saving a rule would do to the open leads: how many it matches, and how many scores change."""

    matching: int
    changed: int
    raised: int
    lowered: int


def rule_impact(
    *, domain_text: str | Sequence[Any] | None, points: int, window_days: int | None, rule: ScoringRule | None
) -> RuleImpact:
    """Count, for the open leads, what saving ``rule`` (None: a new rule) with these values would change.
    Reads only; raises :class:`DomainError` for a bad domain. Two aggregate queries."""
    domain = clean_domain(domain_text, "lead").domain
    now = timezone.now()
    others = [r for r in active_rules() if rule is None or r.id != rule.id]
    new = CompiledRule(0, "", points, window_days, domain)
    open_leads = Lead.objects.filter(won_status=WonStatus.OPEN, active=True)
    matching = open_leads.filter(new.q(now)).count()
    if not points and rule is None:  # a new rule worth nothing changes nothing (an edited one may)
        return RuleImpact(matching, 0, 0, 0)
    after = score_expression([*others, new], now)
    counted = open_leads.alias(new_score=after).aggregate(
        raised=_count_if(Q(new_score__gt=F("score_row__score"))),
        lowered=_count_if(Q(new_score__lt=F("score_row__score"))),
    )
    return RuleImpact(matching, counted["raised"] + counted["lowered"], counted["raised"], counted["lowered"])


def _count_if(q: Q) -> Any:
    from django.db.models import Count

    return Count("pk", filter=q)


# --- explaining a score -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatchedRule:
    id: int
    name: str
    points: int
    explanation: str


@dataclass(frozen=True)
class ScoreExplanation:
    """Why a lead has its score: the active rules it matches now and their points (``total`` is their sum;
    ``stored`` is the score written on the record — equal unless it is closed, which keeps its score)."""

    total: int
    stored: int
    matched: tuple[MatchedRule, ...]


def explain_score(lead: Lead) -> ScoreExplanation:
    """The active rules ``lead`` matches, with their points: one query for the rules, one for the test of
    every rule on this lead (in SQL, as scoring does)."""
    rules = [rule for rule in active_rules() if rule.points]
    now = timezone.now()
    flags: dict[str, bool] = {}
    if rules:
        annotations = {
            f"r{rule.id}": Case(When(rule.q(now), then=Value(True)), default=Value(False)) for rule in rules
        }
        flags = Lead._base_manager.filter(pk=lead.pk).annotate(**annotations).values(*annotations).get()
    matched = tuple(
        MatchedRule(rule.id, rule.name, rule.points, rule.domain.explain())
        for rule in rules
        if flags.get(f"r{rule.id}")
    )
    return ScoreExplanation(total=sum(m.points for m in matched), stored=lead.score, matched=matched)


# --- page views ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageViewInput:
    url: str
    lead_id: int | None = None
    email: str = ""
    visitor_id: str = ""
    viewed_at: datetime | None = None


MAX_URL = 2000
MAX_VISITOR_ID = 100
MAX_EMAIL = 254  # PageView.email_normalized
EARLIEST_PAGEVIEW = datetime(2000, 1, 1, tzinfo=UTC)


@transaction.atomic
def record_pageview(*, view: PageViewInput) -> PageView:
    """Record one page view, keyed by lead, e-mail or visitor id (at least one), and re-score its lead.

    The lead is the given one, else the visitor's (a visitor id already linked to a lead), else the most
    recent active record with that e-mail; otherwise the view waits, anonymous, to be linked
    (a lead created with that e-mail, or from a web form sent by that visitor: :func:`link_pageviews`).
    """
    errors: dict[str, list[str]] = {}
    url = (view.url or "").strip()
    if not url:
        errors["url"] = [_("Give the address of the page.")]
    elif len(url) > MAX_URL:
        errors["url"] = [_("The address is longer than %(max)s characters.") % {"max": MAX_URL}]
    visitor = (view.visitor_id or "").strip()
    if len(visitor) > MAX_VISITOR_ID:
        errors["visitor_id"] = [
            _("The visitor ID is longer than %(max)s characters.") % {"max": MAX_VISITOR_ID}
        ]
    email = email_key(view.email)
    if len(email) > MAX_EMAIL:
        errors["email"] = [_("The e-mail is longer than %(max)s characters.") % {"max": MAX_EMAIL}]
    if view.lead_id is None and not email and not visitor:
        errors["lead"] = [_("Give the lead, the e-mail or the visitor ID of the page view.")]
    if view.viewed_at is not None and not (
        EARLIEST_PAGEVIEW <= view.viewed_at <= timezone.now() + timedelta(days=1)
    ):
        # Found by the schema fuzzer: a view in year 459 was stored, and written back with the local
        # mean time of the day (+07:06:30), which is no ISO 8601 offset.
        errors["viewed_at"] = [_("A page view happens between 2000 and now.")]
    lead_id = view.lead_id
    if lead_id is not None and not Lead.objects.filter(pk=lead_id).exists():
        errors["lead"] = [_("There is no lead %(id)s.") % {"id": lead_id}]
    if errors:
        raise ScoringError(code=ScoringError.Code.INVALID, field_errors=errors)
    if lead_id is None and visitor:
        lead_id = (
            PageView.objects.filter(visitor_id=visitor, lead__isnull=False)
            .order_by("-created_at")
            .values_list("lead_id", flat=True)
            .first()
        )
    if lead_id is None and email:
        lead_id = (
            Lead.objects.filter(email_normalized=email, active=True)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
    pageview = PageView(
        lead_id=lead_id,
        url=url,
        visitor_id=visitor,
        email_normalized=email if lead_id is None else "",
        created_at=view.viewed_at or timezone.now(),
    )
    pageview.save()
    if lead_id is not None:
        refresh_leads(lead_ids=[lead_id], outcome_may_change=False)
    return pageview


def waiting_pageviews(*, email_normalized: str, visitor_id: str = "") -> list[int]:
    """The anonymous page views waiting for a lead about to be created: recorded under its normalised
    e-mail or, when a visitor sends it through a web form, under the visitor's id (the tracking snippet's
    cookie). Their ids; one query (none without a key). Read inside the creating transaction, before the
    insert: a creation without any decides its score and assignment on the instance."""
    visitor = (visitor_id or "").strip()[:MAX_VISITOR_ID]
    keys, params = [], []
    if email_normalized:
        keys.append("email_normalized = %s")
        params.append(email_normalized)
    if visitor:
        keys.append("visitor_id = %s")
        params.append(visitor)
    if not keys:
        return []
    table = connection.ops.quote_name(PageView._meta.db_table)
    with connection.cursor() as cursor:  # on every creation: the ORM's form cost ≈ 0.3 ms to compile
        cursor.execute(f"SELECT id FROM {table} WHERE lead_id IS NULL AND ({' OR '.join(keys)})", params)
        return [pk for (pk,) in cursor.fetchall()]


def link_pageviews(*, lead: Lead, pageview_ids: Collection[int]) -> int:
    """Give a new ``lead`` the page views that waited for it (:func:`waiting_pageviews`) and re-score it;
    how many. No query without any."""
    if not pageview_ids:
        return 0
    linked = PageView.objects.filter(pk__in=pageview_ids, lead__isnull=True).update(
        lead=lead, email_normalized=""
    )
    if linked:
        refresh_leads(lead_ids=[lead.pk], outcome_may_change=False)
        lead.score = score_of(lead.pk)
    return linked


# --- decay --------------------------------------------------------------------------------------------
def rescore_decayed() -> RescoreResult:
    """The nightly job: re-score the open leads when a rule counts only recent behaviour (their points fall
    as page views age out). A no-op without such rules."""
    if not ScoringRule.objects.filter(active=True, window_days__isnull=False).exists():
        return RescoreResult(0, 0)
    return rescore_open_leads()
