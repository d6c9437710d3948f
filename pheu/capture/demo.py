"""Demo data of capture: every team gets its web form, ready to paste and post to (``/capture/``).

No leads are made here: ``pheu demo --leads N`` loads exactly N leads."""

from __future__ import annotations

from typing import Any

from pheu.capture.services import regenerate_form_key, update_web_form
from pheu.teams.models import Team


def load(*, seed: int, users: dict[str, Any]) -> None:
    manager = users["manager"]
    for team in Team.objects.filter(active=True).order_by("sequence", "id"):
        regenerate_form_key(actor=manager, team=team)
        update_web_form(actor=manager, team=team, values={"allowed_origins": "http://127.0.0.1:8000"})
