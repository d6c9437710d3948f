"""The predictive model's features and frequencies in SQL, for PostgreSQL and SQLite: the one home of the
SQL that each database writes its own way (:mod:`pheu.scoring.services.prediction` runs it).

- :func:`features_sql`: the features of leads ``l`` (the tokens of their stage, or the stages a closed
  record went through, country, state, source, language, e-mail and phone quality, tags), per record
  (subqueries) or for a whole base (hash joins).
- :func:`frequencies_sql`: the ``INSERT`` of the frequency tables from the samples.

A sample's features are stored as a flat JSON list of "variable:value" tokens, in the order of
``PREDICTIVE_FIELDS`` with tags last (``["stage:1", "stage:2", "country:VN", "source:3", …, "tags:7"]``): on
PostgreSQL one array turned into JSON costs half as much per record as an object of arrays, and the
frequencies count the tokens as they are. :func:`decode_features` reads them back by variable.
``pheu/scoring/tests/test_features.py`` holds both databases to a computation in Python on the same records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pheu.leads.models import Lead, Stage
from pheu.scoring.models import Frequency, ModelSample
from pheu.teams.models import Team

VENDORS = ("postgresql", "sqlite")


@dataclass(frozen=True)
class FeaturesSQL:
    """``SELECT …, {expression} FROM {from_clause} WHERE …`` reads the features of the leads ``l`` (a JSON
    list of tokens); ``with_clause`` ("" or ``WITH … ``) goes before the statement."""

    with_clause: str
    from_clause: str
    expression: str


def features_sql(vendor: str, *, whole_base: bool = False) -> FeaturesSQL:
    """The SQL of the features of the leads ``l`` on ``vendor``'s database (``connection.vendor``).

    ``whole_base``: the tags and the stages passed come from relations aggregated once (hash joins, for a
    rebuild over every closed record) instead of a subquery per record (a few records)."""
    if vendor not in VENDORS:
        raise NotImplementedError(f"the predictive model's features are not written for {vendor}")
    if not whole_base:
        return FeaturesSQL("", _from_sql(), _features_sql(vendor))
    with_clause, joins = _joined_sql(vendor)
    return FeaturesSQL(with_clause, _from_sql() + joins, _features_sql(vendor, joined=True))


def frequencies_sql(vendor: str) -> str:
    """The ``INSERT`` of the frequency tables, the teams' totals included, from the samples.

    PostgreSQL: the samples are first grouped by (team, features) — records alike share their features, so
    that far fewer rows than samples are expanded into tokens (on 1,000,000 samples the grouped SELECT takes
    1.1 s, against 2.7 s expanding each sample). SQLite expands each sample."""
    if vendor not in VENDORS:
        raise NotImplementedError(f"the predictive model's frequencies are not written for {vendor}")
    samples, frequencies = ModelSample._meta.db_table, Frequency._meta.db_table
    won = "SUM(CASE WHEN s.won THEN 1 ELSE 0 END)"
    lost = "SUM(CASE WHEN s.won THEN 0 ELSE 1 END)"
    insert = f"INSERT INTO {frequencies} (team_key, variable, value, won, lost) "
    if vendor != "postgresql":
        variable = "substr(e.value, 1, instr(e.value, ':') - 1)"
        value = "substr(e.value, instr(e.value, ':') + 1)"
        return (
            f"{insert}SELECT s.team_key, {variable}, {value}, {won}, {lost} "
            f"FROM {samples} s, json_each(s.features) e GROUP BY s.team_key, {variable}, {value} "
            f"UNION ALL SELECT s.team_key, '', '', {won}, {lost} FROM {samples} s GROUP BY s.team_key"
        )
    variable = "split_part(e.token, ':', 1)"
    value = "substr(e.token, strpos(e.token, ':') + 1)"
    return (
        f"WITH g AS (SELECT s.team_key, s.features, {won} AS won, {lost} AS lost FROM {samples} s "
        f"GROUP BY s.team_key, s.features) "
        f"{insert}SELECT g.team_key, {variable}, {value}, SUM(g.won), SUM(g.lost) "
        f"FROM g CROSS JOIN LATERAL jsonb_array_elements_text(g.features) e(token) "
        f"GROUP BY g.team_key, {variable}, {value} "
        f"UNION ALL SELECT g.team_key, '', '', SUM(g.won), SUM(g.lost) FROM g GROUP BY g.team_key"
    )


def decode_features(value: Any) -> dict[str, list[str]]:
    """A sample's stored features (JSON list of tokens) by variable: ``{"stage": ["1", "2"], …}``."""
    tokens = json.loads(value) if isinstance(value, str) else value
    features: dict[str, list[str]] = {}
    for token in tokens:
        variable, _sep, item = token.partition(":")
        features.setdefault(variable, []).append(item)
    return features


def encode_features(features: Mapping[str, Sequence[str]]) -> list[str]:
    """The stored form of ``features``, the inverse of :func:`decode_features`."""
    return [f"{variable}:{value}" for variable, values in features.items() for value in values]


def _from_sql() -> str:
    return f"{Lead._meta.db_table} l LEFT JOIN {Stage._meta.db_table} ls ON ls.id = l.stage_id"


CLOSED = "l.won_status IN ('won', 'lost') AND l.merged_into_id IS NULL"


# --- the pieces ----------------------------------------------------------------------------------------
_QUALITY = {
    "email_quality": (
        "CASE WHEN l.email_normalized = '' THEN 'none' "
        "WHEN l.email_normalized LIKE '%%_@_%%._%%' THEN 'valid' ELSE 'invalid' END"
    ),
    "phone_quality": (
        "CASE WHEN l.phone = '' AND l.mobile = '' THEN 'none' "
        "WHEN l.phone_e164 <> '' OR l.mobile_e164 <> '' THEN 'valid' ELSE 'invalid' END"
    ),
}


def _token(variable: str, value: str) -> str:
    """SQL of the token of ``value`` (NULL when the value is NULL: the record has none)."""
    return f"'{variable}:' || {value}"


def _passed_where(team: str, won: str, sequence: str) -> str:
    """The stages a closed record went through: for a won one every non-won stage of its pipeline, for a
    lost one those up to the stage it was lost in."""
    return (
        f"(s.team_id = {team} OR s.team_id IS NULL) AND NOT s.is_won "
        f"AND ({won} OR ({sequence} IS NOT NULL AND s.sequence <= {sequence}))"
    )


def _token_list_sql(vendor: str, variable: str, column: str, source: str) -> str:
    """SQL of the tokens of ``column`` over the rows of ``source`` (``table alias WHERE …``), ordered by it,
    as an array (PostgreSQL) or a JSON list (SQLite)."""
    if vendor == "postgresql":
        return f"(SELECT array_agg({_token(variable, column)} ORDER BY {column}) FROM {source})"
    return (
        f"(SELECT json_group_array(v) FROM "
        f"(SELECT {_token(variable, column)} AS v FROM {source} ORDER BY {column}))"
    )


def _features_sql(vendor: str, *, joined: bool = False) -> str:
    """The SQL expression of the features of lead ``l`` (joined to its stage as ``ls``): a JSON list of
    tokens.

    ``joined``: the tags and the passed stages come from the relations ``lt`` and ``sp`` of
    :func:`_joined_sql` (hash joins for a whole base) instead of a subquery per record."""
    stage, tags = Stage._meta.db_table, Lead.tags.through._meta.db_table
    if joined:
        passed, tag_list = "sp.passed", "lt.tags"
    else:
        where = _passed_where("l.team_id", "l.won_status = 'won'", "ls.sequence")
        passed = _token_list_sql(vendor, "stage", "s.id", f"{stage} s WHERE {where}")
        tag_list = _token_list_sql(vendor, "tags", "t.tag_id", f"{tags} t WHERE t.lead_id = l.id")
    # One value each, NULL when the record has none.
    single = [
        _token("country", "l.country_id"),
        f"CASE WHEN l.state_key <> '' THEN {_token('state', 'l.state_key')} END",
        _token("source", "l.source_id"),
        f"CASE WHEN l.language <> '' THEN {_token('language', 'LOWER(l.language)')} END",
        *(_token(name, expr) for name, expr in _QUALITY.items()),
    ]
    if vendor == "postgresql":
        stages = (
            f"CASE WHEN l.won_status <> 'open' THEN COALESCE({passed}, '{{}}') "
            f"WHEN l.stage_id IS NOT NULL THEN ARRAY[{_token('stage', 'l.stage_id')}] "
            f"ELSE '{{}}' END"
        )
        return (
            f"to_jsonb(array_remove(CAST({stages} AS TEXT[]) || ARRAY[{', '.join(single)}] "
            f"|| CAST(COALESCE({tag_list}, '{{}}') AS TEXT[]), NULL))"
        )
    stages = (
        f"CASE WHEN l.won_status <> 'open' THEN COALESCE({passed}, json_array()) "
        f"WHEN l.stage_id IS NOT NULL THEN json_array({_token('stage', 'l.stage_id')}) "
        f"ELSE json_array() END"
    )
    parts = " UNION ALL ".join(
        f"SELECT {i} AS part, CAST(key AS INTEGER) AS k, value FROM json_each({json}) WHERE value IS NOT NULL"
        for i, json in enumerate(
            [stages, f"json_array({', '.join(single)})", f"COALESCE({tag_list}, json_array())"]
        )
    )
    return f"(SELECT json_group_array(value) FROM ({parts} ORDER BY part, k))"


def _joined_sql(vendor: str) -> tuple[str, str]:
    """For :func:`_features_sql` with ``joined``: the ``WITH`` clause of its relations and the joins that
    follow :func:`_from_sql`. ``lt``: each record's tags, aggregated once; ``sp``: the stages passed by a
    closed record of each (team, stage, won) — a few hundred rows, whatever the number of records."""
    stage, tags = Stage._meta.db_table, Lead.tags.through._meta.db_table
    team = Team._meta.db_table
    where = _passed_where("NULLIF(k.team_key, 0)", "k.won", "k.seq")
    passed = _token_list_sql(vendor, "stage", "s.id", f"{stage} s WHERE {where}")
    if vendor == "postgresql":
        lt = (
            f"SELECT t.lead_id, array_agg({_token('tags', 't.tag_id')} ORDER BY t.tag_id) AS tags "
            f"FROM {tags} t GROUP BY t.lead_id"
        )
    else:
        lt = (
            f"SELECT lead_id, json_group_array(v) AS tags FROM "
            f"(SELECT t.lead_id, {_token('tags', 't.tag_id')} AS v FROM {tags} t "
            f"ORDER BY t.lead_id, t.tag_id) "
            f"GROUP BY lead_id"
        )
    keys = (
        f"SELECT t.team_key, st.stage_key, st.seq, w.won "
        f"FROM (SELECT id AS team_key FROM {team} UNION ALL SELECT 0) t "
        f"CROSS JOIN (SELECT id AS stage_key, sequence AS seq FROM {stage} UNION ALL SELECT 0, NULL) st "
        f"CROSS JOIN (SELECT TRUE AS won UNION ALL SELECT FALSE) w"
    )
    sp = f"SELECT k.team_key, k.stage_key, k.won, {passed} AS passed FROM ({keys}) k"
    with_clause = f"WITH lt AS ({lt}), sp AS ({sp}) "
    joins = (
        " LEFT JOIN lt ON lt.lead_id = l.id LEFT JOIN sp ON sp.team_key = COALESCE(l.team_id, 0) "
        "AND sp.stage_key = COALESCE(l.stage_id, 0) AND sp.won = (l.won_status = 'won')"
    )
    return with_clause, joins
