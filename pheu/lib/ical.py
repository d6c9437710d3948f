"""iCalendar (RFC 5545) text for calendar apps: a ``VCALENDAR`` of ``VEVENT``s, written by hand (a few
properties; no dependency). Lines end in CRLF and are folded at 75 octets; text values are escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

PRODUCT = "-//Pheu//CRM//VI"


@dataclass(frozen=True)
class Event:
    """``start``/``end``: aware datetimes (written in UTC), or dates for an all-day event (``end``
    exclusive, as RFC 5545 wants)."""

    uid: str
    summary: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    stamp: dt.datetime
    description: str = ""
    url: str = ""
    location: str = ""
    status: str = ""  # CONFIRMED, CANCELLED… ("" leaves it out)


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """``line`` folded into lines of at most 75 octets (UTF-8 characters never split), CRLF-terminated."""
    parts: list[str] = []
    current = ""
    size = 0
    for char in line:
        width = len(char.encode())
        if size + width > (75 if not parts else 74):
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts) + "\r\n"


def _when(name: str, value: dt.datetime | dt.date) -> str:
    if isinstance(value, dt.datetime):
        return f"{name}:{value.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    return f"{name};VALUE=DATE:{value:%Y%m%d}"


def calendar(events: Iterable[Event], *, name: str) -> str:
    """The calendar named ``name`` holding ``events``."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    lines.append(f"X-WR-CALNAME:{escape(name)}")
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            _when("DTSTAMP", event.stamp),
            _when("DTSTART", event.start),
            _when("DTEND", event.end),
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        if event.location:
            lines.append(f"LOCATION:{escape(event.location)}")
        if event.url:
            lines.append(f"URL:{event.url}")
        if event.status:
            lines.append(f"STATUS:{event.status}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines)
