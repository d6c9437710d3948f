"""The crafted scene of the report tests (``pheu.reports.testing``)."""

from __future__ import annotations

import pytest

from pheu.reports.testing import Scene, make_report_scene


@pytest.fixture
def scene(actors) -> Scene:
    return make_report_scene(actors)
