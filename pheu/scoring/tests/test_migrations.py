"""Samples stored before the token form are rewritten by the migration, and back."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pheu.scoring.features import decode_features
from pheu.scoring.models import ModelSample
from pheu.testing import make_lead

BEFORE = [("scoring", "0005_model_rebuild_in_background")]
AFTER = [("scoring", "0006_model_sample_tokens")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_stored_samples_become_tokens_and_back():
    lead = make_lead()
    old = {
        "stage": ["1", "2"],
        "country": ["VN"],
        "state": [],
        "tags": ["3", "7"],
        "email_quality": ["valid"],
    }
    try:
        apps = migrate(BEFORE)
        OldSample = apps.get_model("scoring", "ModelSample")
        OldSample.objects.create(lead_id=lead.pk, team_key=0, won=True, features=old)

        migrate(AFTER)
        stored = ModelSample.objects.get(lead_id=lead.pk).features
        assert stored == ["stage:1", "stage:2", "country:VN", "email_quality:valid", "tags:3", "tags:7"]
        assert decode_features(stored) == {k: v for k, v in old.items() if v}

        apps = migrate(BEFORE)
        back = apps.get_model("scoring", "ModelSample").objects.get(lead_id=lead.pk).features
        assert back == {k: v for k, v in old.items() if v}
    finally:
        migrate(AFTER)
        ModelSample.objects.all().delete()
