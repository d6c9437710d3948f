from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from pheu.accounts.models import User
from pheu.leads.models import Lead
from pheu.teams.models import Team

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("demo", *args, stdout=out)
    return out.getvalue()


def test_demo_prints_the_logins_and_what_it_loaded():
    text = run("--leads", "30", "--seed", "2")
    assert "30 leads" in text
    for name in ("admin", "manager", "leader", "sales1", "sales6", "pheu-demo", "Miền Bắc"):
        assert name in text
    assert Lead.objects.count() == 30


def test_demo_once_is_idempotent():
    run("--once", "--leads", "30")
    before = (User.objects.count(), Lead.objects.count(), Team.objects.count())
    text = run("--once", "--leads", "30")
    assert "already loaded" in text
    assert (User.objects.count(), Lead.objects.count(), Team.objects.count()) == before == (9, 30, 3)


def test_demo_without_once_refuses_a_second_load():
    run("--leads", "10")
    with pytest.raises(CommandError, match="already loaded"), translation.override("en"):
        call_command("demo", "--leads", "10", stdout=StringIO())
    assert Lead.objects.count() == 10


def test_demo_refuses_a_negative_number_of_leads():
    with pytest.raises(CommandError), translation.override("en"):
        call_command("demo", "--leads", "-1", stdout=StringIO())
    assert not User.objects.exists()
