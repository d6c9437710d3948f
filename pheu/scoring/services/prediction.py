"""The predictive probability: naive Bayes with Laplace smoothing over the won/lost history, per team.

- A closed record (won or lost, not merged away) teaches the model the values of its variables
  (``PREDICTIVE_FIELDS``): its stage — for a won record every non-won stage of its pipeline, for a lost one
  the stages up to the one it was lost in, as it went through them —, country, state, source, language, tags,
  and the quality of its e-mail and phone (none / invalid / valid). One SQL expression computes these
  *features* for any set of records, on PostgreSQL and SQLite alike; a record being created has its
  features computed in Python on the instance (:func:`features_of_unsaved`), held equal to it by a test.
- ``ModelSample`` keeps each closed record's features as counted; ``Frequency`` is their sum by team,
  variable and value. :func:`refresh_samples` (called by every write path through
  ``scoring.services.refresh_leads``) updates both by difference, so that the incremental tables always equal
  a :func:`rebuild_model`, which recomputes both in set-based SQL.
- An open record's probability: ``P(won) ∝ P(won) · Π P(value | won)`` over the chosen variables, with
  ``P(value | won) = (won_v + 1) / (won + k)`` (``k``: the variable's number of values in the team); values no
  record of the team had are left out. A team without history uses every team's. The factors that raised and
  lowered it most are each value's log-likelihood ratio.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pheu.core.models import PREDICTIVE_FIELDS, PheuSettings
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead, Stage
from pheu.scoring.features import CLOSED, decode_features, encode_features, features_sql, frequencies_sql
from pheu.scoring.models import Frequency, ModelSample, ModelState, RebuildStatus

VARIABLE_LABELS: dict[str, Any] = {
    "stage": gettext_lazy("Stage"),
    "country": gettext_lazy("Country"),
    "state": gettext_lazy("State / province"),
    "source": gettext_lazy("Source"),
    "language": gettext_lazy("Language"),
    "tags": gettext_lazy("Tag"),
    "email_quality": gettext_lazy("E-mail"),
    "phone_quality": gettext_lazy("Phone"),
}
QUALITY_LABELS: dict[str, Any] = {
    "none": gettext_lazy("none"),
    "invalid": gettext_lazy("not valid"),
    "valid": gettext_lazy("valid"),
}
PREDICT_BATCH = 5_000
REBUILD_WORK_MEM = "64MB"  # PostgreSQL work_mem of a model rebuild's transaction
# Closed records above which a rebuild asked from a page or the API runs in the background (a rebuild of
# 1,000,000 takes about twenty seconds, longer than a web request may last); a queued rebuild that has not
# finished after REBUILD_STALE (no worker running) may be asked for again.
REBUILD_BACKGROUND_THRESHOLD = 20_000
REBUILD_STALE = timedelta(hours=1)
TOTAL = ("", "")  # the (variable, value) of a team's total counts


def closed_records() -> QuerySet[Lead]:
    """The records the model learns from: won or lost, not merged into another (``CLOSED`` in SQL)."""
    return Lead.objects.filter(won_status__in=[WonStatus.WON, WonStatus.LOST], merged_into__isnull=True)


@dataclass(frozen=True)
class Sample:
    lead_id: int
    team_key: int
    won: bool
    features: Mapping[str, list[str]]


def features_of(lead_ids: Collection[int], *, closed_only: bool) -> dict[int, Sample]:
    """The features of the records ``lead_ids`` as the model sees them now (one query). With
    ``closed_only``, only the records that teach the model (closed, not merged away)."""
    if not lead_ids:
        return {}
    ids = list(lead_ids)
    where = f"l.id IN ({', '.join(['%s'] * len(ids))})"
    if closed_only:
        where += f" AND {CLOSED}"
    features = features_sql(connection.vendor)
    sql = (
        f"SELECT l.id, COALESCE(l.team_id, 0), l.won_status, {features.expression} "
        f"FROM {features.from_clause} WHERE {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    return {
        pk: Sample(pk, team, status == WonStatus.WON, decode_features(features))
        for pk, team, status, features in rows
    }


# --- samples and frequencies --------------------------------------------------------------------------
def _counts(samples: Iterable[Sample], sign: int, into: Counter[tuple[int, str, str, bool]]) -> None:
    for sample in samples:
        into[(sample.team_key, *TOTAL, sample.won)] += sign
        for variable, values in sample.features.items():
            for value in values:
                into[(sample.team_key, variable, value, sample.won)] += sign


# Ids per statement when refreshing many records (an import, a batch assignment).
REFRESH_CHUNK = 5_000


def refresh_samples(*, lead_ids: Collection[int]) -> int:
    """Bring the model's samples of ``lead_ids`` and the frequency tables up to date with the records:
    records closed, reopened, merged away, or changed while closed. A constant number of queries per
    ``REFRESH_CHUNK`` ids (two when nothing changed). Returns how many samples changed. Call inside the
    writing transaction."""
    ids = list(lead_ids)
    return sum(_refresh_chunk(ids[i : i + REFRESH_CHUNK]) for i in range(0, len(ids), REFRESH_CHUNK))


def _refresh_chunk(ids: list[int]) -> int:
    old = {
        row.lead_id: Sample(row.lead_id, row.team_key, row.won, decode_features(row.features))
        for row in ModelSample.objects.filter(lead_id__in=ids)
    }
    new = features_of(ids, closed_only=True)
    gone = [old[pk] for pk in old if pk not in new or new[pk] != old[pk]]
    came = [new[pk] for pk in new if pk not in old or old[pk] != new[pk]]
    if not gone and not came:
        return 0
    deltas: Counter[tuple[int, str, str, bool]] = Counter()
    _counts(gone, -1, deltas)
    _counts(came, +1, deltas)
    ModelSample.objects.filter(lead_id__in=[s.lead_id for s in gone]).delete()
    ModelSample.objects.bulk_create(
        ModelSample(lead_id=s.lead_id, team_key=s.team_key, won=s.won, features=encode_features(s.features))
        for s in came
    )
    _add_frequencies(deltas)
    ModelState.objects.filter(pk=1).update(version=F("version") + 1)
    if not ModelState.objects.filter(pk=1).exists():
        ModelState.objects.create(pk=1, version=1)
    return len(set(s.lead_id for s in (*gone, *came)))


def _add_frequencies(deltas: Counter[tuple[int, str, str, bool]]) -> None:
    rows: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (team, variable, value, won), delta in deltas.items():
        if delta:
            rows[(team, variable, value)][0 if won else 1] += delta
    table = Frequency._meta.db_table
    sql = (
        f"INSERT INTO {table} (team_key, variable, value, won, lost) VALUES (%s, %s, %s, %s, %s) "
        f"ON CONFLICT (team_key, variable, value) DO UPDATE SET "
        f"won = {table}.won + excluded.won, lost = {table}.lost + excluded.lost"
    )
    params = [(team, variable, value, won, lost) for (team, variable, value), (won, lost) in rows.items()]
    if params:
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


@dataclass(frozen=True)
class RebuildResult:
    samples: int
    won: int
    lost: int
    auc: float | None
    auc_samples: int


def rebuild_model(*, progress: Callable[[str], None] | None = None) -> RebuildResult:
    """Recompute the samples and frequency tables from every closed record in set-based SQL (one INSERT …
    SELECT for the samples, one grouped INSERT for the frequencies and the totals), then measure the model
    on history (AUC on the most recently closed 20%, at most 50,000) and mark every open record's
    prediction for refresh. All or nothing."""
    samples, frequencies = ModelSample._meta.db_table, Frequency._meta.db_table
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        if progress:
            progress(_("Reading the won and lost records"))
        if vendor == "postgresql":
            # The tags of every record and the frequencies' groups are hashed in memory: with the default
            # 4 MB PostgreSQL sorts or spills instead, several times slower on a large history.
            cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'", [])
        # Parameters are always given (empty), so that "%%" in the SQL reads as "%" on every backend.
        if vendor == "postgresql":
            # Emptied at once rather than row by row (and no million dead rows left behind); the lock it
            # takes makes incremental updates wait for the rebuild, which would overwrite them anyway.
            cursor.execute(f"TRUNCATE {frequencies}, {samples}", [])
        else:
            cursor.execute(f"DELETE FROM {frequencies}", [])
            cursor.execute(f"DELETE FROM {samples}", [])
        features = features_sql(vendor, whole_base=True)
        # In key order: the primary key's index is appended to rather than split at random places (on
        # 1,000,000 records: 16.0 → 13.7 s for this statement).
        cursor.execute(
            f"{features.with_clause}INSERT INTO {samples} (lead_id, team_key, won, features) "
            f"SELECT l.id, COALESCE(l.team_id, 0), l.won_status = 'won', {features.expression} "
            f"FROM {features.from_clause} WHERE {CLOSED} ORDER BY l.id",
            [],
        )
        if progress:
            progress(_("Counting the values"))
        cursor.execute(frequencies_sql(vendor), [])
        cursor.execute(f"SELECT SUM(won), SUM(lost) FROM {frequencies} WHERE variable = ''", [])
        won_count, lost_count = (int(x or 0) for x in cursor.fetchone())
        state = ModelState.load()
        state.version += 1
        state.rebuilt_at = timezone.now()
        state.samples = won_count + lost_count
        state.save()
    if progress:
        progress(_("Measuring the model on history"))
    auc, auc_samples = measure_model()
    ModelState.objects.filter(pk=1).update(auc=auc, auc_samples=auc_samples)
    return RebuildResult(won_count + lost_count, won_count, lost_count, auc, auc_samples)


# --- the model in memory ------------------------------------------------------------------------------
@dataclass
class TeamCounts:
    won: int = 0
    lost: int = 0
    values: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    distinct: Counter[str] = field(default_factory=Counter)


@dataclass
class NaiveBayes:
    """The frequency tables of every team, and every team's together (``ALL``)."""

    teams: dict[int, TeamCounts]
    version: int = 0

    ALL = -1

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, str, int, int]], version: int = 0) -> NaiveBayes:
        teams: dict[int, TeamCounts] = defaultdict(TeamCounts)
        for team, variable, value, won, lost in rows:
            if won == 0 and lost == 0:
                continue
            for key in (team, cls.ALL):
                counts = teams[key]
                if (variable, value) == TOTAL:
                    counts.won += won
                    counts.lost += lost
                    continue
                before = counts.values.get((variable, value), (0, 0))
                if before == (0, 0):
                    counts.distinct[variable] += 1
                counts.values[(variable, value)] = (before[0] + won, before[1] + lost)
        return cls(dict(teams), version)

    def counts_for(self, team_key: int) -> TeamCounts | None:
        counts = self.teams.get(team_key)
        if counts is None or counts.won + counts.lost == 0:
            counts = self.teams.get(self.ALL)
        if counts is None or counts.won == 0 or counts.lost == 0:
            return None  # no history that separates anything
        return counts

    def factors(
        self, team_key: int, features: Mapping[str, Sequence[str]], variables: Sequence[str]
    ) -> tuple[float, list[tuple[str, str, float]]] | None:
        """The log-odds of winning and each value's contribution to it; None without usable history."""
        counts = self.counts_for(team_key)
        if counts is None:
            return None
        log_odds = _prior(counts)
        contributions: list[tuple[str, str, float]] = []
        for variable in variables:
            for value in features.get(variable, ()):
                won, lost = counts.values.get((variable, value), (0, 0))
                if won == 0 and lost == 0:
                    continue  # never seen in this team's history: no information
                ratio = _ratio(counts, variable, won, lost)
                log_odds += ratio
                contributions.append((variable, value, ratio))
        return log_odds, contributions

    def scorer(self, variables: Sequence[str]) -> Callable[[int, Mapping[str, Sequence[str]]], float | None]:
        """``factors(…)[0]`` for many records (predicting, measuring): each team's ratios are computed once
        (measuring the model on 50,000 records: 2.3 → 0.5 s)."""
        tables: dict[int, tuple[float, dict[tuple[str, str], float]] | None] = {}

        def table(team_key: int) -> tuple[float, dict[tuple[str, str], float]] | None:
            if team_key not in tables:
                counts = self.counts_for(team_key)
                tables[team_key] = (
                    None
                    if counts is None
                    else (
                        _prior(counts),
                        {
                            key: _ratio(counts, key[0], won, lost)
                            for key, (won, lost) in counts.values.items()
                            if won or lost
                        },
                    )
                )
            return tables[team_key]

        def log_odds(team_key: int, features: Mapping[str, Sequence[str]]) -> float | None:
            found = table(team_key)
            if found is None:
                return None
            total, ratios = found
            for variable in variables:  # in the order factors() adds them: the same float
                for value in features.get(variable, ()):
                    ratio = ratios.get((variable, value))
                    if ratio is not None:
                        total += ratio
            return total

        return log_odds


def _prior(counts: TeamCounts) -> float:
    return math.log((counts.won + 1) / (counts.lost + 1))


def _ratio(counts: TeamCounts, variable: str, won: int, lost: int) -> float:
    """A value's log-likelihood ratio: ``log P(value | won) − log P(value | lost)``, Laplace-smoothed."""
    k = max(1, counts.distinct[variable])
    return math.log((won + 1) / (counts.won + k)) - math.log((lost + 1) / (counts.lost + k))


def to_percent(log_odds: float) -> Decimal:
    if log_odds >= 0:
        p = 1 / (1 + math.exp(-min(log_odds, 700)))
    else:
        e = math.exp(max(log_odds, -700))
        p = e / (1 + e)
    return Decimal(str(round(100 * p, 2))).quantize(Decimal("0.01"))


_MODEL: NaiveBayes | None = None
_MODEL_LOCK = threading.Lock()


def load_model() -> NaiveBayes:
    """The model as stored, cached in this process until its version changes (one query to check).

    Only a committed model is cached: inside a transaction the version read may be one that a rollback
    takes back and a later change reuses with other counts."""
    global _MODEL
    version = ModelState.objects.filter(pk=1).values_list("version", flat=True).first() or 0
    with _MODEL_LOCK:
        if _MODEL is not None and _MODEL.version == version:
            return _MODEL
        rows = Frequency.objects.values_list("team_key", "variable", "value", "won", "lost")
        model = NaiveBayes.from_rows(rows.iterator(chunk_size=10_000), version)
        if not transaction.get_connection().in_atomic_block:
            _MODEL = model
        return model


def chosen_variables() -> list[str]:
    chosen = PheuSettings.load().predictive_fields or []
    return [name for name in PREDICTIVE_FIELDS if name in chosen]


# --- predicting ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PredictResult:
    checked: int
    changed: int


def predict_leads(*, lead_ids: Collection[int] | None = None, only_missing: bool = False) -> PredictResult:
    """Write ``automated_probability`` of the open records ``lead_ids`` (None: every open record; with
    ``only_missing``, those without one yet), in batches of ``PREDICT_BATCH``: one query to read each
    batch's features and one UPDATE per changed value group. Records with automatic probability follow the
    prediction when the setting says so."""
    model = load_model()
    if only_missing and model.counts_for(NaiveBayes.ALL) is None:
        # No history that separates won from lost: every prediction is "none", as stored already (the
        # worker would otherwise read every open record's features again at each round).
        return PredictResult(0, 0)
    score = model.scorer(chosen_variables())
    follow = PheuSettings.load().probability_follows_prediction
    open_leads = Lead.objects.filter(won_status=WonStatus.OPEN, active=True)
    if lead_ids is not None:
        open_leads = open_leads.filter(pk__in=list(lead_ids))
    if only_missing:
        open_leads = open_leads.filter(automated_probability__isnull=True)
    checked = changed = 0
    last = 0
    while True:
        rows = list(
            open_leads.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "automated_probability", "auto_probability", "probability")[:PREDICT_BATCH]
        )
        if not rows:
            break
        last = rows[-1][0]
        features = features_of([row[0] for row in rows], closed_only=False)
        updates: dict[tuple[Decimal | None, bool], list[int]] = defaultdict(list)
        for pk, stored, auto, probability in rows:
            sample = features.get(pk)
            if sample is None:
                continue
            log_odds = score(sample.team_key, sample.features)
            predicted = None if log_odds is None else to_percent(log_odds)
            follows = follow and auto and predicted is not None and probability != predicted
            if predicted != stored or follows:
                updates[(predicted, bool(follows))].append(pk)
        with transaction.atomic():
            for (predicted, follows), pks in updates.items():
                values: dict[str, Any] = {"automated_probability": predicted}
                if follows:
                    values["probability"] = predicted
                Lead.objects.filter(pk__in=pks).update(**values)
                changed += len(pks)
        checked += len(rows)
    if lead_ids is None and not only_missing:
        ModelState.objects.filter(pk=1).update(predicted_version=model.version, predicted_at=timezone.now())
    return PredictResult(checked, changed)


def refresh_predictions() -> PredictResult:
    """The periodic job: after the model changed, predict every open record again; otherwise predict the
    records that have no prediction yet (new ones)."""
    state = ModelState.load()
    if state.version != state.predicted_version:
        return predict_leads()
    return predict_leads(only_missing=True)


# --- a record being created ----------------------------------------------------------------------------
# A new record is predicted as it is created, before its insert and with no query: its features computed in
# Python on the instance (the twin of features_sql for an open record, held equal to it by a test on both
# databases), the model this process keeps. That copy is used for MODEL_RECHECK seconds after its version
# was last checked: what an older copy predicted, the periodic job predicts again after a model change.
MODEL_RECHECK = 60.0
_EMAIL_LIKE = re.compile(r".+@.+\..+", re.DOTALL)  # l.email_normalized LIKE '%_@_%._%'
_checked_at = 0.0


def features_of_unsaved(lead: Lead, tags: Iterable[Any] = ()) -> dict[str, list[str]]:
    """The features of an open record not yet stored, as :func:`features_of` would read them once it is."""
    email = (
        "none"
        if not lead.email_normalized
        else "valid"
        if _EMAIL_LIKE.fullmatch(lead.email_normalized)
        else "invalid"
    )
    phone = (
        "none"
        if not lead.phone and not lead.mobile
        else "valid"
        if lead.phone_e164 or lead.mobile_e164
        else "invalid"
    )
    features: dict[str, list[str]] = {}
    tokens = [
        ("stage", lead.stage_id),
        ("country", lead.country_id),
        ("state", lead.state_key or None),
        ("source", lead.source_id),
        ("language", lead.language.lower() or None),
        ("email_quality", email),
        ("phone_quality", phone),
        *(("tags", pk) for pk in sorted({getattr(tag, "pk", tag) for tag in tags})),
    ]
    for variable, value in tokens:
        if value is not None:
            features.setdefault(variable, []).append(str(value))
    return features


def _model_checked_recently() -> NaiveBayes | None:
    """This process's model when its version was checked less than ``MODEL_RECHECK`` seconds ago."""
    if _MODEL is not None and time.monotonic() - _checked_at < MODEL_RECHECK:
        return _MODEL
    return None


def _check_model() -> None:
    """Read the model's version (and the model when it changed) outside any transaction, to cache it."""
    global _checked_at
    load_model()
    _checked_at = time.monotonic()


def predict_unsaved_lead(lead: Lead, *, tags: Iterable[Any] = (), settings: PheuSettings) -> None:
    """Give an open record about to be created its predicted probability (and its probability, when it
    follows the prediction), as :func:`predict_leads` would once it is stored; no query. Without a copy of
    the model checked recently, the record is predicted just after its transaction commits instead (that
    also renews the copy), as it is when no history separates won from lost yet (it has none)."""
    if lead.won_status != WonStatus.OPEN or not lead.active:
        return
    model = _model_checked_recently()
    if model is None:
        transaction.on_commit(lambda: _predict_after_commit(lead.pk))
        return
    variables = [name for name in PREDICTIVE_FIELDS if name in (settings.predictive_fields or [])]
    found = model.factors(lead.team_id or 0, features_of_unsaved(lead, tags), variables)
    if found is None:
        return
    lead.automated_probability = to_percent(found[0])
    if settings.probability_follows_prediction and lead.auto_probability:
        lead.probability = lead.automated_probability


def _predict_after_commit(lead_id: int | None) -> None:
    _check_model()
    if lead_id is not None:
        predict_leads(lead_ids=[lead_id])


# --- asking for a rebuild ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RebuildOutcome:
    """What asking for a rebuild did: rebuilt and predicted at once (``rebuilt``, ``predicted``), or left to
    the background (``queued``; ``closed``: the closed records it will learn from)."""

    rebuilt: RebuildResult | None = None
    predicted: PredictResult | None = None
    queued: bool = False
    closed: int = 0


def request_rebuild() -> RebuildOutcome:
    """Rebuild the model and predict every open record: at once on a small history, otherwise in the
    background (``rebuild_model_task``, after the transaction commits), its state on ``ModelState`` for the
    model page. A rebuild already queued or running is not queued twice."""
    closed = closed_records().count()
    if closed <= REBUILD_BACKGROUND_THRESHOLD:
        return RebuildOutcome(rebuilt=rebuild_model(), predicted=predict_leads(), closed=closed)
    with transaction.atomic():
        ModelState.load()
        state = ModelState.objects.select_for_update().get(pk=1)
        now = timezone.now()
        if state.rebuilding and state.rebuild_asked_at and now - state.rebuild_asked_at < REBUILD_STALE:
            return RebuildOutcome(queued=True, closed=closed)
        ModelState.objects.filter(pk=1).update(
            rebuild_status=RebuildStatus.QUEUED, rebuild_asked_at=now, rebuild_error=""
        )

        def enqueue() -> None:
            from pheu.scoring.tasks import rebuild_model_task

            rebuild_model_task.enqueue()

        transaction.on_commit(enqueue)
    return RebuildOutcome(queued=True, closed=closed)


def run_queued_rebuild() -> tuple[RebuildResult, PredictResult]:
    """The background rebuild: learn, measure and predict, keeping ``ModelState``'s rebuild state (a failure
    is recorded with its message, and raised)."""
    ModelState.load()
    ModelState.objects.filter(pk=1).update(rebuild_status=RebuildStatus.RUNNING)
    try:
        rebuilt = rebuild_model()
        predicted = predict_leads()
    except Exception as exc:
        ModelState.objects.filter(pk=1).update(
            rebuild_status=RebuildStatus.FAILED, rebuild_error=str(exc)[:2000]
        )
        raise
    ModelState.objects.filter(pk=1).update(rebuild_status=RebuildStatus.IDLE)
    return rebuilt, predicted


# --- explaining ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Factor:
    variable: str
    label: str
    value: str
    weight: float  # log-likelihood ratio: > 0 raised the probability


@dataclass(frozen=True)
class PredictionExplanation:
    probability: Decimal | None
    raised: tuple[Factor, ...]
    lowered: tuple[Factor, ...]
    samples: int


def explain_prediction(lead: Lead, *, top: int = 3) -> PredictionExplanation:
    """The probability ``lead`` gets now and the ``top`` factors that raised and lowered it most."""
    model = load_model()
    sample = features_of([lead.pk], closed_only=False).get(lead.pk)
    if sample is None:
        return PredictionExplanation(None, (), (), 0)
    result = model.factors(sample.team_key, sample.features, chosen_variables())
    counts = model.counts_for(sample.team_key)
    history = 0 if counts is None else counts.won + counts.lost
    if result is None:
        return PredictionExplanation(None, (), (), history)
    log_odds, contributions = result
    labels = _value_labels(contributions)
    ranked = sorted(contributions, key=lambda c: c[2])

    def make(c: tuple[str, str, float]) -> Factor:
        return Factor(c[0], str(VARIABLE_LABELS.get(c[0], c[0])), labels.get((c[0], c[1]), c[1]), c[2])

    raised = tuple(make(c) for c in reversed(ranked) if c[2] > 0)[:top]
    lowered = tuple(make(c) for c in ranked if c[2] < 0)[:top]
    return PredictionExplanation(to_percent(log_odds), raised, lowered, history)


def _value_labels(contributions: Sequence[tuple[str, str, float]]) -> dict[tuple[str, str], str]:
    from pheu.contacts.models import Country, Tag
    from pheu.leads.models import Source

    wanted: dict[str, set[str]] = defaultdict(set)
    for variable, value, _weight in contributions:
        wanted[variable].add(value)
    labels: dict[tuple[str, str], str] = {}
    models: dict[str, Any] = {"stage": Stage, "country": Country, "source": Source, "tags": Tag}
    for variable, model in models.items():
        if wanted.get(variable):
            for obj in model.objects.filter(pk__in=list(wanted[variable])):
                labels[(variable, str(obj.pk))] = str(getattr(obj, "name", obj))
    for variable in ("email_quality", "phone_quality"):
        for value in wanted.get(variable, ()):
            labels[(variable, value)] = str(QUALITY_LABELS.get(value, value))
    return labels


# --- measuring ------------------------------------------------------------------------------------------
TEST_SHARE = 0.2
# An AUC on 50,000 records is known to about ±0.003: a larger test only costs time on a large history.
TEST_LIMIT = 50_000


def measure_model() -> tuple[float | None, int]:
    """AUC of the model on the most recently closed ``TEST_SHARE`` of the closed records (at most
    ``TEST_LIMIT``), learnt from the
    others: the chance that a won record of the test gets a higher probability than a lost one (0.5 is a
    coin toss, 1 a perfect separation). None when the test has no won or no lost record."""
    total = ModelSample.objects.count()
    size = min(int(total * TEST_SHARE), TEST_LIMIT)
    if size < 2:
        return None, 0
    # One query: the samples of the latest closed records (the records that have a sample), picked from
    # the records alone and then fetched by key (rows, not model instances: a fifth of a large history).
    latest = closed_records().order_by(F("closed_at").desc(nulls_last=True), "-id").values("id")[:size]
    test = [
        Sample(lead_id, team_key, won, decode_features(features))
        for lead_id, team_key, won, features in ModelSample.objects.filter(lead_id__in=latest)
        .values_list("lead_id", "team_key", "won", "features")
        .iterator(chunk_size=10_000)
    ]
    deltas: Counter[tuple[int, str, str, bool]] = Counter()
    for key, count in _frequency_counter().items():
        deltas[key] += count
    _counts(test, -1, deltas)
    rows = [
        (
            team,
            variable,
            value,
            deltas.get((team, variable, value, True), 0),
            deltas.get((team, variable, value, False), 0),
        )
        for (team, variable, value) in {(t, v, x) for (t, v, x, _w) in deltas}
    ]
    model = NaiveBayes.from_rows(rows)
    log_odds = model.scorer(chosen_variables())
    scored = []
    for sample in test:
        result = log_odds(sample.team_key, sample.features)
        scored.append((0.0 if result is None else result, sample.won))
    return auc(scored), len(test)


def _frequency_counter() -> Counter[tuple[int, str, str, bool]]:
    counter: Counter[tuple[int, str, str, bool]] = Counter()
    for team, variable, value, won, lost in Frequency.objects.values_list(
        "team_key", "variable", "value", "won", "lost"
    ).iterator(chunk_size=10_000):
        counter[(team, variable, value, True)] += won
        counter[(team, variable, value, False)] += lost
    return counter


def auc(scored: Sequence[tuple[float, bool]]) -> float | None:
    """Area under the ROC curve of (score, won) pairs, ties counted half (Mann–Whitney)."""
    positives = sum(1 for _s, won in scored if won)
    negatives = len(scored) - positives
    if not positives or not negatives:
        return None
    ordered = sorted(scored, key=lambda pair: pair[0])
    rank_sum = 0.0
    i = 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and ordered[j][0] == ordered[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(1 for k in range(i, j) if ordered[k][1])
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


# --- settings -------------------------------------------------------------------------------------------
def prediction_settings_changed(before: PheuSettings, after: PheuSettings) -> None:
    """The listener of the installation's settings (``pheu.core.services.update_settings``): a change of
    the model's variables or of "the probability follows the prediction" marks every open record's
    prediction for refresh, as :func:`update_prediction_settings` does."""
    old = (before.predictive_fields, before.probability_follows_prediction)
    if old != (after.predictive_fields, after.probability_follows_prediction):
        ModelState.load()
        ModelState.objects.filter(pk=1).update(version=F("version") + 1)


def update_prediction_settings(
    *, actor: Any, predictive_fields: Sequence[str], probability_follows_prediction: bool
) -> PheuSettings:
    """Choose the model's variables and whether automatic probabilities follow the prediction. A change
    marks every open record's prediction for refresh (the periodic job predicts them again); the AUC shown
    is the last rebuild's until the model is rebuilt. Unknown variables are refused."""
    from pheu.scoring.exceptions import ScoringError

    unknown = [name for name in predictive_fields if name not in PREDICTIVE_FIELDS]
    if unknown:
        raise ScoringError(
            code=ScoringError.Code.INVALID,
            field_errors={
                "predictive_fields": [
                    _("Unknown variables: %(names)s.") % {"names": ", ".join(map(str, unknown))}
                ]
            },
        )
    chosen = [name for name in PREDICTIVE_FIELDS if name in predictive_fields]
    with transaction.atomic():
        current = PheuSettings.objects.select_for_update().get(pk=PheuSettings.load().pk)
        changed = (
            current.predictive_fields != chosen
            or current.probability_follows_prediction != probability_follows_prediction
        )
        current.predictive_fields = chosen
        current.probability_follows_prediction = probability_follows_prediction
        current.save(update_fields=["predictive_fields", "probability_follows_prediction", "updated_at"])
        if changed:
            ModelState.load()
            ModelState.objects.filter(pk=1).update(version=F("version") + 1)
    return current
