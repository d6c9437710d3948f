"""``pheu demo``: a complete, realistic installation to try Pheu with (SPEC section 12).

Nine users (``admin``, ``manager``, ``leader``, ``sales1`` … ``sales6``, password ``pheu-demo``), three teams
with assignment rules ("Miền Bắc", "Miền Nam", "International"), the shared pipeline, lost reasons, tags, UTM
records, customers and N leads — Vietnamese and English — at every point of their life: unassigned, assigned,
opportunities in each stage, won and lost, with the history each step leaves.

Deterministic: the same ``seed`` gives the same records (dates are relative to now). Everything is written
in one transaction, in bulk: ``save()`` is bypassed, so each lead and customer is normalised by hand. The
history entries say what the services would have said, in the language active when loading.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from faker import Faker

from pheu.accounts.models import Role, User
from pheu.contacts.models import Country, Partner, Tag
from pheu.core.models import HistoryEntry, HistoryKind, PheuSettings
from pheu.demo import samples
from pheu.demo.exceptions import DemoError
from pheu.leads.choices import CustomerType, LeadPriority, LeadRating, LeadType, WonStatus
from pheu.leads.models import Campaign, Lead, LostReason, Medium, Source, Stage
from pheu.lib.text import text_key
from pheu.teams.models import Team, TeamMember

DEMO_PASSWORD = "pheu-demo"
ADMIN_USERNAME = "admin"
# E-mail and web addresses end in the reserved ``.example`` domain (RFC 2606): a demo set up to send real
# mail never reaches anyone.
DOMAIN = "pheu.example"
MAX_LEADS = 1_000_000


@dataclass(frozen=True)
class StageSpec:
    name: str
    probability: int
    is_won: bool = False
    required_fields: tuple[str, ...] = ()
    requirements: str = ""
    rotting_days: int | None = None


# The shared pipeline: New, Qualified, Proposition, Won (named in Vietnamese, as the data of a Vietnamese
# company is).
STAGES = (
    StageSpec("Mới", 10, rotting_days=7),
    StageSpec(
        "Đủ điều kiện",
        30,
        required_fields=("expected_revenue", "expected_close_date"),
        requirements="Ghi doanh thu dự kiến và ngày dự kiến chốt trước khi chuyển sang giai đoạn này.",
        rotting_days=14,
    ),
    StageSpec("Báo giá", 60, rotting_days=21),
    StageSpec("Thành công", 100, is_won=True),
)


@dataclass(frozen=True)
class UserSpec:
    username: str
    role: Role
    language: str = "vi"
    team: str = ""
    capacity: int = 0
    member_domain: str = ""


NORTH, SOUTH, INTERNATIONAL = "Miền Bắc", "Miền Nam", "International"
USERS = (
    UserSpec("admin", Role.ADMINISTRATOR),
    UserSpec("manager", Role.SALES_MANAGER),
    UserSpec("leader", Role.TEAM_LEADER, team=NORTH, capacity=10),
    UserSpec("sales1", Role.SALESPERSON, team=NORTH, capacity=40, member_domain="[['state', '=', 'Hà Nội']]"),
    UserSpec("sales2", Role.SALESPERSON, team=NORTH, capacity=30),
    UserSpec("sales3", Role.SALESPERSON, team=SOUTH, capacity=40),
    UserSpec(
        "sales4", Role.SALESPERSON, team=SOUTH, capacity=30, member_domain="[['company_size', '>=', 50]]"
    ),
    UserSpec("sales5", Role.SALESPERSON, "en", team=INTERNATIONAL, capacity=30),
    UserSpec(
        "sales6",
        Role.SALESPERSON,
        "en",
        team=INTERNATIONAL,
        capacity=25,
        member_domain="[['country_id', 'in', ['Singapore', 'Australia', 'New Zealand']]]",
    ),
)


def _domain(*terms: list[Any]) -> str:
    """A rule as a user would type it (Python literal form)."""
    return repr(list(terms))


TEAMS = (
    (
        NORTH,
        "leader",
        _domain(["country_id", "in", ["Vietnam"]], ["state", "in", list(samples.NORTH)]),
        "mienbac",
    ),
    (SOUTH, "", _domain(["country_id", "in", ["Vietnam"]], ["state", "in", list(samples.SOUTH)]), "miennam"),
    (INTERNATIONAL, "", _domain(["country_id", "not in", ["Vietnam"]]), "international"),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    name: str
    teams: tuple[str, ...]


@dataclass(frozen=True)
class DemoSummary:
    """What ``load_demo`` created (``leads`` counts every lead and opportunity)."""

    users: tuple[DemoUser, ...]
    password: str
    teams: int
    stages: int
    customers: int
    leads: int
    opportunities: int
    won: int
    lost: int
    unassigned: int


def demo_loaded() -> bool:
    """The demo is loaded when its administrator exists."""
    return User.objects.filter(username=ADMIN_USERNAME).exists()


# Loaders of the demo data of the apps built on leads: ``load(*, seed: int, users: dict[str, User])``, called
# in this order after the leads exist, inside the demo's transaction.
EXTENSIONS: tuple[str, ...] = (
    "pheu.scoring.demo.load",
    "pheu.activities.demo.load",
    "pheu.sales.demo.load",
    "pheu.capture.demo.load",
    "pheu.assignment.demo.load",
)


@transaction.atomic
def load_demo(*, leads: int = 200, seed: int = 0) -> DemoSummary:
    """Load the demo data with ``leads`` leads, drawn from ``seed``; all or nothing.

    Raises :class:`DemoError` (``ALREADY_LOADED``) when user ``admin`` exists: the demo is meant for an
    empty database and is never loaded twice.
    """
    if not 0 <= leads <= MAX_LEADS:
        raise DemoError(
            _("The number of leads must be between 0 and %(max)s.") % {"max": MAX_LEADS},
            code=DemoError.Code.INVALID,
        )
    if demo_loaded():
        raise DemoError(
            _("The demo data is already loaded (user “%(user)s” exists).") % {"user": ADMIN_USERNAME},
            code=DemoError.Code.ALREADY_LOADED,
        )
    try:
        return _DemoBuilder(seed=seed).build(leads=leads)
    except IntegrityError as exc:  # e.g. a team or user of the demo's names already exists
        raise DemoError(
            _("The demo data needs an empty database: %(error)s") % {"error": exc},
            code=DemoError.Code.CONFLICT,
        ) from exc


# --- the builder -------------------------------------------------------------------------------------------


@dataclass
class _Contact:
    name: str
    email: str
    phone: str
    job_title: str


@dataclass
class _Place:
    country: Country
    state: str
    city: str
    street: str
    zip: str
    vietnamese: bool


@dataclass
class _Company:
    partner: Partner
    brand: str
    place: _Place
    trade: samples.Trade
    size: int
    domain: str
    persons: list[Partner] = field(default_factory=list)


@dataclass
class _History:
    """One lead's dates and history entries, written once the lead has its id."""

    lead: Lead
    created: datetime
    updated: datetime
    entries: list[HistoryEntry] = field(default_factory=list)


def _change(name: str, old: Any, new: Any, old_id: Any = ..., new_id: Any = ...) -> dict[str, Any]:
    """One change as ``pheu.core.history`` records it (relations: display name and id)."""
    return {
        "field": name,
        "old": old,
        "new": new,
        "old_id": old if old_id is ... else old_id,
        "new_id": new if new_id is ... else new_id,
    }


@contextmanager
def _dates_as_given(model: type[models.Model]) -> Iterator[None]:
    """Let a bulk insert keep the dates set on the instances, which ``auto_now(_add)`` would overwrite.

    The flags belong to the model class, shared by the whole process: this is only for the demo command,
    which runs alone in its own process (and in tests, one at a time). They are restored on the way out.
    """
    fields = [
        f
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]  # type: ignore[attr-defined]  # date fields only (filtered above)
    try:
        for f in fields:
            f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]  # date fields only (filtered above)
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add  # type: ignore[attr-defined]  # date fields only (filtered above)


def _pct(value: int | Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


class _DemoBuilder:
    def __init__(self, *, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake_vi = Faker("vi_VN")
        self.fake_vi.seed_instance(seed)
        self.fake_en = Faker("en_US")
        self.fake_en.seed_instance(seed)
        self.now = timezone.now()
        self.countries = {c.code: c for c in Country.objects.filter(code__in=["VN", *samples.ABROAD])}
        self.used_domains: set[str] = set()
        self.used_company_names: set[str] = set()

    # --- small generators --------------------------------------------------------------------------------

    def weighted(self, items: dict[str, tuple[Any, int]] | dict[str, tuple[int, Any]], index: int) -> str:
        keys = list(items)
        return self.rng.choices(keys, weights=[items[k][index] for k in keys])[0]

    def vn_mobile(self) -> str:
        digits = self.rng.choice(samples.VN_MOBILE_PREFIXES) + f"{self.rng.randrange(10**7):07d}"
        style = self.rng.randrange(4)
        if style == 0:
            return f"0{digits[:3]} {digits[3:6]} {digits[6:]}"
        if style == 1:
            return f"0{digits[:3]}.{digits[3:6]}.{digits[6:]}"
        if style == 2:
            return f"+84 {digits[:3]} {digits[3:6]} {digits[6:]}"
        return f"0{digits}"

    def vn_landline(self, state: str) -> str:
        area = samples.VN_AREA_CODES.get(state, "24" if state in samples.NORTH else "28")
        subscriber = self.rng.choice("36") + "".join(
            self.rng.choice("0123456789") for _ in range(9 - len(area))
        )
        return f"0{area} {subscriber[:4]} {subscriber[4:]}"

    def foreign_phone(self, region: str) -> str:
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        assert example is not None  # the demo's regions all have an example mobile number
        national = str(example.national_number)
        candidate = phonenumbers.parse(
            f"+{example.country_code}{national[:-4]}{self.rng.randrange(10**4):04d}"
        )
        number = candidate if phonenumbers.is_valid_number(candidate) else example
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def place(self, *, vietnamese: bool) -> _Place:
        if vietnamese:
            provinces = {**samples.NORTH, **samples.SOUTH}
            state = self.weighted(provinces, 1)
            city = self.rng.choice(provinces[state][0])
            street = f"{self.rng.randint(1, 399)} {self.rng.choice(samples.VN_STREETS)}"
            return _Place(self.countries["VN"], state, city, street, "", True)
        code = self.weighted(samples.ABROAD, 0)
        state, cities = self.rng.choice(samples.ABROAD[code][1])
        return _Place(
            self.countries[code],
            state,
            self.rng.choice(cities),
            self.fake_en.street_address(),
            self.fake_en.postcode() if code == "US" else "",
            False,
        )

    def vn_name(self) -> tuple[str, str, str]:
        """(family, middle, given) names: "Nguyễn Văn An" is written in that order."""
        male = self.rng.random() < 0.5
        family = self.fake_vi.last_name()
        given = self.fake_vi.first_name_male() if male else self.fake_vi.first_name_female()
        middles = ("Văn", "Đức", "Minh", "Quang", "Hữu") if male else ("Thị", "Ngọc", "Thu", "Mai")
        middle = self.rng.choice([m for m in middles if m not in (family, given)])
        return family, middle, given

    def vn_person(self, domain: str) -> _Contact:
        family, middle, given = self.vn_name()
        g, f, m = text_key(given), text_key(family), text_key(middle)
        local = f"{g}.{f}" if self.rng.random() < 0.5 else f"{g}{f[0]}{m[0]}"  # an.nguyen or annv
        return _Contact(
            f"{family} {middle} {given}",
            f"{local}@{domain}",
            self.vn_mobile(),
            self.rng.choice(samples.VN_JOB_TITLES),
        )

    def en_person(self, domain: str, region: str) -> _Contact:
        first, last = self.fake_en.first_name(), self.fake_en.last_name()
        local = f"{text_key(first)}.{text_key(last)}".replace(" ", "").replace("'", "")
        return _Contact(
            f"{first} {last}",
            f"{local}@{domain}",
            self.foreign_phone(region),
            self.rng.choice(samples.EN_JOB_TITLES),
        )

    def company_identity(self, *, place: _Place, trade: samples.Trade) -> tuple[str, str, str]:
        """(full name, short brand, e-mail domain), each unique in the demo."""
        vietnamese = place.vietnamese
        for _attempt in range(50):
            if vietnamese:
                brand = (
                    f"{self.rng.choice(samples.VN_BRAND_FIRST)} {self.rng.choice(samples.VN_BRAND_SECOND)}"
                )
                if brand.split()[0] == brand.split()[1]:
                    continue
                name = f"{self.rng.choice(samples.VN_LEGAL_FORMS)} {trade.vi_word} {brand}"
            else:
                brand = self.fake_en.last_name() + self.rng.choice(
                    ("", " & Co", " Group", " Labs", " Systems")
                )
                name = brand + self.rng.choice(samples.LEGAL_SUFFIXES[place.country.code])
            if name not in self.used_company_names:
                break
        self.used_company_names.add(name)
        # Vietnamese firms often name their domain after trade and brand: duocphamsaoviet.vn
        words = f"{trade.vi_word} {brand}" if vietnamese else brand
        slug = "".join(ch for ch in text_key(words) if ch.isalnum()) or "company"
        domain, n = f"{slug}.example", 1
        while domain in self.used_domains:
            n += 1
            domain = f"{slug}{n}.example"
        self.used_domains.add(domain)
        return name, brand, domain

    def company_size(self) -> int:
        sizes, weights = zip(*samples.COMPANY_SIZES, strict=True)
        base: int = self.rng.choices(sizes, weights=weights)[0]
        return max(1, base + self.rng.randint(-base // 4, base // 4))

    def moment(self, start: datetime, *, max_days: float) -> datetime:
        """A moment after ``start``, within ``max_days``, never in the future."""
        limit = min(self.now, start + timedelta(days=max_days))
        span = max(0.0, (limit - start).total_seconds())
        return start + timedelta(seconds=self.rng.uniform(0, span))

    # --- records -------------------------------------------------------------------------------------------

    def build(self, *, leads: int) -> DemoSummary:
        PheuSettings.load()
        users = self.create_users()
        teams = self.create_teams(users)
        stages = self.create_stages()
        reasons = [LostReason.objects.get_or_create(name=name)[0] for name in samples.LOST_REASONS]
        tags = [
            Tag.objects.get_or_create(name=name, defaults={"color": color})[0] for name, color in samples.TAGS
        ]
        sources = {name: Source.objects.get_or_create(name=name)[0] for name in samples.SOURCES}
        mediums = {name: Medium.objects.get_or_create(name=name)[0] for name in samples.MEDIUMS}
        campaigns = {
            name: Campaign.objects.get_or_create(name=name)[0]
            for name in (*samples.VN_CAMPAIGNS, *samples.EN_CAMPAIGNS)
        }
        companies = self.create_customers(count=max(4, leads // 8), author=users["manager"], tags=tags)
        counts = self.create_leads(
            leads,
            users=users,
            teams=teams,
            stages=stages,
            reasons=reasons,
            tags=tags,
            sources=sources,
            mediums=mediums,
            campaigns=campaigns,
            companies=companies,
        )
        for loader in EXTENSIONS:  # the apps built on leads add their own demo data
            import_string(loader)(seed=self.rng.randrange(2**32), users=users)
        team_names: dict[str, list[str]] = {}
        for member in TeamMember.objects.select_related("team", "user").order_by("team__sequence"):
            team_names.setdefault(member.user.username, []).append(member.team.name)
        demo_users = tuple(
            DemoUser(
                spec.username,
                str(spec.role.label),
                users[spec.username].display_name,
                tuple(team_names.get(spec.username, ())),
            )
            for spec in USERS
        )
        return DemoSummary(
            users=demo_users,
            password=DEMO_PASSWORD,
            teams=len(teams),
            stages=len(stages),
            customers=sum(1 + len(c.persons) for c in companies),
            leads=leads,
            opportunities=counts["opportunity"],
            won=counts["won"],
            lost=counts["lost"],
            unassigned=counts["unassigned"],
        )

    def create_users(self) -> dict[str, User]:
        # One hash for all: the password is public, and Argon2 is deliberately slow.
        password = make_password(DEMO_PASSWORD)
        users = {}
        for spec in USERS:
            if spec.language == "en":
                first_name, last_name = self.fake_en.first_name(), self.fake_en.last_name()
            else:  # given name in first_name, family name in last_name: shown "last first" in Vietnamese
                last_name, _middle, first_name = self.vn_name()
            user = User(
                username=spec.username,
                role=spec.role,
                language=spec.language,
                password=password,
                first_name=first_name,
                last_name=last_name,
                email=f"{spec.username}@{DOMAIN}",
                phone=self.vn_mobile(),
                is_staff=spec.role in (Role.ADMINISTRATOR, Role.SALES_MANAGER),
                is_superuser=spec.role == Role.ADMINISTRATOR,
            )
            user.save()
            users[spec.username] = user
        return users

    def create_teams(self, users: dict[str, User]) -> dict[str, Team]:
        teams = {}
        for sequence, (name, leader, domain, alias) in enumerate(TEAMS, start=1):
            teams[name] = Team.objects.create(
                name=name,
                sequence=sequence,
                leader=users.get(leader),
                assignment_domain=domain,
                min_score=0,
                email_alias=f"{alias}@{DOMAIN}",
            )
        TeamMember.objects.bulk_create(
            TeamMember(
                team=teams[spec.team],
                user=users[spec.username],
                capacity=spec.capacity,
                assignment_domain=spec.member_domain,
            )
            for spec in USERS
            if spec.team
        )
        return teams

    def create_stages(self) -> list[Stage]:
        return [
            Stage.objects.create(
                name=spec.name,
                sequence=sequence * 10,
                probability=spec.probability,
                is_won=spec.is_won,
                required_fields=list(spec.required_fields),
                requirements=spec.requirements,
                rotting_days=spec.rotting_days,
            )
            for sequence, spec in enumerate(STAGES, start=1)
        ]

    def create_customers(self, *, count: int, author: User, tags: list[Tag]) -> list[_Company]:
        companies = []
        for index in range(count):
            vietnamese = index % 3 != 2  # two in three are Vietnamese
            trade = self.rng.choice(samples.TRADES)
            place = self.place(vietnamese=vietnamese)
            name, brand, domain = self.company_identity(place=place, trade=trade)
            partner = Partner(
                is_company=True,
                name=name,
                email=f"{self.rng.choice(('info', 'contact', 'sales'))}@{domain}",
                phone=self.vn_landline(place.state) if vietnamese else self.foreign_phone(place.country.code),
                website=f"https://www.{domain}",
                street=place.street,
                city=place.city,
                state=place.state,
                zip=place.zip,
                country=place.country,
                language="vi" if vietnamese else "en",
                vat=f"0{self.rng.randrange(10**9):09d}" if vietnamese else "",
                created_by=author,
            )
            companies.append(_Company(partner, brand, place, trade, self.company_size(), domain))
        for company in companies:
            company.partner.normalize()
            company.partner.created_at = company.partner.updated_at = self.customer_since()
        with _dates_as_given(Partner):
            Partner.objects.bulk_create([c.partner for c in companies])
        persons = []
        for company in companies:
            for _i in range(self.rng.randint(1, 3)):
                contact = (
                    self.vn_person(company.domain)
                    if company.place.vietnamese
                    else self.en_person(company.domain, company.place.country.code)
                )
                person = Partner(
                    parent=company.partner,
                    name=contact.name,
                    job_title=contact.job_title,
                    email=contact.email,
                    mobile=contact.phone,
                    street=company.place.street,
                    city=company.place.city,
                    state=company.place.state,
                    zip=company.place.zip,
                    country=company.place.country,
                    language=company.partner.language,
                    created_by=author,
                )
                person.normalize()
                person.created_at = person.updated_at = self.customer_since()
                company.persons.append(person)
                persons.append(person)
        with _dates_as_given(Partner):
            Partner.objects.bulk_create(persons)
        everyone = [c.partner for c in companies] + persons
        through = Partner.tags.through
        through.objects.bulk_create(
            through(partner_id=c.partner.pk, tag_id=self.rng.choice(tags).pk)
            for c in companies
            if self.rng.random() < 0.4
        )
        partner_type = ContentType.objects.get_for_model(Partner)
        HistoryEntry.objects.bulk_create(
            HistoryEntry(
                content_type=partner_type,
                object_id=p.pk,
                kind=HistoryKind.CREATED,
                author=author,
                created_at=p.created_at,
            )
            for p in everyone
        )
        return companies

    def customer_since(self) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(200, 500))

    def outcomes(self, count: int) -> list[str]:
        """Exact shares of each life stage, shuffled; at least one won and one lost from 8 leads up."""
        plan: list[str] = []
        for kind, share in (("won", 0.10), ("lost", 0.10), ("unassigned", 0.15), ("lead", 0.25)):
            plan += [kind] * max(1 if count >= 8 else 0, round(count * share))
        plan = plan[:count] + ["open"] * max(0, count - len(plan))
        self.rng.shuffle(plan)
        return plan

    # Sources that won deals came from more often, and those of lost ones, so that the predictive model has
    # something true to learn from the demo's history (referrals and seminars convert best).
    WINNING_SOURCES = ("Giới thiệu", "Hội thảo")
    LOSING_SOURCES = ("Website", "Nhập file")

    def shape_history(
        self, lead: Lead, outcome: str, sources: dict[str, Source], mediums: dict[str, Medium]
    ) -> None:
        if outcome not in ("won", "lost") or self.rng.random() >= 0.6:
            return
        name = self.rng.choice(self.WINNING_SOURCES if outcome == "won" else self.LOSING_SOURCES)
        lead.source = sources[name]
        lead.medium = mediums.get(self.rng.choice(samples.SOURCES[name][1]))

    def create_leads(
        self,
        count: int,
        *,
        users: dict[str, User],
        teams: dict[str, Team],
        stages: list[Stage],
        reasons: list[LostReason],
        tags: list[Tag],
        sources: dict[str, Source],
        mediums: dict[str, Medium],
        campaigns: dict[str, Campaign],
        companies: list[_Company],
    ) -> Counter[str]:
        new_stage, qualified, proposition, won_stage = stages
        members: dict[str, list[tuple[User, int]]] = {}
        for spec in USERS:
            if spec.team:
                members.setdefault(spec.team, []).append((users[spec.username], spec.capacity))
        counts: Counter[str] = Counter()
        histories: list[_History] = []
        lead_tags: list[tuple[Lead, Tag]] = []
        records: list[Lead] = []
        lead_type = ContentType.objects.get_for_model(Lead)
        for index, outcome in enumerate(self.outcomes(count)):
            lead = self.draw_lead(index, records, companies, sources, mediums, campaigns)
            self.shape_history(lead, outcome, sources, mediums)
            vietnamese = lead.language == "vi"
            created = lead.created_at
            history = _History(lead, created=created, updated=created)
            # The team whose rule the lead matches (see TEAMS).
            region = INTERNATIONAL if not vietnamese else NORTH if lead.state in samples.NORTH else SOUTH
            if outcome != "unassigned":
                team_members = members[region]
                lead.team = teams[region]
                lead.user = self.rng.choices(
                    [u for u, _c in team_members], weights=[c for _u, c in team_members]
                )[0]
                lead.assigned_at = self.moment(created, max_days=0.5)
            else:
                counts["unassigned"] += 1
            source = lead.source.name if lead.source is not None else ""
            if source in ("Điện thoại", "Giới thiệu", "Hội thảo"):
                lead.created_by = lead.user
            elif source == "Nhập file":
                lead.created_by = users["manager"]
                lead.external_id = f"demo-import-{index + 1:06d}"
            history.entries.append(
                HistoryEntry(
                    kind=HistoryKind.CREATED,
                    author=lead.created_by,
                    created_at=created,
                )
            )
            lost_as_lead = outcome == "lost" and self.rng.random() < 0.4
            if outcome in ("open", "won") or (outcome == "lost" and not lost_as_lead):
                counts["opportunity"] += 1
                self.convert(lead, history, new_stage)
                if outcome == "won":
                    target = won_stage
                elif outcome == "open":
                    target = self.rng.choices([new_stage, qualified, proposition], weights=[35, 30, 35])[0]
                else:
                    target = self.rng.choice([new_stage, qualified, proposition])
                self.move(lead, history, new_stage, proposition if target.is_won else target)
                if target.is_won:
                    self.win(lead, history, target)
                    counts["won"] += 1
                elif self.rng.random() < 0.3:
                    notes = samples.VN_NOTES if vietnamese else samples.EN_NOTES
                    history.entries.append(
                        HistoryEntry(
                            kind=HistoryKind.NOTE,
                            author=lead.user,
                            body=f"<p>{self.rng.choice(notes)}</p>",
                            created_at=self.moment(lead.stage_changed_at or created, max_days=20),
                        )
                    )
            if outcome == "lost":
                self.lose(lead, history, self.rng.choice(reasons))
                counts["lost"] += 1
            if self.rng.random() < 0.3:
                for tag in self.rng.sample(tags, self.rng.randint(1, 2)):
                    lead_tags.append((lead, tag))
            lead.normalize()
            records.append(lead)
            histories.append(history)
        for history in histories:
            history.lead.created_at, history.lead.updated_at = history.created, history.updated
        with _dates_as_given(Lead):
            Lead.objects.bulk_create(records, batch_size=500)
        through = Lead.tags.through
        through.objects.bulk_create(through(lead_id=lead.pk, tag_id=tag.pk) for lead, tag in lead_tags)
        entries = []
        for history in histories:
            for entry in history.entries:
                entry.content_type, entry.object_id = lead_type, history.lead.pk
                entries.append(entry)
        HistoryEntry.objects.bulk_create(entries, batch_size=1000)
        return counts

    def draw_lead(
        self,
        index: int,
        earlier: list[Lead],
        companies: list[_Company],
        sources: dict[str, Source],
        mediums: dict[str, Medium],
        campaigns: dict[str, Campaign],
    ) -> Lead:
        """A new lead's own fields: who, where, what they need, where they came from, when."""
        vietnamese = self.rng.random() < 0.65
        lead = Lead(type=LeadType.LEAD, language="vi" if vietnamese else "en")
        known = [c for c in companies if c.place.vietnamese == vietnamese and c.persons]
        need = self.rng.choice(samples.NEEDS)
        if known and self.rng.random() < 0.3:  # an existing customer asks again
            company = self.rng.choice(known)
            person = self.rng.choice(company.persons)
            lead.partner, lead.customer_type = person, CustomerType.EXISTING
            lead.contact_name, lead.email, lead.mobile = person.name, person.email, person.mobile
            lead.job_title, lead.phone = person.job_title, company.partner.phone
            lead.company_name, brand, place = company.partner.name, company.brand, company.place
            lead.company_size, trade = company.size, company.trade
            lead.website = company.partner.website
        else:
            trade = self.rng.choice(samples.TRADES)
            place = self.place(vietnamese=vietnamese)
            name, brand, domain = self.company_identity(place=place, trade=trade)
            contact = self.vn_person(domain) if vietnamese else self.en_person(domain, place.country.code)
            lead.contact_name, lead.email, lead.job_title = contact.name, contact.email, contact.job_title
            lead.company_name, lead.company_size = name, self.company_size()
            if self.rng.random() < 0.7:
                lead.mobile = contact.phone
            else:
                lead.phone = contact.phone
            if self.rng.random() < 0.4:
                lead.website = f"https://www.{domain}"
        lead.street, lead.city, lead.state, lead.zip = place.street, place.city, place.state, place.zip
        lead.country = place.country
        twin = self.rng.choice(earlier) if earlier and self.rng.random() < 0.03 else None
        if twin is not None and twin.language == lead.language and not (lead.partner or twin.partner):
            # The same person writes in again about something else: a duplicate for the duplicate finder.
            for name in (
                "contact_name",
                "email",
                "phone",
                "mobile",
                "job_title",
                "company_name",
                "company_size",
                "street",
                "city",
                "state",
                "zip",
                "country",
            ):
                setattr(lead, name, getattr(twin, name))
        lead.industry = trade.industry_vi if vietnamese else trade.industry_en
        templates = samples.VN_LEAD_NAMES if vietnamese else samples.EN_LEAD_NAMES
        label = need.vi if vietnamese else need.en
        title = self.rng.choice(templates).format(need=label, Need=label[0].upper() + label[1:])
        lead.name = f"{title} – {brand}"
        descriptions = samples.VN_DESCRIPTIONS if vietnamese else samples.EN_DESCRIPTIONS
        users_count = self.rng.choice((5, 10, 20, 30, 50, 100))
        lead.description = f"<p>{self.rng.choice(descriptions).format(need=label, users=users_count)}</p>"
        millions = self.rng.randint(need.low, need.high)
        lead.amount = Decimal(millions * 1_000_000 if millions < 100 else round(millions, -1) * 1_000_000)
        lead.rating = self.rng.choice([LeadRating.COLD, LeadRating.WARM, LeadRating.WARM, LeadRating.HOT])
        lead.priority = self.rng.choices(list(LeadPriority), weights=[5, 3, 2, 1])[0]
        source_name = self.weighted(samples.SOURCES, 0)
        lead.source = sources[source_name]
        medium_name = self.rng.choice(samples.SOURCES[source_name][1])
        lead.medium = mediums.get(medium_name)
        if self.rng.random() < 0.4:
            names = samples.VN_CAMPAIGNS if vietnamese else samples.EN_CAMPAIGNS
            lead.campaign = campaigns[self.rng.choice(names)]
        # Recent leads are more numerous than old ones; working hours, local time.
        days_ago = int(self.rng.triangular(0, 180, 0))
        day = timezone.localdate(self.now) - timedelta(days=days_ago)
        at = datetime.combine(day, time(8), tzinfo=timezone.get_current_timezone())
        created = min(self.now, at + timedelta(minutes=self.rng.randint(0, 10 * 60)))
        lead.created_at = created  # overwritten on insert, set again afterwards
        return lead

    def convert(self, lead: Lead, history: _History, stage: Stage) -> None:
        lead.type = LeadType.OPPORTUNITY
        lead.converted_at = self.moment(lead.assigned_at or lead.created_at, max_days=7)
        lead.stage, lead.stage_changed_at, lead.probability = stage, lead.converted_at, stage.probability
        lead.expected_revenue = lead.amount
        lead.expected_close_date = self.close_date(lead.converted_at)
        history.entries.append(
            HistoryEntry(
                kind=HistoryKind.CHANGE,
                author=lead.user,
                created_at=lead.converted_at,
                changes=[
                    _change("type", LeadType.LEAD.value, LeadType.OPPORTUNITY.value),
                    _change("stage", None, stage.name, None, stage.pk),
                    _change("probability", "0", _pct(stage.probability)),
                    _change("expected_revenue", None, _pct(lead.amount or 0)),
                ],
            )
        )
        history.updated = lead.converted_at

    def close_date(self, start: datetime) -> date:
        return timezone.localdate(start) + timedelta(days=self.rng.randint(15, 90))

    def move(self, lead: Lead, history: _History, old: Stage, new: Stage) -> None:
        if new == old:
            return
        assert lead.stage_changed_at is not None
        lead.stage_changed_at = self.moment(lead.stage_changed_at, max_days=21)
        lead.stage, lead.probability = new, new.probability
        history.entries.append(
            HistoryEntry(
                kind=HistoryKind.CHANGE,
                author=lead.user,
                created_at=lead.stage_changed_at,
                changes=[
                    _change("stage", old.name, new.name, old.pk, new.pk),
                    _change("probability", _pct(old.probability), _pct(new.probability)),
                ],
            )
        )
        history.updated = lead.stage_changed_at

    def win(self, lead: Lead, history: _History, stage: Stage) -> None:
        assert lead.stage is not None and lead.stage_changed_at is not None
        old = lead.stage
        closed = self.moment(lead.stage_changed_at, max_days=30)
        lead.stage, lead.stage_changed_at, lead.closed_at = stage, closed, closed
        lead.won_status, lead.probability = WonStatus.WON, stage.probability
        lead.expected_close_date = timezone.localdate(closed)
        history.entries.append(
            HistoryEntry(
                kind=HistoryKind.CHANGE,
                author=lead.user,
                created_at=closed,
                changes=[
                    _change("stage", old.name, stage.name, old.pk, stage.pk),
                    _change("probability", _pct(old.probability), _pct(stage.probability)),
                    _change("won_status", WonStatus.OPEN.value, WonStatus.WON.value),
                ],
            )
        )
        history.updated = closed

    def lose(self, lead: Lead, history: _History, reason: LostReason) -> None:
        start = lead.stage_changed_at or lead.assigned_at or lead.created_at
        closed = self.moment(start, max_days=30)
        changes = []
        if lead.probability:
            changes.append(_change("probability", _pct(lead.probability), "0"))
        lead.won_status, lead.lost_reason, lead.active = WonStatus.LOST, reason, False
        lead.probability, lead.closed_at = 0, closed
        changes += [
            _change("won_status", WonStatus.OPEN.value, WonStatus.LOST.value),
            _change("lost_reason", None, reason.name, None, reason.pk),
            _change("active", True, False),
        ]
        notes = samples.VN_LOST_NOTES if lead.language == "vi" else samples.EN_LOST_NOTES
        history.entries.append(
            HistoryEntry(
                kind=HistoryKind.CHANGE,
                author=lead.user,
                created_at=closed,
                body=self.rng.choice(notes),
                changes=changes,
            )
        )
        history.updated = closed
