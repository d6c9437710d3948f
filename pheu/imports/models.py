"""Imports of leads and opportunities: the run, its per-row problems and the records it wrote.

An :class:`Import` is one run over one file (``dry_run`` runs write nothing). ``ImportLine`` keeps, per
record written, what is needed to revert the import as a whole: created records are deleted, updated ones
get back the values kept in ``before``.

What went wrong (``Import.message``, ``ImportIssue.reason``) is stored as a code and its parameters
(:mod:`pheu.imports.reasons`) and worded when read, in the reader's language — not in the importer's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from pheu.imports.choices import ImportKind, ImportStatus, IssueLevel, LineAction
from pheu.imports.reasons import word


class Import(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices, default=ImportKind.LEADS)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    # What was read from the file (shown in the preview): format, encoding, delimiter, headers.
    file_format = models.CharField(_("format"), max_length=8, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=4, blank=True)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    # Header position (as a string) → field name; columns absent from it are not imported.
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    team = models.ForeignKey(
        "teams.Team",
        verbose_name=_("default team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    atomic = models.BooleanField(_("all or nothing"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    reverted_at = models.DateTimeField(_("reverted"), null=True, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows read"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    warning_count = models.PositiveIntegerField(_("rows with warnings"), default=0)
    duplicate_count = models.PositiveIntegerField(_("possible duplicates"), default=0)
    # Why it failed, or why it wrote nothing: a code of pheu.imports.reasons and its parameters; empty: all
    # went well. ``message_text``: a message without a code (runs finished before codes, a failure of no
    # known code), as worded then.
    message_code = models.CharField(_("message code"), max_length=40, blank=True)
    message_params = models.JSONField(_("message parameters"), default=dict, blank=True)
    message_text = models.TextField(_("message as worded at the import"), blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.REVERTED)

    @property
    def message(self) -> str:
        """Why the run failed or wrote nothing, in the active language ("" when all went well)."""
        return word(self.message_code, self.message_params, fallback=self.message_text)


class ImportIssue(models.Model):
    """A problem in one cell: the spreadsheet row number (header = 1), column, value and why. An error: the
    row was not imported; a warning: the row was imported, the value kept as typed (not normalised) or
    left out. Why: ``code`` and ``params`` (pheu.imports.reasons), worded by :attr:`reason` in the active
    language; ``reason_text`` only on issues written before codes (the reason as worded then)."""

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="issues")
    level = models.CharField(_("level"), max_length=8, choices=IssueLevel.choices, default=IssueLevel.ERROR)
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=255, blank=True)
    value = models.TextField(_("value"), blank=True)
    code = models.CharField(_("reason code"), max_length=40, blank=True)
    params = models.JSONField(_("reason parameters"), default=dict, blank=True)
    reason_text = models.TextField(_("reason as worded at the import"), blank=True)

    class Meta:
        verbose_name = _("import error")
        verbose_name_plural = _("import errors")
        ordering = ["row", "id"]

    def __str__(self) -> str:
        return f"{self.row}: {self.column}: {self.reason}"

    @property
    def reason(self) -> str:
        """Why, in the active language (the reader's)."""
        return word(self.code, self.params, fallback=self.reason_text)


class ImportLine(models.Model):
    """One record written by an import (for revert and for the duplicate report).

    ``lead_id`` is a plain number, not a foreign key: the line outlives the record when a revert deletes it.
    ``before`` holds the updated record's previous values (column name → JSON value, ``tags`` → ids).
    ``duplicate_of_id``: another record with the same normalised e-mail, phone or mobile, when there is one.
    """

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="lines")
    row = models.PositiveIntegerField(_("row"))
    lead_id = models.BigIntegerField(_("record"), db_index=True)
    action = models.CharField(_("action"), max_length=8, choices=LineAction.choices)
    before = models.JSONField(null=True, blank=True)
    duplicate_of_id = models.BigIntegerField(_("possible duplicate of"), null=True, blank=True)

    class Meta:
        verbose_name = _("imported record")
        verbose_name_plural = _("imported records")
        indexes = [models.Index(fields=["import_run", "action"], name="import_line_action_idx")]

    def __str__(self) -> str:
        return f"{self.row}: {self.action} #{self.lead_id}"
