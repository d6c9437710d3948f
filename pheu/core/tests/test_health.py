from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from pheu.core.health import VERSION
from pheu.core.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_with_a_recent_heartbeat_and_needs_no_login(client):
    seen = timezone.now() - timedelta(seconds=10)
    WorkerHeartbeat.objects.create(name="host:1", seen_at=seen)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True, "vendor": connection.vendor},
        "worker": {"ok": True, "last_seen": seen.isoformat()},
        "version": VERSION,
    }
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_degraded_without_a_worker(client):
    response = client.get(reverse("core:healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["worker"] == {"ok": False, "last_seen": None}


def test_healthz_is_degraded_when_the_last_heartbeat_is_stale(client, settings):
    settings.PHEU_WORKER_STALE_SECONDS = 120
    WorkerHeartbeat.objects.create(name="host:1", seen_at=timezone.now() - timedelta(seconds=121))
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and body["worker"]["ok"] is False and body["worker"]["last_seen"]


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unavailable)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["database"] == {"ok": False, "vendor": connection.vendor}


def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


def test_home_is_the_dashboard_after_log_in(client, actors):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    client.force_login(actors.sales1)
    assert b'id="dashboard-pipeline"' in client.get("/").content
