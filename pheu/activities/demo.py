"""Demo activities (``pheu demo``): overdue, today's and planned calls, meetings, e-mails and to-dos on the
salespeople's open records, and a few done ones with feedback in the history."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from pheu.activities.choices import ActivityKind
from pheu.activities.models import Activity
from pheu.activities.services import complete_activity
from pheu.leads.models import Lead

SUMMARIES = {
    ActivityKind.CALL: ("Gọi lại tư vấn", "Gọi xác nhận nhu cầu", "Follow-up call"),
    ActivityKind.MEETING: ("Gặp khách tại văn phòng", "Demo sản phẩm", "On-site meeting"),
    ActivityKind.EMAIL: ("Gửi tài liệu giới thiệu", "Send the brochure"),
    ActivityKind.TODO: ("Chuẩn bị báo giá", "Kiểm tra tồn kho", "Prepare the proposal"),
}
FEEDBACK = ("Khách hẹn tuần sau", "Khách quan tâm, chờ báo giá", "Customer asked for a discount")
PER_PERSON = 6


def load(*, seed: int, users: dict[str, Any]) -> None:
    """About six open activities per salesperson (some overdue, some today, some planned) on their own
    open records, and one done each; bulk-written, completions through the service."""
    rng = random.Random(seed)
    today = timezone.localdate()
    now = timezone.now()
    activities: list[Activity] = []
    for _username, user in users.items():
        leads = list(Lead.objects.filter(user=user).open().order_by("-id").values_list("pk", flat=True)[:40])
        if not leads:
            continue
        for index in range(PER_PERSON + 1):
            kind = rng.choice(list(ActivityKind))
            offset = (-rng.randint(1, 6), 0, rng.randint(1, 20))[index % 3]
            activities.append(
                Activity(
                    lead_id=rng.choice(leads),
                    kind=kind,
                    summary=rng.choice(SUMMARIES[kind]),
                    due_date=today + dt.timedelta(days=offset),
                    assignee=user,
                    created_by=user,
                    created_at=now - dt.timedelta(days=rng.randint(1, 10)),
                )
            )
    created = Activity.objects.bulk_create(activities)
    # The last of each person's batch is done, with feedback in the history.
    for index in range(PER_PERSON, len(created), PER_PERSON + 1):
        activity = created[index]
        complete_activity(actor=activity.assignee, activity=activity, feedback=rng.choice(FEEDBACK))
