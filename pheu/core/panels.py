"""Extension points of record pages: the apps that work on a record add their panels to its page.

A lead's page shows panels of scoring, assignment, duplicates, activities, quotations…; those apps depend on
``leads``, not the other way round, so each registers its panels in its ``AppConfig.ready`` and the page
asks this registry. A panel is a template plus a function that returns its context, or ``None`` to hide it
(for a record it does not apply to, or a user who may not see it).

Slots: ``actions`` (buttons next to the page title), ``main`` (below the record's fields) and ``side``
(above the history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.http import HttpRequest

Slot = Literal["actions", "main", "side"]
ContextFunction = Callable[[HttpRequest, Any], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    page: str  # "lead" or "partner"
    name: str
    slot: Slot
    template: str
    context: ContextFunction
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: Mapping[str, Any]


_PANELS: dict[tuple[str, str], Panel] = {}


def register_panel(
    *, page: str, name: str, slot: Slot, template: str, context: ContextFunction, order: int = 100
) -> None:
    """Add (or replace, by ``page`` and ``name``) a panel of a record page."""
    _PANELS[(page, name)] = Panel(page, name, slot, template, context, order)


def panels_for(page: str, request: HttpRequest, record: Any) -> dict[str, list[RenderedPanel]]:
    """The panels of ``record``'s page by slot, in order; the template includes each with ``panel``."""
    slots: dict[str, list[RenderedPanel]] = {"actions": [], "main": [], "side": []}
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        if panel.page != page:
            continue
        context = panel.context(request, record)
        if context is not None:
            slots[panel.slot].append(RenderedPanel(panel.name, panel.template, context))
    return slots
