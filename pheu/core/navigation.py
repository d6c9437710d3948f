"""The main menu: each app adds its entries in its ``AppConfig.ready``; ``base.html`` shows them in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    name: str
    label: Any  # a lazy translation, rendered in the reader's language
    url_name: str
    app_names: tuple[str, ...]  # the URL namespaces under which the entry shows as active
    order: int = 100
    visible: Callable[[Any], bool] | None = None  # by user; None: every signed-in user


@dataclass(frozen=True)
class ShownNavItem:
    label: Any
    url: str
    active: bool


_ITEMS: dict[str, NavItem] = {}


def register_nav(
    *,
    name: str,
    label: Any,
    url_name: str,
    app_names: tuple[str, ...] = (),
    order: int = 100,
    visible: Callable[[Any], bool] | None = None,
) -> None:
    """Add (or replace, by ``name``) an entry of the main menu."""
    _ITEMS[name] = NavItem(name, label, url_name, app_names, order, visible)


def nav_items(user: Any, current_app: str | None) -> list[ShownNavItem]:
    """The entries ``user`` sees, in order, the one of ``current_app`` marked active."""
    items = sorted(_ITEMS.values(), key=lambda item: (item.order, item.name))
    return [
        ShownNavItem(item.label, reverse(item.url_name), current_app in item.app_names)
        for item in items
        if item.visible is None or item.visible(user)
    ]
