"""The demo's scoring: rules a sales manager would write, page views of the website, and the predictive
model learnt from the demo's won/lost history."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.rules import clean_domain
from pheu.scoring.models import PageView, ScoringRule
from pheu.scoring.services import rescore_open_leads, rules_changed
from pheu.scoring.services.prediction import predict_leads, rebuild_model

RULES: tuple[tuple[str, str, int, int | None], ...] = (
    ("Khách hàng tại Việt Nam", "[['country_id', 'in', ['Vietnam']]]", 10, None),
    ("Được giới thiệu", "[['source_id', '=', 'Giới thiệu']]", 20, None),
    ("Gặp ở hội thảo", "[['source_id', '=', 'Hội thảo']]", 10, None),
    (
        "Xem trang bảng giá (30 ngày)",
        "['|', ['pageviews.url', 'ilike', '/bang-gia'], ['pageviews.url', 'ilike', '/pricing']]",
        15,
        30,
    ),
    ("Đã xem trang demo", "[['pageviews.url', 'ilike', '/demo']]", 5, None),
    (
        "E-mail miễn phí",
        "['|', ['email', 'ilike', '@gmail.com'], ['email', 'ilike', '@yahoo.com']]",
        -5,
        None,
    ),
    ("Doanh nghiệp lớn", "[['company_size', '>=', 250]]", 15, None),
    (
        "Người ra quyết định",
        "['|', ['job_title', 'ilike', 'giám đốc'], ['job_title', 'ilike', 'director']]",
        10,
        None,
    ),
    ("Không có số điện thoại", "[['phone', '=', False], ['mobile', '=', False]]", -5, None),
)
PAGES = ("/", "/bang-gia", "/pricing", "/demo", "/blog/crm-la-gi", "/tinh-nang/phan-bo-tu-dong", "/lien-he")


def load(*, seed: int, users: dict[str, Any]) -> None:
    rng = random.Random(seed)
    for sequence, (name, text, points, window) in enumerate(RULES, 1):
        clean_domain(text, "lead")  # the demo's rules are valid as written
        ScoringRule.objects.create(
            name=name, domain=text, points=points, window_days=window, sequence=sequence * 10
        )
    rules_changed()
    now = timezone.now()
    views = []
    for pk, created in Lead.objects.filter(won_status=WonStatus.OPEN).values_list("pk", "created_at"):
        if rng.random() > 0.35:
            continue
        for _ in range(rng.randint(1, 4)):
            at = min(now, created + timedelta(days=rng.uniform(0, 60)))
            view = PageView(lead_id=pk, url=f"https://pheu.vn{rng.choice(PAGES)}", created_at=at)
            view.normalize()
            views.append(view)
    PageView.objects.bulk_create(views)
    rescore_open_leads()
    rebuild_model()
    predict_leads()
