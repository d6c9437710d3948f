"""The top menu in a real browser: on one line on a 1366 px screen, the common laptop width."""

from __future__ import annotations

import pytest

from pheu.browser_tests.test_leads_flow import log_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_the_top_menu_stays_on_one_line_at_1366_px(open_page, actors, who):
    page = open_page(viewport={"width": 1366, "height": 768})
    log_in(page, who)  # the longest menus, in Vietnamese (longer words than English)
    page.goto("/leads/")
    tops = page.eval_on_selector_all(
        "#main-nav .nav-link, #quick-create-button",
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))",
    )
    assert len(tops) >= 8 and max(tops) - min(tops) <= 4, tops
    rights = page.eval_on_selector_all(
        "#main-nav .nav-link, #quick-create-button", "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert max(rights) <= 1366, rights  # nothing pushed off the screen either
    height = page.eval_on_selector("nav.navbar", "e => e.getBoundingClientRect().height")
    assert height < 70, height
