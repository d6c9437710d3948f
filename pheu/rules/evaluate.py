"""Evaluate a bound tree on one record held in memory: a plain ``dict`` of facts (works before saving).

Facts are keyed by the schema's canonical field names. A to-one relation is a nested dict with at least
``"id"`` (or the bare id, or None); a to-many relation is a list of such dicts; text is ``str`` ('' when
blank), numbers ``int``/``Decimal``, dates ``date``, times aware ``datetime``. A missing key reads as empty.

The semantics are those of ``to_q`` (see ``operators``), including SQL's: an empty value never matches a
positive comparison, and a negative operator is "not" the positive one.
"""

from __future__ import annotations

import operator as op
from collections.abc import Iterator, Mapping
from typing import Any

from pheu.rules.nodes import And, Condition, Mode, Node, Not, Operand, Or, TrueDomain
from pheu.rules.schema import FieldSpec, FieldType

_ORDER = {Mode.LT: op.lt, Mode.LTE: op.le, Mode.GT: op.gt, Mode.GTE: op.ge}


def evaluate(node: Node, facts: Mapping[str, Any]) -> bool:
    """Whether the record described by ``facts`` satisfies the bound tree ``node``."""
    if isinstance(node, Condition):
        return _condition(node, facts)
    if isinstance(node, And):
        return all(evaluate(child, facts) for child in node.children)
    if isinstance(node, Or):
        return any(evaluate(child, facts) for child in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, facts)
    if isinstance(node, TrueDomain):
        return True
    raise TypeError(f"not a domain node: {node!r}")


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else None


def _ident(value: Any) -> Any:
    """The id of a related record given as a dict of facts, or as its bare id."""
    return value.get("id") if isinstance(value, Mapping) else value


def _follow(facts: Mapping[str, Any], steps: tuple[FieldSpec, ...]) -> Any:
    obj: Any = facts
    for step in steps:
        obj = _get(obj, step.name)
        if obj is None:
            return None
    return obj


def _collect(obj: Any, steps: tuple[FieldSpec, ...]) -> Iterator[Any]:
    """The leaf values of every related row reached through the to-many step(s) of ``steps``."""
    step, rest = steps[0], steps[1:]
    value = _get(obj, step.name)
    if step.type is FieldType.MANY:
        for item in value or ():
            if rest:
                yield from _collect(item, rest)
            else:
                yield _ident(item)
    elif rest:
        if value is not None:
            yield from _collect(value, rest)
    else:
        yield value


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == "")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):  # True == 1 in Python, not in SQL
        return type(a) is type(b) and a == b
    return bool(a == b)


def _matches(operand: Operand, spec: FieldSpec, value: Any) -> bool:
    if value is None:
        return False
    mode = operand.mode
    if mode is Mode.MEMBER:
        if spec.is_relation:
            value = _ident(value)
        return any(_same(value, item) for item in operand.values)
    if mode in _ORDER:
        return bool(_ORDER[mode](value, operand.values[0]))
    if not isinstance(value, str) or operand.pattern is None:
        return False
    if mode is Mode.ILIKE:
        return operand.pattern.matches(spec.fold(value))
    return operand.pattern.matches(value)


def _condition(cond: Condition, facts: Mapping[str, Any]) -> bool:
    target, operand = cond.target, cond.operand
    if target is None or operand is None:
        raise TypeError(f"condition at term {cond.position} is not bound to a schema")
    spec = target.leaf
    if target.through_many:
        values = list(_collect(facts, target.steps))
        hit = any(_matches(operand, spec, value) for value in values)
        if not hit and operand.empty:
            hit = all(_is_empty(value) for value in values)
    else:
        value = _follow(facts, target.steps)
        hit = _matches(operand, spec, value) or (operand.empty and _is_empty(value))
    return not hit if operand.negated else hit
