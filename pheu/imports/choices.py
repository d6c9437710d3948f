from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    LEADS = "leads", _("Leads")
    OPPORTUNITIES = "opportunities", _("Opportunities")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")  # read and mapped, waiting for the user to start it
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    REVERTED = "reverted", _("Reverted")


class LineAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")


class IssueLevel(models.TextChoices):
    ERROR = "error", _("Error")  # the row was not imported
    WARNING = "warning", _("Warning")  # the row was imported; this value is kept as typed, or left out
