"""Check a tree against a schema and bind it: every problem is reported, each naming its term and field.

Binding resolves each path (aliases included), checks the operator against the field's type (one table:
``operators.OPERATORS``), types the value (``score >= 'abc'`` is refused, never a server error later), and
finds related records named or numbered in the value through the relation's :class:`NameLookup` — one query
per lookup and parse for small tables (loaded once, matched in Python), one per condition for large ones. A
name that matches nothing is a problem (``country = 'Wakanda'``); ``ilike`` on a relation may match nothing.

Values are bounded so that evaluation in Python and in SQL agree on every engine: whole numbers within
±2**53, decimals of at most 15 significant digits (SQLite compares decimals as doubles), texts of at most
``MAX_TEXT_VALUE`` characters without NUL, patterns with at most ``MAX_WILDCARDS`` ``%``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Hashable, Iterator
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from pheu.lib.text import text_key
from pheu.rules.exceptions import RuleProblem, RuleProblemCode, StrOrPromise, lazy_message
from pheu.rules.nodes import And, Condition, Mode, Node, Not, Operand, Or, TrueDomain
from pheu.rules.operators import OPERATORS, Operator, OpKind, operator
from pheu.rules.patterns import LikePattern
from pheu.rules.schema import Candidate, FieldSpec, FieldType, NameLookup, PathError, ResolvedPath, Schema

MAX_TEXT_VALUE = 1_000
MAX_LIST = 1_000
MAX_WILDCARDS = 10
MAX_INT = 2**53
MAX_DECIMAL_DIGITS = 15

_Code = RuleProblemCode
_ORDER_MODES = {"<": Mode.LT, "<=": Mode.LTE, ">": Mode.GT, ">=": Mode.GTE}


class Quoted(str):
    """A text value, shown between quotes by ``explain``."""

    __slots__ = ()


class _Bad(Exception):
    """A value of the wrong type: ``expected`` says what was needed."""

    def __init__(self, expected: StrOrPromise) -> None:
        super().__init__(str(expected))
        self.expected = expected


def allowed_operators(spec: FieldSpec) -> list[str]:
    """The operators a field takes, in table order."""
    allowed = []
    for symbol, op in OPERATORS.items():
        if spec.type not in op.types:
            continue
        if spec.value_q is not None and op.kind not in (OpKind.EQUAL, OpKind.MEMBER):
            continue
        if op.kind is OpKind.ORDER and spec.type is FieldType.CHOICE and spec.is_textual:
            continue
        if op.ignore_case and spec.type is FieldType.TEXT and spec.key is None:
            continue
        if (
            op.kind is OpKind.CONTAINS
            and spec.is_relation
            and not (spec.lookup and spec.lookup.supports_contains)
        ):
            continue  # contains on a relation searches the names of its records: small tables only
        allowed.append(symbol)
    return allowed


def _describe(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, str):
        return f"“{value[:40]}{'…' if len(value) > 40 else ''}”"
    if isinstance(value, tuple | list):
        return str(_("a list"))
    return str(value)


def _is_empty_value(spec: FieldSpec, value: Any) -> bool:
    if spec.type is FieldType.BOOL:
        return value is None
    return value is None or value is False or (value == "" and spec.is_textual)


def _check_text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(_("a text in quotes"))
    if len(value) > MAX_TEXT_VALUE:
        raise _Bad(lazy_message(_("a text of at most %(max)s characters"), max=MAX_TEXT_VALUE))
    if "\x00" in value:
        raise _Bad(_("a text without NUL characters"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _Bad(_("a valid text")) from None
    return value


def _expected(spec: FieldSpec) -> StrOrPromise:
    if spec.type is FieldType.CHOICE:
        return lazy_message(_("one of %(choices)s"), choices=[str(value) for value, _label in spec.choices])
    return {
        FieldType.TEXT: _("a text in quotes"),
        FieldType.INT: _("a whole number"),
        FieldType.DECIMAL: _("a number"),
        FieldType.BOOL: _("true or false"),
        FieldType.DATE: _("a date such as 2025-12-31"),
        FieldType.DATETIME: _("a date and time such as 2025-12-31 17:30"),
        FieldType.RELATION: _("a name or an id"),
        FieldType.MANY: _("a name or an id"),
    }[spec.type]


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise _Bad(_("a number"))
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        raise _Bad(_("a number")) from None
    if not number.is_finite() or abs(number) >= 10**MAX_DECIMAL_DIGITS:
        raise _Bad(lazy_message(_("a number of at most %(digits)s digits"), digits=MAX_DECIMAL_DIGITS))
    if len(number.normalize().as_tuple().digits) > MAX_DECIMAL_DIGITS:
        raise _Bad(lazy_message(_("a number of at most %(digits)s digits"), digits=MAX_DECIMAL_DIGITS))
    return number


def _aware(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        return timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def _scalar(spec: FieldSpec, value: Any) -> tuple[Any, Any, Any]:
    """(typed value, explain label, canonical JSON value) of one non-empty value, or raise :class:`_Bad`."""
    kind = spec.type
    if kind is FieldType.TEXT:
        text = _check_text(value)
        return text, Quoted(text), text
    if kind is FieldType.INT:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(_("a whole number"))
        if abs(value) > MAX_INT:
            raise _Bad(_("a whole number between -9007199254740992 and 9007199254740992"))
        return value, value, value
    if kind is FieldType.DECIMAL:
        number = _decimal(value)
        canonical = int(number) if number == number.to_integral_value() else float(number)
        return number, number, canonical
    if kind is FieldType.BOOL:
        if not isinstance(value, bool):
            raise _Bad(_("true or false"))
        return value, value, value
    if kind is FieldType.DATE:
        try:
            day = dt.date.fromisoformat(_check_text(value).strip())
        except (_Bad, ValueError):
            raise _Bad(_("a date such as 2025-12-31")) from None
        return day, day, day.isoformat()
    if kind is FieldType.DATETIME:
        try:
            text = _check_text(value).strip()
            moment = (
                dt.datetime.fromisoformat(text)
                if len(text) > 10
                else dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
            )
            moment = _aware(moment)
            moment.astimezone(dt.UTC)  # out of range near year 1 or 9999 → OverflowError
        except (_Bad, ValueError, OverflowError):
            raise _Bad(_("a date and time such as 2025-12-31 17:30")) from None
        return moment, moment, moment.isoformat()
    if kind is FieldType.CHOICE:
        return _choice(spec, value)
    raise TypeError(kind)  # relations are checked by _references


def _choice(spec: FieldSpec, value: Any) -> tuple[Any, Any, Any]:
    for choice, label in spec.choices:
        if type(choice) is type(value) and choice == value:
            return choice, label, choice
    if isinstance(value, str) and len(value) <= MAX_TEXT_VALUE:
        key = text_key(value)
        for language in (translation.get_language(), "en"):
            with translation.override(language):
                for choice, label in spec.choices:
                    if key and key in (text_key(str(choice)), text_key(str(label))):
                        return choice, label, choice
    raise _Bad(_expected(spec))


def _reference(spec: FieldSpec, value: Any) -> Hashable:
    """A related record's id or name as typed (checked for type only)."""
    lookup = spec.lookup
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_INT:
            raise _Bad(_("a name or an id"))
        return value
    if isinstance(value, str) and value and lookup is not None:
        return _check_text(value)
    if lookup is None:
        raise _Bad(_("an id (a whole number)"))
    raise _Bad(_("a name or an id"))


# Small tables loaded by ``load_all`` lookups, shared by every parse inside :func:`shared_lookups`.
_SHARED_LOOKUPS: ContextVar[dict[int, list[Candidate]] | None] = ContextVar("shared_lookups", default=None)


@contextlib.contextmanager
def shared_lookups() -> Iterator[None]:
    """Within the block, each small related table (``load_all`` lookups: countries, tags, teams…) is read
    once for all the domains parsed, instead of once per domain: for a batch that parses many rules at one
    moment (an assignment run). Nested blocks share the outer block's tables."""
    if _SHARED_LOOKUPS.get() is not None:
        yield
        return
    token = _SHARED_LOOKUPS.set({})
    try:
        yield
    finally:
        _SHARED_LOOKUPS.reset(token)


class _Binder:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.problems: list[RuleProblem] = []
        shared = _SHARED_LOOKUPS.get()
        self._loaded: dict[int, list[Candidate]] = shared if shared is not None else {}

    def problem(
        self, cond: Condition, code: RuleProblemCode, message: StrOrPromise, *, path: bool = True
    ) -> None:
        """Record a problem of ``cond``; the message is prefixed with the term's position (and path)."""
        if path:
            full = lazy_message(
                _("Term %(position)s (%(path)s): %(message)s"),
                position=cond.position,
                path=cond.path,
                message=message,
            )
        else:
            full = lazy_message(_("Term %(position)s: %(message)s"), position=cond.position, message=message)
        self.problems.append(RuleProblem(cond.position, cond.path, full, code))

    def bind(self, node: Node) -> Node:
        if isinstance(node, Condition):
            return self.condition(node)
        if isinstance(node, And):
            return And(tuple(self.bind(child) for child in node.children))
        if isinstance(node, Or):
            return Or(tuple(self.bind(child) for child in node.children))
        if isinstance(node, Not):
            return Not(self.bind(node.child))
        return node

    # --- one condition ---------------------------------------------------------------------------------
    def condition(self, cond: Condition) -> Condition:
        target = self.resolve(cond)
        op = self.operator(cond, target)
        if target is None or op is None:
            return cond
        operand = self.operand(cond, target, op)
        if operand is None:
            return cond
        return dataclasses.replace(cond, target=target, operand=operand)

    def resolve(self, cond: Condition) -> ResolvedPath | None:
        try:
            return self.schema.resolve(cond.path)
        except PathError as exc:
            if exc.too_long:
                message = lazy_message(_("the field path “%(path)s” is too long."), path=cond.path)
            elif exc.not_relation:
                message = lazy_message(
                    _("“%(parent)s” is not a relation, so “%(path)s” does not exist."),
                    parent=exc.parent,
                    path=cond.path,
                )
            elif exc.suggestions:
                message = lazy_message(
                    _("unknown field “%(path)s”. Did you mean %(suggestions)s?"),
                    path=cond.path,
                    suggestions=exc.suggestions,
                )
            else:
                message = lazy_message(_("unknown field “%(path)s”."), path=cond.path)
            self.problem(cond, _Code.UNKNOWN_FIELD, message, path=False)
            return None

    def operator(self, cond: Condition, target: ResolvedPath | None) -> Operator | None:
        op = operator(cond.operator)
        if op is None:
            message = lazy_message(
                _("unknown operator “%(operator)s”; use one of %(operators)s."),
                operator=cond.operator,
                operators=list(OPERATORS),
            )
            self.problem(cond, _Code.UNKNOWN_OPERATOR, message)
            return None
        if target is None:
            return op
        allowed = allowed_operators(target.leaf)
        if op.symbol not in allowed:
            message = lazy_message(
                _("“%(operator)s” cannot be used with %(field)s; use one of %(operators)s."),
                operator=op.symbol,
                field=target.label,
                operators=allowed,
            )
            self.problem(cond, _Code.OPERATOR_NOT_ALLOWED, message)
            return None
        return op

    def bad_value(self, cond: Condition, target: ResolvedPath, value: Any, expected: StrOrPromise) -> None:
        message = lazy_message(
            _("%(field)s needs %(expected)s, not %(found)s."),
            field=target.label,
            expected=expected,
            found=_describe(value),
        )
        self.problem(cond, _Code.BAD_VALUE, message)

    def operand(self, cond: Condition, target: ResolvedPath, op: Operator) -> Operand | None:
        spec, value = target.leaf, cond.value
        is_list = isinstance(value, tuple | list)
        if op.kind is OpKind.MEMBER and not is_list:
            message = lazy_message(
                _("“%(operator)s” needs a list of values, such as [%(example)s]."),
                operator=op.symbol,
                example=_describe(value),
            )
            self.problem(cond, _Code.NEEDS_LIST, message)
            return None
        if op.kind is not OpKind.MEMBER and is_list:
            message = lazy_message(
                _("“%(operator)s” needs a single value; use “in” for a list."), operator=op.symbol
            )
            self.problem(cond, _Code.NEEDS_SINGLE_VALUE, message)
            return None
        if op.kind in (OpKind.CONTAINS, OpKind.PATTERN):
            return self.text_match(cond, target, op)
        if op.kind is OpKind.ORDER:
            if _is_empty_value(spec, value):
                self.bad_value(cond, target, value, _expected(spec))
                return None
            try:
                typed, label, canonical = _scalar(spec, value)
            except _Bad as exc:
                self.bad_value(cond, target, value, exc.expected)
                return None
            return Operand(_ORDER_MODES[op.symbol], values=(typed,), labels=(label,), canonical=canonical)
        return self.member(cond, target, op, list(value) if is_list else [value])

    def text_match(self, cond: Condition, target: ResolvedPath, op: Operator) -> Operand | None:
        spec, value = target.leaf, cond.value
        try:
            text = _check_text(value)
        except _Bad as exc:
            self.bad_value(cond, target, value, exc.expected)
            return None
        if spec.is_relation:  # (i)like on a relation: the related names that contain the text
            ids, _labels = self.references(cond, target, [], contains=text, ignore_case=op.ignore_case)
            assert ids is not None  # with contains=, nothing is a missing reference: ids is a list
            return Operand(Mode.MEMBER, op.negated, tuple(ids), labels=(Quoted(text),), canonical=text)
        if op.kind is OpKind.CONTAINS:
            pattern = LikePattern.containing(text_key(text) if op.ignore_case else text)
        else:
            pattern = LikePattern.parse(text)
            if op.ignore_case:
                pattern = pattern.folded()
        if pattern.wildcards > MAX_WILDCARDS:
            self.bad_value(
                cond,
                target,
                value,
                lazy_message(_("a pattern with at most %(count)s “%%”"), count=MAX_WILDCARDS),
            )
            return None
        mode = Mode.ILIKE if op.ignore_case else Mode.LIKE
        return Operand(mode, op.negated, pattern=pattern, labels=(Quoted(text),), canonical=text)

    def member(
        self, cond: Condition, target: ResolvedPath, op: Operator, values: list[Any]
    ) -> Operand | None:
        spec = target.leaf
        if len(values) > MAX_LIST:
            self.bad_value(
                cond, target, values, lazy_message(_("a list of at most %(count)s values"), count=MAX_LIST)
            )
            return None
        empty = False
        typed: list[Any] = []
        labels: list[Any] = []
        canonical: list[Any] = []
        ok = True
        for value in values:
            if _is_empty_value(spec, value):
                empty = True
                canonical.append(None if spec.type is FieldType.BOOL else False)
                continue
            try:
                if spec.is_relation:
                    item, label, canon = _reference(spec, value), None, value
                else:
                    item, label, canon = _scalar(spec, value)
            except _Bad as exc:
                self.bad_value(cond, target, value, exc.expected)
                ok = False
                continue
            if item not in typed or spec.is_relation:
                typed.append(item)
                labels.append(label)
            canonical.append(canon)
        if not ok:
            return None
        if spec.is_relation and typed:
            ids, found = self.references(cond, target, typed)
            if ids is None:
                return None
            typed, labels = list(ids), list(found)
        if empty:
            labels.append(_("empty"))
        written: Any = canonical if op.kind is OpKind.MEMBER else canonical[0]
        return Operand(Mode.MEMBER, op.negated, tuple(typed), empty, labels=tuple(labels), canonical=written)

    # --- related records -----------------------------------------------------------------------------
    def candidates(self, lookup: NameLookup, refs: list[Hashable]) -> list[Candidate]:
        if lookup.load_all is not None:
            key = id(lookup)
            if key not in self._loaded:
                self._loaded[key] = list(lookup.load_all())
            return self._loaded[key]
        assert lookup.find is not None
        ids = tuple(ref for ref in refs if isinstance(ref, int))
        keys = tuple(lookup.key_fold(ref) for ref in refs if isinstance(ref, str))
        return list(lookup.find(ids, keys))

    def references(
        self,
        cond: Condition,
        target: ResolvedPath,
        refs: list[Hashable],
        *,
        contains: str | None = None,
        ignore_case: bool = True,
    ) -> tuple[list[Hashable] | None, list[Any]]:
        """The ids and labels of the records ``refs`` name (or whose names contain ``contains``: folded
        keys with ``ignore_case``, as ``ilike``; else the label as written, matching case, as ``like``).

        A reference that matches nothing is a problem (returns ``None`` ids); ``contains`` may match nothing.
        """
        spec = target.leaf
        lookup = spec.lookup
        if lookup is None:  # ids only (checked by _reference), no query
            return list(dict.fromkeys(refs)), [str(ref) for ref in dict.fromkeys(refs)]
        candidates = self.candidates(lookup, refs)
        matched: dict[Hashable, Any] = {}
        if contains is not None:
            needle = lookup.key_fold(contains) if ignore_case else contains
            for cand in candidates:
                if any(needle in key for key in cand.keys) if ignore_case else needle in str(cand.label):
                    matched.setdefault(cand.id, cand.label)
            return list(matched), list(matched.values())
        missing = False
        for ref in refs:
            key = lookup.key_fold(ref) if isinstance(ref, str) else None
            hits = [
                cand
                for cand in candidates
                if (type(cand.id) is type(ref) and cand.id == ref) or (key and key in cand.keys)
            ]
            if not hits:
                missing = True
                message = lazy_message(
                    _("%(value)s matches no %(field)s."), value=_describe(ref), field=spec.label
                )
                self.problem(cond, _Code.NO_MATCH, message)
            for cand in hits:
                matched.setdefault(cand.id, cand.label)
        if missing:
            return None, []
        return list(matched), list(matched.values())


def bind(tree: Node, schema: Schema) -> tuple[Node, list[RuleProblem]]:
    """The tree with every condition bound to ``schema``, and every problem found.

    The tree is usable only when no problem is returned. Related records are looked up (database queries
    through the schema's lookups) only for conditions whose field, operator and value types are valid.
    """
    if isinstance(tree, TrueDomain):
        return tree, []
    binder = _Binder(schema)
    bound = binder.bind(tree)
    return bound, binder.problems
