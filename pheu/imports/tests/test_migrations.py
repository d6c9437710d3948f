"""Errors reported before the codes keep their text through the migration, and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from pheu.imports.models import Import

BEFORE = [("imports", "0002_issue_warnings")]
AFTER = [("imports", "0003_reason_codes")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_worded_reasons_stay_readable_after_the_migration_and_back():
    try:
        apps = migrate(BEFORE)
        OldImport = apps.get_model("imports", "Import")
        run = OldImport.objects.create(file_name="old.csv", message="Không có gì được nhập.")
        apps.get_model("imports", "ImportIssue").objects.create(
            import_run=run, row=2, column="Email", value="x", reason="Lý do cũ."
        )

        migrate(AFTER)
        migrated = Import.objects.get(pk=run.pk)
        (issue,) = migrated.issues.all()
        with translation.override("en"):  # shown as worded then, whoever reads it
            assert (migrated.message, issue.reason, issue.code) == ("Không có gì được nhập.", "Lý do cũ.", "")

        apps = migrate(BEFORE)
        back = apps.get_model("imports", "ImportIssue").objects.get(import_run_id=run.pk)
        assert back.reason == "Lý do cũ."
    finally:
        migrate(AFTER)
        Import.objects.all().delete()
