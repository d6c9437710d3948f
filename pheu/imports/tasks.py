"""Background tasks of imports."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django_tasks import task

from pheu.imports.choices import ImportStatus
from pheu.imports.models import Import
from pheu.imports.services import run_import


@task()
def run_import_task(import_id: int) -> dict[str, int | str]:
    """Run a queued import (idempotent: an import no longer queued is left as it is)."""
    run = Import.objects.filter(pk=import_id, status=ImportStatus.QUEUED).first()
    if run is None:
        return {"status": "skipped"}
    # Row errors and known failures are kept as codes, worded in each reader's language; a failure without
    # a code is kept as worded here, in the importer's language, as if the page had run it.
    language = getattr(run.created_by, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        run = run_import(import_run=run)
    return {
        "status": run.status,
        "created": run.created_count,
        "updated": run.updated_count,
        "errors": run.error_count,
        "warnings": run.warning_count,
    }
