"""The public face of the rule language: parse once, then evaluate, compile, explain, store."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from pheu.rules import compile as compiler
from pheu.rules.evaluate import evaluate
from pheu.rules.exceptions import DomainError, RuleProblem
from pheu.rules.explain import explain
from pheu.rules.nodes import And, Condition, Node, Not, Or, TrueDomain
from pheu.rules.operators import operator
from pheu.rules.parse import build, read
from pheu.rules.schema import Schema
from pheu.rules.validate import bind

Source = str | Sequence[Any] | None


@dataclass(frozen=True)
class Domain:
    """A checked domain bound to a schema. Build it with :func:`parse_domain`.

    Related records named in it were looked up when it was parsed: keep a ``Domain`` for one batch or one
    request, and parse the stored text again later (a renamed tag then fails to parse, visibly).
    """

    tree: Node
    schema: Schema

    @property
    def is_everything(self) -> bool:
        """The empty domain, which every record satisfies."""
        return isinstance(self.tree, TrueDomain)

    def evaluate(self, facts: Mapping[str, Any]) -> bool:
        """Whether the record described by ``facts`` matches (no database access)."""
        return evaluate(self.tree, facts)

    def to_q(self, *, since: datetime | None = None, ids: tuple[int, int] | None = None) -> Q:
        """The ``Q`` selecting exactly the records :meth:`evaluate` accepts (builds no query itself).

        ``since``: to-many records with a creation date (page views) count only from that instant on.
        ``ids``: a half-open id range ``(low, high)`` that the query using the ``Q`` is limited to; its
        to-many conditions then read only the related rows of that range."""
        return compiler.to_q(self.tree, self.schema, since=since, ids=ids)

    def explain(self) -> str:
        """The domain in words, in the active language."""
        return explain(self.tree)

    def canonical(self) -> list[Any]:
        """The domain as a list in normal form: canonical field names (aliases replaced), operators as in
        the table, typed values (names of related records as typed), top-level ``&`` implicit."""
        if isinstance(self.tree, TrueDomain):
            return []
        if isinstance(self.tree, And):
            return [item for child in self.tree.children for item in _prefix(child)]
        return _prefix(self.tree)

    def canonical_json(self) -> str:
        """:meth:`canonical` as JSON (the form to store: parsing it gives the same domain)."""
        return json.dumps(self.canonical(), ensure_ascii=False, separators=(", ", ": "))


def _prefix(node: Node) -> list[Any]:
    if isinstance(node, Condition):
        assert node.target is not None and node.operand is not None
        op = operator(node.operator)
        assert op is not None
        return [[node.target.canonical, op.symbol, node.operand.canonical]]
    if isinstance(node, And | Or):
        symbol = "&" if isinstance(node, And) else "|"
        items: list[Any] = [symbol] * (len(node.children) - 1)
        for child in node.children:
            items.extend(_prefix(child))
        return items
    if isinstance(node, Not):
        return ["!", *_prefix(node.child)]
    return []


def _check(source: Source, schema: Schema) -> tuple[Node, list[RuleProblem]]:
    raw = read(source)
    tree, problems = build(raw)
    bound, more = bind(tree, schema)
    return bound, sorted([*problems, *more], key=lambda p: p.position or 0)


def parse_domain(source: Source, schema: Schema) -> Domain:
    """Parse and check a domain (JSON or Python-literal text, or a list) against ``schema``.

    Raises :class:`DomainError` listing every problem. Looks related records up through the schema's
    lookups (a query per relation table named by name or id; none for a domain without such values).
    """
    tree, problems = _check(source, schema)
    if problems:
        raise DomainError(problems)
    return Domain(tree, schema)


def validate_domain(source: Source, schema: Schema) -> list[RuleProblem]:
    """Every problem of a domain ([] when it is usable); never raises for a bad domain."""
    try:
        _tree, problems = _check(source, schema)
    except DomainError as exc:
        return list(exc.problems)
    return problems
