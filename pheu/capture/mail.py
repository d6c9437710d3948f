"""Reading RFC 5322 messages into what a lead needs: pure functions, no database.

Headers in encoded-word form (``=?UTF-8?B?…?=``, ``=?UTF-8?Q?…?=``) and bodies in any declared charset are
decoded by the standard library's ``email`` package (``policy.default``); a part whose charset is unknown
or lies is decoded as UTF-8 with replacement characters rather than refused.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import nh3
from django.utils.html import linebreaks

from pheu.lib.html import sanitize_html
from pheu.lib.text import strip_control

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_LEAD_TAG = re.compile(r"\[#(\d{1,18})\]")


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    """One message as a lead sees it. ``description`` is sanitised HTML, ``text`` plain text."""

    message_id: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender_name: str
    sender_email: str
    recipients: tuple[str, ...]  # To, Cc, Delivered-To, X-Original-To addresses, lower-case
    sent_at: datetime | None
    description: str
    text: str
    attachments: tuple[MailAttachment, ...]

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The Message-IDs this message answers, nearest first."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))

    @property
    def lead_tag(self) -> int | None:
        """The id in a ``[#123]`` tag of the subject (Pheu puts it in the subjects of e-mails it sends)."""
        match = _LEAD_TAG.search(self.subject)
        return int(match.group(1)) if match else None


def _header(msg: Message, name: str) -> str:
    """The header's decoded text on one line, without control characters (an encoded word may hold NUL)."""
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not lose the message
        value = None
    if value is None:
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        value = raw[0] if raw else ""
    return " ".join(strip_control(str(value)).split())


def _message_ids(text: str) -> tuple[str, ...]:
    return tuple(_MESSAGE_ID.findall(text))


def _part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]  # an EmailMessage part (policy=default); typed as the legacy Message
    except (LookupError, UnicodeError, AttributeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else str(payload)
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    return strip_control(str(content))


def html_to_text(raw: str) -> str:
    """The text of an HTML body: tags dropped, entities decoded, blank runs collapsed."""
    spaced = re.sub(r"(?i)<\s*(br|/p|/div|/li|/tr|/h\d)\s*/?>", "\n", raw)
    text = html.unescape(nh3.clean(spaced, tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    """(description as sanitised HTML, plain text)."""
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    text = _part_text(text_part).strip() if text_part is not None else ""
    if html_part is not None:
        description = sanitize_html(_part_text(html_part)).strip()
        return description, text or html_to_text(description)
    return (linebreaks(text, autoescape=True) if text else ""), text


def _attachments(msg: EmailMessage) -> tuple[MailAttachment, ...]:
    found = []
    for part in msg.iter_attachments():
        filename = part.get_filename()
        if not filename:
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        name = strip_control(filename).replace("/", "_").replace("\\", "_").strip() or "attachment"
        found.append(
            MailAttachment(filename=name[:255], content_type=part.get_content_type(), content=payload)
        )
    return tuple(found)


def parse_message(raw: bytes) -> ParsedMail:
    """Read ``raw`` (the bytes of an RFC 5322 message). Never raises for a damaged message: missing parts
    come out empty; a message without a Message-ID gets ``<sha256 of the bytes@pheu.generated>``."""
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    ids = _message_ids(_header(msg, "Message-ID"))
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@pheu.generated>"
    sender_name, sender_email = parseaddr(_header(msg, "From"))
    recipients = tuple(
        address.lower()
        for _name, address in getaddresses(
            [_header(msg, name) for name in ("To", "Cc", "Delivered-To", "X-Original-To")]
        )
        if address
    )
    try:
        sent_at: datetime | None = parsedate_to_datetime(_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        sent_at = None
    if sent_at is not None and sent_at.tzinfo is None:
        sent_at = None  # a date without a zone is ambiguous: keep the time it arrived instead
    try:
        description, text = _bodies(msg)
        attachments = _attachments(msg)
    except Exception:  # a broken MIME structure: keep the message, with what its first part says
        payload = msg.get_payload(decode=True)
        text = strip_control(payload.decode("utf-8", errors="replace")) if isinstance(payload, bytes) else ""
        description, attachments = linebreaks(text, autoescape=True), ()
    return ParsedMail(
        message_id=message_id[:500],
        in_reply_to=_message_ids(_header(msg, "In-Reply-To")),
        references=_message_ids(_header(msg, "References")),
        subject=_header(msg, "Subject"),
        sender_name=sender_name.strip(),
        sender_email=sender_email.strip(),
        recipients=recipients,
        sent_at=sent_at,
        description=description,
        text=text,
        attachments=attachments,
    )
