"""The steps the apps built on leads add to a lead's writes, without ``leads`` importing them.

``leads`` is below ``scoring`` and ``assignment`` (STYLE.md, "Dependencies point one way"), yet creating a
lead scores it, assigns it and predicts its probability, and every change of leads re-scores them. Those
apps register their steps here in their ``AppConfig.ready()`` (their ``lead_steps`` modules); the lead
services call them at fixed points. The registry is filled once at start-up and read as a tuple: a
creation pays a loop over a few functions, no signal and no import.

Creation (:func:`create_lead`): every :class:`CreationStep` is called on the unsaved lead, phase by phase
(:class:`Phase`: its facts, then its owner, then what follows from its owner), so that it is inserted once
with its final values; a step that has more to do once the lead is stored returns it as an
:data:`AfterInsert`, called in the same order after the insert (the lead then has its id, its tags and its
history entry). Changes: :func:`leads_changed`, called by every service that changed leads, in its
transaction and after its writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from django.db.models import QuerySet

from pheu.contacts.models import Tag
from pheu.core.models import PheuSettings
from pheu.core.rows import Dependant
from pheu.leads.models import Lead


class Phase(IntEnum):
    """When a creation step runs, before the insert. Steps of one phase run in the order they registered."""

    FACTS = 10  # what the lead is: its score, the page views waiting for it (scoring)
    OWNER = 20  # who takes it: its team and salesperson, decided on its facts (assignment)
    DERIVED = 30  # what follows from its owner: the predicted probability, per team (scoring)


@dataclass(slots=True)
class NewLead:
    """A lead being created, as the creation steps see it. ``lead`` has every value the person or channel
    gave (normalised, ``score`` 0) and no id yet; steps set its values on the instance.

    ``facts_complete``: True while the instance holds every fact the rules read; a step that will add facts
    only once the lead is stored (page views waiting under its e-mail) sets it False, and a step deciding
    on the facts (assignment) then decides after the insert, in the database.

    ``rows``: rows a step has to store with the lead, each ``(row, attname)`` taking the lead's id in
    ``row.attname`` (an assignment's decision). They are inserted with the lead, in one statement where the
    database allows (:func:`pheu.core.rows.insert_with`), before the after-insert steps run. The fields steps
    write are ``facts_complete`` and ``rows``.
    """

    lead: Lead
    tags: Sequence[Tag]
    settings: PheuSettings
    visitor_id: str = ""
    facts_complete: bool = True
    rows: list[Dependant] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LeadsChanged:
    """Leads a service has just written (in its transaction, after its writes).

    ``lead_ids``: ids, or a queryset of ids (used as a subquery: a batch of any size never becomes a list in
    the SQL). ``fields``: the fields written, as the rule language names them ("team", "user"…); None when
    any may have changed. ``outcome_may_change``: won, lost or restored, or fields of closed records
    changed (what the predictive model learns from).
    """

    lead_ids: Collection[int] | QuerySet[Any]
    fields: frozenset[str] | None = None
    outcome_may_change: bool = True


AfterInsert = Callable[[], None]
CreationStep = Callable[[NewLead], AfterInsert | None]
# Returns whether it rewrote some of the leads' scores: a caller holding an instance reads its score again.
ChangeStep = Callable[[LeadsChanged], bool]

_CREATION: dict[Phase, tuple[CreationStep, ...]] = {}
_CREATION_STEPS: tuple[CreationStep, ...] = ()
_CHANGE_STEPS: tuple[ChangeStep, ...] = ()


def register_creation_step(*, phase: Phase, step: CreationStep) -> None:
    """Call ``step`` on every lead about to be created, in ``phase`` (once, however often registered)."""
    global _CREATION_STEPS
    if step in _CREATION.get(phase, ()):
        return
    _CREATION[phase] = (*_CREATION.get(phase, ()), step)
    _CREATION_STEPS = tuple(step for key in sorted(_CREATION) for step in _CREATION[key])


def register_change_step(step: ChangeStep) -> None:
    """Call ``step`` after every write of leads (once, however often registered)."""
    global _CHANGE_STEPS
    if step not in _CHANGE_STEPS:
        _CHANGE_STEPS = (*_CHANGE_STEPS, step)


def before_insert(new: NewLead) -> list[AfterInsert]:
    """Run the creation steps on ``new``; what they left for after the insert, in their order."""
    after: list[AfterInsert] = []
    for step in _CREATION_STEPS:
        then = step(new)
        if then is not None:
            after.append(then)
    return after


def leads_changed(
    *,
    lead_ids: Collection[int] | QuerySet[Any],
    fields: frozenset[str] | None = None,
    outcome_may_change: bool = True,
) -> bool:
    """Tell the apps built on leads that ``lead_ids`` were just written (see :class:`LeadsChanged`). Call it
    in the transaction that wrote them, after the writes. Returns whether their scores changed."""
    change = LeadsChanged(lead_ids=lead_ids, fields=fields, outcome_may_change=outcome_may_change)
    rescored = False
    for step in _CHANGE_STEPS:
        rescored = step(change) or rescored
    return rescored
