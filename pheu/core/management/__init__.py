"""What Pheu's management commands share."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def lazy_help(text: StrOrPromise) -> str:
    """``text`` as an argparse ``help=``, unchanged: a lazy translation stays lazy, so ``--help`` is written
    in the language active when it prints. argparse only %-formats and writes a help string, which a lazy
    string supports; its stubs ask for ``str``, hence the cast (no conversion happens here)."""
    return cast(str, text)
