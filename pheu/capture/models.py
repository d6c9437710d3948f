"""Lead capture: each team's web-to-lead form settings, the IMAP mailboxes polled for leads, the e-mails
kept for threading and the files that came with them (SPEC section 3)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from pheu.capture.crypto import decrypt_secret, encrypt_secret
from pheu.leads.models import Lead
from pheu.teams.models import Team


class WebForm(models.Model):
    """How a team's public web-to-lead form behaves (the key itself is ``Team.form_key``).

    ``allowed_origins``: the web sites (``https://www.example.vn``, one a line) whose pages may post to the
    form with JavaScript and read the answer (CORS); besides them, those of ``PHEU_WEBFORM_ALLOWED_ORIGINS``.
    A plain HTML form posts from anywhere. ``redirect_url``: where a visitor goes after sending the HTML
    form; empty: Pheu's own thank-you page.
    """

    team = models.OneToOneField(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="web_form"
    )
    allowed_origins = models.TextField(
        _("allowed web sites"),
        blank=True,
        help_text=_("Addresses of the sites that post to the form with JavaScript, one a line."),
    )
    redirect_url = models.URLField(
        _("thank-you page"),
        max_length=500,
        blank=True,
        help_text=_("Where visitors go after sending the form. Empty: Pheu's own thank-you page."),
    )

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")

    def __str__(self) -> str:
        return str(self.team)

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]


class Mailbox(models.Model):
    """An IMAP mailbox polled for leads: every unseen message of ``folder`` becomes a lead of ``team``
    (or a reply in the history of the lead it answers).

    The password is stored encrypted with a key derived from ``SECRET_KEY`` (:mod:`pheu.capture.crypto`):
    changing the secret key makes it unreadable, and the mailbox then reports that it must be typed again.
    ``last_error`` is empty after a fetch without problems.
    """

    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey(
        Team,
        verbose_name=_("sales team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    host = models.CharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    use_tls = models.BooleanField(_("TLS"), default=True, help_text=_("Encrypted connection (IMAPS)."))
    username = models.CharField(_("user name"), max_length=255)
    password_encrypted = models.TextField(editable=False, blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    active = models.BooleanField(_("active"), default=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def set_password(self, raw: str) -> None:
        self.password_encrypted = encrypt_secret(raw) if raw else ""

    def get_password(self) -> str:
        """The clear password; raises ``SecretUnreadableError`` when the secret key changed since."""
        return decrypt_secret(self.password_encrypted) if self.password_encrypted else ""


class MailMessage(models.Model):
    """An e-mail that became a lead or was appended to one: its Message-ID threads the replies.

    ``message_id`` is unique: a message imported once is never imported again (a fetch interrupted between
    the commit and marking the message seen finds it here and only marks it). A message without a
    Message-ID gets one made from a hash of its bytes.
    """

    class Kind(models.TextChoices):
        NEW_LEAD = "lead", _("New lead")
        REPLY = "reply", _("Reply")

    message_id = models.CharField(_("Message-ID"), max_length=500, unique=True)
    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="mail_messages"
    )
    mailbox = models.ForeignKey(
        Mailbox,
        verbose_name=_("mailbox"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)

    class Meta:
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject or self.message_id


class Attachment(models.Model):
    """A file that came with an e-mail, kept under ``MEDIA_ROOT`` and served only to who sees the lead."""

    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        MailMessage,
        verbose_name=_("e-mail"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/", max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename
