"""E-mail to lead: one message becomes a lead, or a reply in the history of the lead it answers; IMAP
mailboxes are fetched message by message, each marked seen only once its lead is committed.

Reliability: a message whose import fails (bad data, a database error) is rolled back, left unseen on the
server for the next fetch, logged, and named in the mailbox's ``last_error`` — never lost. A message
imported whose "seen" flag could not be set is recognised by its Message-ID next time and only marked.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.capture.crypto import SecretUnreadableError
from pheu.capture.exceptions import CaptureError
from pheu.capture.imap import ImapError, ImapSession
from pheu.capture.mail import ParsedMail, parse_message
from pheu.capture.models import Attachment, Mailbox, MailMessage
from pheu.contacts.models import Partner
from pheu.core.models import HistoryKind
from pheu.core.services import log_entry
from pheu.leads.models import Lead, Source
from pheu.leads.services import create_lead
from pheu.lib.emails import InvalidEmailError, clean_email, email_key
from pheu.teams.models import Team

logger = logging.getLogger(__name__)

EMAIL_SOURCE = "E-mail"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024  # an .eml upload larger than this is refused


@dataclass(frozen=True)
class ImportResult:
    """What one message did: ``created`` a new lead, appended a ``reply``, or nothing (``duplicate``: its
    Message-ID was imported before)."""

    lead: Lead
    created: bool = False
    reply: bool = False
    duplicate: bool = False


def _follow_merges(lead: Lead) -> Lead:
    seen = set()
    while not lead.active and lead.merged_into_id and lead.pk not in seen:
        seen.add(lead.pk)
        lead = Lead.objects.get(pk=lead.merged_into_id)
    return lead


def _thread_lead(mail: ParsedMail, actor: Any) -> Lead | None:
    """The lead ``mail`` answers: by In-Reply-To/References, else by a ``[#id]`` tag in the subject."""
    leads = Lead.objects.all() if actor is None else Lead.objects.visible_to(actor)
    if mail.thread_ids:
        known = dict(
            MailMessage.objects.filter(message_id__in=mail.thread_ids).values_list("message_id", "lead_id")
        )
        for message_id in mail.thread_ids:
            if message_id in known and (lead := leads.filter(pk=known[message_id]).first()):
                return _follow_merges(lead)
    if mail.lead_tag is not None and (lead := leads.filter(pk=mail.lead_tag).first()):
        return _follow_merges(lead)
    return None


def _team_by_alias(recipients: Collection[str]) -> Team | None:
    """The active team whose e-mail alias (a whole address, or its part before the @) received it."""
    if not recipients:
        return None
    cond = Q()
    for address in recipients:
        cond |= Q(email_alias__iexact=address) | Q(email_alias__iexact=address.partition("@")[0])
    return Team.objects.filter(cond, active=True).exclude(email_alias="").order_by("sequence", "id").first()


def _sender_email(mail: ParsedMail) -> str:
    try:
        return clean_email(mail.sender_email)[:254] if mail.sender_email else ""
    except InvalidEmailError:
        return ""


def _store_attachments(*, mail: ParsedMail, lead: Lead, message: MailMessage) -> None:
    for item in mail.attachments:
        attachment = Attachment(
            lead=lead,
            message=message,
            filename=item.filename,
            content_type=item.content_type[:100],
            size=len(item.content),
        )
        attachment.file.save(item.filename, ContentFile(item.content), save=False)
        attachment.save()


def _history_text(mail: ParsedMail) -> str:
    sender = f"{mail.sender_name} <{mail.sender_email}>" if mail.sender_name else mail.sender_email
    header = _("From %(sender)s: %(subject)s") % {"sender": sender or "?", "subject": mail.subject or "—"}
    return f"{header}\n\n{mail.text}".strip()


@transaction.atomic
def import_message(
    *, raw: bytes, mailbox: Mailbox | None = None, team: Team | None = None, actor: Any = None
) -> ImportResult:
    """Turn one RFC 5322 message into a lead, or a reply into its lead's history (``HistoryKind.EMAIL``).

    New lead: subject → name, sender → e-mail and contact name, body (text, or sanitised HTML) →
    description, the customer with that e-mail address linked, source "E-mail", team = the mailbox's,
    else ``team``, else the team whose alias received it. ``actor`` (an upload by a person) creates the
    lead as that person would, and only threads replies into leads they may see; ``None`` is the system.
    Attachments are kept on the lead. A Message-ID imported before does nothing (``duplicate``).
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise CaptureError(
            field_errors={
                "file": [_("The message is larger than %(mb)d MB.") % {"mb": MAX_MESSAGE_BYTES >> 20}]
            }
        )
    if not raw.strip():
        raise CaptureError(field_errors={"file": [_("The file is empty.")]})
    mail = parse_message(raw)
    existing = MailMessage.objects.filter(message_id=mail.message_id).select_related("lead").first()
    if existing is not None:
        return ImportResult(lead=existing.lead, duplicate=True)
    thread_lead = _thread_lead(mail, actor)
    kind = MailMessage.Kind.REPLY if thread_lead is not None else MailMessage.Kind.NEW_LEAD
    if thread_lead is not None:
        lead = thread_lead
    else:
        team = (mailbox.team if mailbox is not None else None) or team or _team_by_alias(mail.recipients)
        email = _sender_email(mail)
        values: dict[str, Any] = {
            "name": (mail.subject or _("E-mail from %(sender)s") % {"sender": email or "?"})[:200],
            "contact_name": mail.sender_name[:200],
            "email": email,
            "description": mail.description,
            "source": Source.objects.get_or_create(name=EMAIL_SOURCE)[0],
        }
        if email:
            partner = Partner.objects.filter(email_normalized=email_key(email), active=True).order_by("id")
            values["partner"] = partner.first()
        if team is not None:
            values["team"] = team
        lead = create_lead(actor=actor, values=values)
    log_entry(record=lead, kind=HistoryKind.EMAIL, author=actor, body=_history_text(mail))
    try:
        with transaction.atomic():
            message = MailMessage.objects.create(
                message_id=mail.message_id,
                lead=lead,
                mailbox=mailbox,
                kind=kind,
                subject=mail.subject[:500],
                sender=mail.sender_email[:320],
                sent_at=mail.sent_at,
            )
    except IntegrityError as exc:  # imported at the same moment by another worker: that one counts
        raise CaptureError(
            _("This message is being imported by another process."), code=CaptureError.Code.INVALID
        ) from exc
    _store_attachments(mail=mail, lead=lead, message=message)
    return ImportResult(lead=lead, created=thread_lead is None, reply=thread_lead is not None)


# --- IMAP mailboxes ---------------------------------------------------------------------------------
@dataclass
class FetchResult:
    """One fetch of one mailbox: counts, and the problems (empty when all went well)."""

    mailbox_id: int
    mailbox: str
    new_leads: int = 0
    replies: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox_id,
            "name": self.mailbox,
            "new_leads": self.new_leads,
            "replies": self.replies,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "errors": list(self.errors),
        }


def _session(mailbox: Mailbox) -> ImapSession:
    return ImapSession(
        host=mailbox.host,
        port=mailbox.port,
        use_tls=mailbox.use_tls,
        username=mailbox.username,
        password=mailbox.get_password(),
        folder=mailbox.folder,
        timeout=settings.PHEU_IMAP_TIMEOUT,
    )


def fetch_mailbox(*, mailbox: Mailbox) -> FetchResult:
    """Import every unseen message of ``mailbox``, oldest first, each in its own transaction, and mark it
    seen after its commit. Never raises for a server or message problem: they are logged, counted, and
    stored in ``mailbox.last_error`` (emptied by a fetch without problems)."""
    result = FetchResult(mailbox_id=mailbox.pk, mailbox=mailbox.name)
    try:
        with _session(mailbox) as session:
            for uid in session.unseen_uids():
                try:
                    outcome = import_message(raw=session.fetch(uid), mailbox=mailbox)
                except ImapError:
                    raise
                except Exception as exc:  # this message stays unseen, for the next fetch
                    logger.exception("mailbox %s: message UID %s could not be imported", mailbox.pk, uid)
                    result.failed += 1
                    result.errors.append(
                        _("Message %(uid)s: %(error)s")
                        % {"uid": uid, "error": str(exc) or type(exc).__name__}
                    )
                    continue
                session.mark_seen(uid)
                result.new_leads += outcome.created
                result.replies += outcome.reply
                result.duplicates += outcome.duplicate
    except SecretUnreadableError:
        result.errors.append(_("The password cannot be read (the secret key changed): type it again."))
    except ImapError as exc:
        logger.warning("mailbox %s: %s", mailbox.pk, exc)
        result.errors.append(str(exc))
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_error="\n".join(result.errors)[:5000], last_fetched_at=timezone.now()
    )
    if result.new_leads or result.replies or result.failed:
        logger.info(
            "mailbox %s fetched: new_leads=%s replies=%s failed=%s",
            mailbox.pk,
            result.new_leads,
            result.replies,
            result.failed,
        )
    return result


def fetch_mailboxes(*, mailbox_ids: Collection[int] | None = None) -> list[FetchResult]:
    """Fetch the active mailboxes (all of them, or those of ``mailbox_ids``), one after the other."""
    mailboxes = Mailbox.objects.filter(active=True).select_related("team")
    if mailbox_ids is not None:
        mailboxes = mailboxes.filter(pk__in=list(mailbox_ids))
    return [fetch_mailbox(mailbox=mailbox) for mailbox in mailboxes]


MAILBOX_FIELDS: tuple[str, ...] = ("name", "team", "host", "port", "use_tls", "username", "folder", "active")


def _mailbox_errors(values: Mapping[str, Any], *, creating: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    required = {
        "name": _("Name"),
        "host": _("IMAP server"),
        "username": _("User name"),
        "folder": _("Folder"),
    }
    for name, label in required.items():
        if (creating or name in values) and not str(values.get(name) or "").strip():
            errors[name] = [_("%(field)s is required.") % {"field": label}]
    if creating and not values.get("password"):
        errors["password"] = [_("The password is required.")]
    port = values.get("port")
    if port is not None and not (isinstance(port, int) and 0 < port < 65536):
        errors["port"] = [_("A port is a number from 1 to 65535.")]
    return errors


def _apply_mailbox(mailbox: Mailbox, values: Mapping[str, Any]) -> None:
    for name in MAILBOX_FIELDS:
        if name in values:
            value = values[name]
            setattr(mailbox, name, value.strip() if isinstance(value, str) else value)
    if values.get("password"):
        mailbox.set_password(values["password"])


def _check_manager(actor: Any) -> None:
    if not getattr(actor, "manages_configuration", False):
        raise CaptureError(_("Only managers change mailboxes."), code=CaptureError.Code.FORBIDDEN)


@transaction.atomic
def create_mailbox(*, actor: Any, values: Mapping[str, Any]) -> Mailbox:
    """Add a mailbox to poll (managers only); the password is stored encrypted."""
    _check_manager(actor)
    values = {"folder": "INBOX", **values}
    errors = _mailbox_errors(values, creating=True)
    if errors:
        raise CaptureError(code=CaptureError.Code.INVALID, field_errors=errors)
    mailbox = Mailbox()
    _apply_mailbox(mailbox, values)
    mailbox.save()
    return mailbox


@transaction.atomic
def update_mailbox(*, actor: Any, mailbox: Mailbox, values: Mapping[str, Any]) -> Mailbox:
    """Change a mailbox (managers only); an empty or missing password keeps the stored one."""
    _check_manager(actor)
    errors = _mailbox_errors(values, creating=False)
    if errors:
        raise CaptureError(code=CaptureError.Code.INVALID, field_errors=errors)
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    _apply_mailbox(mailbox, values)
    mailbox.save()
    return mailbox


@transaction.atomic
def delete_mailbox(*, actor: Any, mailbox: Mailbox) -> None:
    """Stop polling a mailbox and forget it; the leads and e-mails it brought stay."""
    _check_manager(actor)
    Mailbox.objects.filter(pk=mailbox.pk).delete()
