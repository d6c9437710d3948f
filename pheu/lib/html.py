"""User-supplied rich text is sanitised with nh3 before it is stored or shown."""

from __future__ import annotations

import nh3

_TAGS = {
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "blockquote",
    "pre",
    "code",
    "h1",
    "h2",
    "h3",
    "h4",
    "span",
    "div",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def sanitize_html(raw: str | None) -> str:
    """Keep formatting tags and safe links; drop scripts, styles, event handlers and unknown tags."""
    if not raw:
        return ""
    return nh3.clean(raw, tags=_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer")
