"""Demo data: a funder, its officers, an open call in three languages, applicants, and a
second call taken through review, ranking and decisions to its published results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from grants.applications import operations as app_ops
from grants.applications.models import Application, Partner
from grants.audit.operations import record
from grants.auth.models import User
from grants.auth.operations import register_user
from grants.calls import operations as call_ops
from grants.calls.models import Call, CallQuestion, Funder
from grants.decisions import operations as decision_ops
from grants.decisions.models import Decision
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.organisations.operations import create_organisation
from grants.reviews import operations as review_ops
from grants.reviews.models import Assignment, PanelMember
from grants.types import utcnow

DEMO_PASSWORD = "demo-password"  # noqa: S105 - printed for the demo on purpose
DEMO_LOGINS = {
    "password": DEMO_PASSWORD,
    "accounts": {
        "administrator": "admin@demo.example.org",
        "programme officer": "officer@demo.example.org",
        "second officer": "officer2@demo.example.org",
        "applicant (Japan)": "aiko@demo.example.org",
        "applicant (Czechia)": "jana@demo.example.org",
        "applicant (Thailand)": "somchai@demo.example.org",
        "applicant (Philippines)": "maria@demo.example.org",
        "applicant (France)": "claire@demo.example.org",
        "panel chair (Japan)": "yuki@demo.example.org",
        "reviewer (Czechia)": "petr@demo.example.org",
    },
}
_PEOPLE = {
    "admin@demo.example.org": ("Ada Admin", "en", "Europe/Amsterdam", True),
    "officer@demo.example.org": ("Olivia Officer", "en", "Europe/Berlin", False),
    "officer2@demo.example.org": ("Oskar Zweit", "fr", "Europe/Paris", False),
    "aiko@demo.example.org": ("Aiko Tanaka", "ja", "Asia/Tokyo", False),
    "jana@demo.example.org": ("Jana Nováková", "en", "Europe/Prague", False),
    "somchai@demo.example.org": ("Somchai Srisuk", "en", "Asia/Bangkok", False),
}

_MORE_PEOPLE = {
    "thida@demo.example.org": ("Thida Aung", "en", "Asia/Yangon", False),
    "lukas@demo.example.org": ("Lukas Becker", "en", "Europe/Berlin", False),
    "maria@demo.example.org": ("Maria Santos", "en", "Asia/Manila", False),
    "claire@demo.example.org": ("Claire Martin", "fr", "Europe/Paris", False),
    "arjun@demo.example.org": ("Arjun Mehta", "en", "Asia/Kolkata", False),
}
# Applicants to the touring call only (its results are published).
_TOURING_PEOPLE = {
    "hoa@demo.example.org": ("Nguyen Thi Hoa", "en", "Asia/Ho_Chi_Minh", False),
    "minjun@demo.example.org": ("Kim Min-jun", "en", "Asia/Seoul", False),
    "ines@demo.example.org": ("Inês Carvalho", "en", "Europe/Lisbon", False),
    "aino@demo.example.org": ("Aino Virtanen", "en", "Europe/Helsinki", False),
    "tomasz@demo.example.org": ("Tomasz Nowak", "en", "Europe/Warsaw", False),
}
QUESTIONS = [
    (
        {
            "en": "What will you create together?",
            "fr": "Que créerez-vous ensemble ?",
            "ja": "共同で何を創作しますか。",
        },
        "Describe the work, the artists and how each partner contributes.",
        800,
    ),
    (
        {
            "en": "How will the partners work together and with audiences?",
            "fr": "Comment les partenaires travailleront-ils ensemble et avec les publics ?",
            "ja": "パートナー同士、また観客とどのように協働しますか。",
        },
        "",
        600,
    ),
]

FUND_TITLE = {
    "en": "Asia-Europe Cultural Cooperation Fund",
    "fr": "Fonds de coopération culturelle Asie-Europe",
    "ja": "アジア・ヨーロッパ文化協力基金",
}
FUND_SUMMARY = {
    "en": "Grants for artists and cultural organisations in Asia and Europe who create, "
    "tour and exchange together. Partnerships of at least two countries, one in each region.",
    "fr": "Des subventions pour les artistes et organisations culturelles d'Asie et d'Europe "
    "qui créent, tournent et échangent ensemble. Partenariats d'au moins deux pays, un dans "
    "chaque région.",
    "ja": "アジアとヨーロッパのアーティストや文化団体が"
    "共同で創作・ツアー・交流を行うための助成金です。"
    "各地域から少なくとも1か国ずつ、2か国以上のパートナーシップが対象です。",
}
FUND_DESCRIPTION = {
    "en": "The fund supports collaborative projects in every artform. Partners from countries "
    "with fewer resources are weighted by their capacity, not by equal money, and every "
    "decision is published with its scores.",
}
CRITERIA = [
    (
        Decimal(3),
        Decimal("2.5"),
        {"en": "Artistic quality", "fr": "Qualité artistique", "ja": "芸術的な質"},
    ),
    (
        Decimal(2),
        Decimal("2.5"),
        {
            "en": "Depth of partnership",
            "fr": "Profondeur du partenariat",
            "ja": "パートナーシップの深さ",
        },
    ),
    (
        Decimal(1),
        None,
        {"en": "Audience and reach", "fr": "Public et rayonnement", "ja": "観客と波及効果"},
    ),
]
DESCRIPTORS = {
    "0": "Not addressed.",
    "1": "Weak: major gaps.",
    "2": "Fair: some strengths, clear weaknesses.",
    "3": "Good: strengths outweigh weaknesses.",
    "4": "Very good: minor weaknesses only.",
    "5": "Excellent: convincing in every respect.",
}


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        name, locale, tz, admin = {**_PEOPLE, **_MORE_PEOPLE, **_TOURING_PEOPLE}[email]
        user = register_user(
            name=name,
            email=email,
            password=DEMO_PASSWORD,
            locale=locale,
            timezone=tz,
            is_admin=admin,
        )
    return user


def load_demo() -> bool:
    """Create the demo data unless it exists. Returns True when something was created."""
    if db.session.scalar(select(Funder.id).where(Funder.name == "Asia-Europe Culture Foundation")):
        return False
    users = {email: _user(email) for email in _PEOPLE}
    admin = users["admin@demo.example.org"]
    officer = users["officer@demo.example.org"]
    funder = call_ops.create_funder(
        admin,
        name="Asia-Europe Culture Foundation",
        country="SG",
        website="https://example.org/aecf",
    )
    call_ops.add_officer(admin, funder, officer.email)
    call_ops.add_officer(admin, funder, "officer2@demo.example.org")
    other = call_ops.create_funder(
        admin, name="Nordic-Mekong Arts Council", country="SE", website=None
    )
    call_ops.add_officer(admin, other, "officer2@demo.example.org")

    now = utcnow().replace(minute=0, second=0, microsecond=0)
    common = {
        "default_language": "en",
        "currency": "EUR",
        "min_partners": 2,
        "min_countries": 2,
        "required_regions": ["142", "150"],
        "score_min": Decimal(0),
        "score_max": Decimal(5),
        "score_step": Decimal("0.5"),
        "reviews_per_application": 3,
    }
    fund = call_ops.create_call(
        officer,
        funder,
        title=FUND_TITLE["en"],
        summary=FUND_SUMMARY["en"],
        reference_prefix="AECF",
        timezone="Asia/Singapore",
        opens_at=now - timedelta(days=14),
        closes_at=now + timedelta(days=45),
        budget_envelope=Decimal("1200000"),
        grant_min=Decimal("10000"),
        grant_max=Decimal("80000"),
        artforms=[
            "theatre",
            "dance",
            "music",
            "visual_arts",
            "literature",
            "film_media",
            "cultural_heritage",
            "interdisciplinary",
        ],
        languages=["cs", "de", "en", "fr", "hi", "ja", "th", "tl", "vi"],
        **common,
    )
    for lang in ("fr", "ja"):
        call_ops.set_call_texts(
            officer, fund, lang, title=FUND_TITLE[lang], summary=FUND_SUMMARY[lang], description=""
        )
    call_ops.set_call_texts(
        officer,
        fund,
        "en",
        title=FUND_TITLE["en"],
        summary=FUND_SUMMARY["en"],
        description=FUND_DESCRIPTION["en"],
    )
    for weight, threshold, names in CRITERIA:
        criterion = call_ops.add_criterion(
            officer,
            fund,
            language="en",
            weight=weight,
            threshold=threshold,
            name=names["en"],
            description="",
            descriptors=DESCRIPTORS,
        )
        for lang in ("fr", "ja"):
            call_ops.update_criterion(
                officer,
                criterion,
                language=lang,
                weight=weight,
                threshold=threshold,
                name=names[lang],
                description="",
                descriptors={},
            )
    questions = []
    for texts, guidance, limit in QUESTIONS:
        question = call_ops.add_question(
            officer,
            fund,
            language="en",
            text=texts["en"],
            guidance=guidance,
            required=True,
            max_words=limit,
        )
        for lang in ("fr", "ja"):
            call_ops.update_question(
                officer,
                question,
                language=lang,
                text=texts[lang],
                guidance="",
                required=True,
                max_words=limit,
            )
        questions.append(question)
    for currency, rate in (
        ("JPY", "0.0061"),
        ("THB", "0.026"),
        ("CZK", "0.0398"),
        ("INR", "0.0109"),
        ("PHP", "0.0158"),
    ):
        call_ops.set_exchange_rate(
            officer, fund, currency=currency, rate=Decimal(rate), source="InforEuro, November 2026"
        )
    call_ops.publish_call(officer, fund)

    residency = call_ops.create_call(
        officer,
        funder,
        title="Mobility micro-grants for artists",
        summary="Travel and residency support for individual artists between Asia and Europe.",
        reference_prefix="AEMG",
        timezone="Europe/Paris",
        opens_at=now + timedelta(days=20),
        closes_at=now + timedelta(days=90),
        budget_envelope=Decimal("150000"),
        grant_min=Decimal("1000"),
        grant_max=Decimal("5000"),
        artforms=["visual_arts", "music", "dance", "crafts"],
        languages=["en", "fr", "ja"],
        **common,
    )
    call_ops.add_criterion(
        officer,
        residency,
        language="en",
        weight=Decimal(1),
        threshold=None,
        name="Relevance of the journey",
        description="",
        descriptors=DESCRIPTORS,
    )
    call_ops.publish_call(officer, residency)

    call_ops.create_call(
        officer,
        funder,
        title="Heritage in the digital age (draft)",
        summary="A call still being written.",
        reference_prefix="AEHD",
        timezone="Asia/Tokyo",
        opens_at=now + timedelta(days=60),
        closes_at=now + timedelta(days=150),
        budget_envelope=Decimal("50000000"),
        grant_min=Decimal("1000000"),
        grant_max=Decimal("5000000"),
        artforms=["cultural_heritage", "museums", "digital_media"],
        languages=["en", "ja"],
        **{**common, "currency": "JPY"},
    )
    db.session.flush()
    _partnerships(fund, questions)
    _panel(officer, fund)
    _touring_call(funder, officer, users["officer2@demo.example.org"], now, common)
    db.session.commit()
    return True


_REVIEWERS = {
    # email: (name, locale, time zone, country, expertise, languages read, chair)
    "yuki@demo.example.org": (
        "Yuki Sato",
        "ja",
        "Asia/Tokyo",
        "JP",
        {"theatre": 3, "dance": 2},
        ["ja", "en"],
        True,
    ),
    "petr@demo.example.org": (
        "Petr Dvořák",
        "en",
        "Europe/Prague",
        "CZ",
        {"dance": 3, "music": 2},
        ["cs", "en", "de"],
        False,
    ),
    "nok@demo.example.org": (
        "Nok Chaiyasit",
        "en",
        "Asia/Bangkok",
        "TH",
        {"theatre": 2, "cultural_heritage": 3},
        ["th", "en"],
        False,
    ),
    "amelie@demo.example.org": (
        "Amélie Laurent",
        "fr",
        "Europe/Paris",
        "FR",
        {"music": 3, "cultural_heritage": 2, "theatre": 3},
        ["fr", "en"],
        False,
    ),
}


def _panel(officer: User, fund: Call) -> None:
    """A panel of four (a chair in Tokyo), conflicts found, and the assignment confirmed."""
    for email, (name, locale, tz, country, expertise, languages, chair) in _REVIEWERS.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = register_user(
                name=name, email=email, password=DEMO_PASSWORD, locale=locale, timezone=tz
            )
        member = review_ops.invite_reviewer(
            officer, fund, email=email, locale=locale, is_chair=chair, max_load=6
        )
        review_ops.join_panel(user, member)
        review_ops.save_profile(
            user, country=country, expertise=expertise, languages=languages, affiliations=[]
        )
    review_ops.detect_conflicts(officer, fund)
    review_ops.confirm_assignment(officer, fund, seed=0)


def _org(user: User, name: str, country: str, kind: str, band: str) -> Organisation:
    return create_organisation(
        user,
        name=name,
        country=country,
        kind=kind,
        website=None,
        registration_id=None,
        org_id_scheme=None,
        budget_band=band,
    )


def _part(
    user: User,
    partner: Partner,
    role: str,
    currency: str,
    grant: int,
    cash: int,
    kind: int,
    lines: list[tuple[str, str, int]],
) -> None:
    app_ops.update_partner(
        user,
        partner,
        version=partner.version,
        role=role,
        currency=currency,
        grant_requested=Decimal(grant),
        contribution_cash=Decimal(cash),
        contribution_in_kind=Decimal(kind),
    )
    app_ops.set_budget_lines(
        user, partner, version=partner.version, lines=[(c, d, Decimal(a)) for c, d, a in lines]
    )


def _join(lead: User, application: Application, user: User, org: Organisation) -> Partner:
    invitation = app_ops.invite_partner(
        lead, application, email=user.email, locale=user.locale, message=""
    )
    return app_ops.accept_invitation(user, invitation, org)


def _partnerships(fund: Call, questions: list[CallQuestion]) -> None:
    """Partnerships from Asia and Europe, from a fresh draft to a submitted application."""
    people = {email: _user(email) for email in _PEOPLE}
    aiko, jana = people["aiko@demo.example.org"], people["jana@demo.example.org"]
    somchai = people["somchai@demo.example.org"]
    more = {email: _user(email) for email in _MORE_PEOPLE}
    orgs = {
        "tokyo": _org(aiko, "Tokyo Theatre Laboratory", "JP", "nonprofit", "250k-1m"),
        "prague": _org(jana, "Prague Dance House", "CZ", "nonprofit", "50k-250k"),
        "bangkok": _org(somchai, "Bangkok Shadow Puppet Collective", "TH", "collective", "lt50k"),
        "yangon": _org(
            more["thida@demo.example.org"], "Yangon Living Arts", "MM", "collective", "lt50k"
        ),
        "berlin": _org(
            more["lukas@demo.example.org"], "Haus der Kulturen Berlin", "DE", "public", "gt5m"
        ),
        "manila": _org(
            more["maria@demo.example.org"], "Manila Sound Archive", "PH", "nonprofit", "lt50k"
        ),
        "lyon": _org(
            more["claire@demo.example.org"], "Atelier Lumière Lyon", "FR", "company", "250k-1m"
        ),
        "mumbai": _org(
            more["arjun@demo.example.org"], "Mumbai Kathak Studio", "IN", "nonprofit", "lt50k"
        ),
    }
    answers = [
        "We create a touring performance that follows two rivers, the Sumida and the "
        "Vltava, with artists from both cities.",
        "Five weeks of residencies in Tokyo and Prague, public work-in-progress showings "
        "and a tour of six venues.",
    ]

    # 1. Submitted: Tokyo (lead) and Prague.
    rivers = app_ops.start_application(aiko, fund, orgs["tokyo"])
    prague = _join(aiko, rivers, jana, orgs["prague"])
    app_ops.update_general(
        aiko,
        rivers,
        version=rivers.version,
        title="Rivers of Memory",
        summary="A dance-theatre piece about two rivers and the people who "
        "live by them, made in Tokyo and Prague.",
        summary_language="en",
        artforms=["theatre", "dance"],
        languages=["ja", "cs", "en"],
    )
    for question, text in zip(questions, answers, strict=True):
        app_ops.save_answer(aiko, rivers, question, version=0, text=text, language="en")
    _part(
        aiko,
        rivers.lead,
        "Lead producer; hosts the first residency in Tokyo.",
        "JPY",
        4_000_000,
        1_500_000,
        500_000,
        [
            ("fees", "Artists' fees", 3_000_000),
            ("production", "Set and costumes", 1_500_000),
            ("travel", "Flights Tokyo-Prague", 1_000_000),
            ("other", "Rehearsal space", 500_000),
        ],
    )
    _part(
        jana,
        prague,
        "Co-producer; hosts the second residency and the European tour.",
        "CZK",
        550_000,
        150_000,
        150_000,
        [
            ("fees", "Dancers' fees", 450_000),
            ("accommodation", "Residency housing", 200_000),
            ("communication", "Tour publicity", 200_000),
        ],
    )
    app_ops.add_flow(
        aiko,
        rivers,
        from_country="JP",
        to_country="CZ",
        people=6,
        days=21,
        purpose="Residency and premiere in Prague",
    )
    app_ops.add_flow(
        jana,
        rivers,
        from_country="CZ",
        to_country="JP",
        people=4,
        days=14,
        purpose="Residency in Tokyo",
    )
    app_ops.sign_off(aiko, rivers.lead)
    app_ops.sign_off(jana, prague)
    app_ops.submit_application(aiko, rivers)

    # 2. Ready to submit, one partner has signed: Manila (lead) and Lyon.
    songs = app_ops.start_application(more["maria@demo.example.org"], fund, orgs["manila"])
    maria, claire = more["maria@demo.example.org"], more["claire@demo.example.org"]
    lyon = _join(maria, songs, claire, orgs["lyon"])
    app_ops.update_general(
        maria,
        songs,
        version=songs.version,
        title="Archives of Song",
        summary="Digitising and re-performing field recordings of Philippine "
        "and French folk songs.",
        summary_language="en",
        artforms=["cultural_heritage", "music"],
        languages=["tl", "fr"],
    )
    for question, text in zip(questions, answers, strict=True):
        app_ops.save_answer(maria, songs, question, version=0, text=text, language="en")
    _part(
        maria,
        songs.lead,
        "Lead; holds the recordings.",
        "PHP",
        1_200_000,
        50_000,
        100_000,
        [("fees", "Archivists and singers", 900_000), ("equipment", "Scanners", 450_000)],
    )
    _part(
        claire,
        lyon,
        "Recording studio and concerts in France.",
        "EUR",
        12_000,
        6_000,
        2_000,
        [("production", "Studio time", 14_000), ("communication", "Concerts", 6_000)],
    )
    app_ops.add_flow(
        maria,
        songs,
        from_country="PH",
        to_country="FR",
        people=3,
        days=10,
        purpose="Recording sessions",
    )
    app_ops.sign_off(claire, lyon)

    # 3. Draft with a pending invitation: Bangkok (lead), Yangon and Berlin invited.
    puppets = app_ops.start_application(somchai, fund, orgs["bangkok"])
    thida = more["thida@demo.example.org"]
    yangon = _join(somchai, puppets, thida, orgs["yangon"])
    app_ops.invite_partner(
        somchai,
        puppets,
        email="lukas@demo.example.org",
        locale="en",
        message="Would Haus der Kulturen host the final showing?",
    )
    app_ops.update_general(
        somchai,
        puppets,
        version=puppets.version,
        title="Shadows Across the Mekong",
        summary="Shadow puppetry from Thailand and Myanmar meets a Berlin audience.",
        summary_language="en",
        artforms=["theatre"],
        languages=["th", "my", "de"],
    )
    _part(
        somchai,
        puppets.lead,
        "Lead; builds the puppets.",
        "THB",
        900_000,
        20_000,
        80_000,
        [("production", "Puppets and screens", 600_000)],
    )
    _part(thida, yangon, "Musicians and puppeteers from Yangon.", "EUR", 15_000, 0, 500, [])
    app_ops.add_flow(
        somchai,
        puppets,
        from_country="TH",
        to_country="DE",
        people=5,
        days=12,
        purpose="Final showing",
    )
    app_ops.add_flow(
        thida,
        puppets,
        from_country="MM",
        to_country="TH",
        people=4,
        days=30,
        purpose="Rehearsals in Bangkok",
    )

    # 4. Just started: Mumbai, alone so far.
    kathak = app_ops.start_application(more["arjun@demo.example.org"], fund, orgs["mumbai"])
    app_ops.update_general(
        more["arjun@demo.example.org"],
        kathak,
        version=kathak.version,
        title="Kathak Conversations",
        summary="",
        summary_language=None,
        artforms=["dance"],
        languages=["hi"],
    )
    _ = orgs["berlin"]  # Berlin has an organisation and a waiting invitation


# --- a second call of the same funder, taken through the whole process ---------------------

TOURING_PREFIX = "AETG"
TOURING_TITLE = {
    "en": "Asia-Europe Touring Grants 2026",
    "fr": "Bourses de tournée Asie-Europe 2026",
    "ja": "アジア・ヨーロッパ巡回公演助成 2026",
}
TOURING_SUMMARY = {
    "en": "Grants for partnerships of Asian and European artists who take a finished work on "
    "tour in both regions. The results of this call are published.",
    "fr": "Des subventions pour les partenariats d'artistes d'Asie et d'Europe qui font "
    "tourner une œuvre achevée dans les deux régions. Les résultats de cet appel sont publiés.",
    "ja": "完成した作品をアジアとヨーロッパの両地域で巡回させる、"
    "アジアとヨーロッパのアーティストのパートナーシップへの助成です。"
    "この公募の結果は公開されています。",
}
TOURING_CRITERIA = [
    (
        Decimal(3),
        Decimal(3),
        {
            "en": "Artistic quality of the touring work",
            "fr": "Qualité artistique de l'œuvre en tournée",
            "ja": "巡回作品の芸術的な質",
        },
    ),
    (
        Decimal(2),
        None,
        {
            "en": "Strength of the touring partnership",
            "fr": "Solidité du partenariat de tournée",
            "ja": "巡回パートナーシップの強さ",
        },
    ),
    (
        Decimal(1),
        None,
        {
            "en": "Audiences and reach of the tour",
            "fr": "Publics et rayonnement de la tournée",
            "ja": "ツアーの観客と波及効果",
        },
    ),
]
TOURING_QUESTION = (
    "Where will the work tour, and who will see it?",
    "Name the venues or the cities, the dates you aim for and the audiences you expect.",
    400,
)
# Organisations of the touring applicants who have none in the open call's demo data.
_TOURING_ORGS = {
    "hanoi": ("hoa@demo.example.org", "Thang Long Puppet Studio", "VN", "nonprofit", "lt50k"),
    "seoul": ("minjun@demo.example.org", "Seoul Movement Lab", "KR", "company", "250k-1m"),
    "lisbon": ("ines@demo.example.org", "Casa do Fado Lisboa", "PT", "nonprofit", "50k-250k"),
    "helsinki": (
        "aino@demo.example.org",
        "Helsinki Circus Cooperative",
        "FI",
        "collective",
        "50k-250k",
    ),
    "krakow": ("tomasz@demo.example.org", "Kraków Puppet Workshop", "PL", "nonprofit", "50k-250k"),
}
_OPEN_CALL_ORGS = {
    "tokyo": ("aiko@demo.example.org", "Tokyo Theatre Laboratory"),
    "prague": ("jana@demo.example.org", "Prague Dance House"),
    "bangkok": ("somchai@demo.example.org", "Bangkok Shadow Puppet Collective"),
    "yangon": ("thida@demo.example.org", "Yangon Living Arts"),
    "berlin": ("lukas@demo.example.org", "Haus der Kulturen Berlin"),
    "manila": ("maria@demo.example.org", "Manila Sound Archive"),
    "lyon": ("claire@demo.example.org", "Atelier Lumière Lyon"),
    "mumbai": ("arjun@demo.example.org", "Mumbai Kathak Studio"),
}


@dataclass(frozen=True)
class _Tour:
    """One touring application, with the panel's view of it for the demo reviews."""

    title: str
    summary: str
    artforms: list[str]
    languages: list[str]
    answer: str
    # (organisation key, role, currency, grant, cash, in kind); the lead first.
    partners: list[tuple[str, str, str, int, int, int]]
    flows: list[tuple[str, str, int, int, str]]  # from, to, people, days, purpose
    scores: tuple[str, str, str]  # what an even-handed reviewer gives, per criterion
    praise: tuple[str, str, str]  # a reviewer's comment per criterion when scoring higher
    doubts: tuple[str, str, str]  # ... and when scoring lower
    contested: bool = False


TOURS = [
    _Tour(
        title="Light Through Paper Screens",
        summary="A wordless theatre piece for shoji screens and moving light, built in Tokyo "
        "and Lyon and toured to twelve small venues in Japan and France.",
        artforms=["theatre", "visual_arts"],
        languages=["ja", "fr"],
        answer="Six venues in Japan (Tokyo, Kanazawa, Fukuoka) in spring and six in France "
        "(Lyon, Grenoble, Lille) in autumn; family audiences and schools by day.",
        partners=[
            (
                "tokyo",
                "Lead; makes the piece and tours it in Japan.",
                "JPY",
                2_800_000,
                900_000,
                400_000,
            ),
            (
                "lyon",
                "Designs the light and tours the piece in France.",
                "EUR",
                12_000,
                4_000,
                2_000,
            ),
        ],
        flows=[
            ("JP", "FR", 5, 24, "French tour"),
            ("FR", "JP", 2, 30, "Light design residency in Tokyo"),
        ],
        scores=("4.5", "4", "3.5"),
        praise=(
            "A finished, beautifully simple piece that travels without words.",
            "Each partner brings a craft the other lacks; the plan shares the work evenly.",
            "Schools matinees widen the audience well beyond the usual theatre-goers.",
        ),
        doubts=(
            "Strong, though the new light design is not yet tested on stage.",
            "Clear roles, but the French venues are only partly confirmed.",
            "Small venues limit the number of people the tour reaches.",
        ),
    ),
    _Tour(
        title="Lanterns on the Road",
        summary="Thai shadow puppetry (nang yai) and a Berlin sound ensemble tour a new "
        "version of an old epic to markets, temples and festivals.",
        artforms=["theatre", "cultural_heritage"],
        languages=["th", "de", "en"],
        answer="Eight outdoor shows in Thailand in the cool season, then five in Germany "
        "(Berlin, Leipzig, Hamburg) with workshops for puppet makers.",
        partners=[
            ("bangkok", "Lead; builds the puppets and performs.", "THB", 600_000, 80_000, 80_000),
            ("berlin", "Hosts the German tour and its workshops.", "EUR", 10_000, 6_000, 2_000),
        ],
        flows=[("TH", "DE", 7, 21, "German tour"), ("DE", "TH", 3, 14, "Rehearsals")],
        scores=("4", "4.5", "4"),
        praise=(
            "A living tradition renewed with care and real ambition.",
            "A long-standing partnership with a convincing division of labour.",
            "Free outdoor shows reach audiences that rarely see live puppetry.",
        ),
        doubts=(
            "The new score risks overwhelming the puppeteers' own music.",
            "The partnership is strong; the budget leans on one partner's staff.",
            "The German venues are mainly festival audiences already won over.",
        ),
    ),
    _Tour(
        title="Songs for Moving Bodies",
        summary="Field recordings from the Manila Sound Archive become the score of a "
        "dance piece made with Prague Dance House, toured in both countries.",
        artforms=["music", "dance"],
        languages=["tl", "cs", "en"],
        answer="Four performances in Manila and Cebu, four in Prague and Brno, each with an "
        "open rehearsal and a listening session of the original recordings.",
        partners=[
            (
                "manila",
                "Lead; restores the recordings and plays live.",
                "PHP",
                900_000,
                50_000,
                60_000,
            ),
            (
                "prague",
                "Makes the choreography and hosts the Czech tour.",
                "EUR",
                9_000,
                3_000,
                1_500,
            ),
        ],
        flows=[("PH", "CZ", 4, 18, "Czech tour"), ("CZ", "PH", 5, 18, "Philippine tour")],
        scores=("3.5", "3.5", "4"),
        praise=(
            "An original idea: archival sound given a body on stage.",
            "Both partners have worked together before and it shows.",
            "The listening sessions are a generous way to share the archive.",
        ),
        doubts=(
            "The choreography is described only in outline.",
            "Who owns the new recordings is left open.",
            "Eight shows is a short tour for the effort involved.",
        ),
    ),
    _Tour(
        title="Footwork: Kathak Meets Fado",
        summary="Kathak dancers from Mumbai and fado musicians from Lisbon share one "
        "evening of rhythm and song, toured in India and Portugal.",
        artforms=["dance", "music"],
        languages=["hi", "pt", "en"],
        answer="Three evenings in Mumbai and Pune, three in Lisbon and Porto, in mid-size "
        "concert halls with local students as ushers and guests.",
        partners=[
            ("mumbai", "Lead; dancers and choreography.", "EUR", 9_000, 500, 1_000),
            ("lisbon", "Musicians; hosts the Portuguese evenings.", "EUR", 8_000, 2_500, 1_000),
        ],
        flows=[("IN", "PT", 6, 12, "Portuguese evenings"), ("PT", "IN", 4, 12, "Indian evenings")],
        scores=("3.5", "3", "3"),
        praise=(
            "The meeting of two virtuoso traditions promises a lively evening.",
            "The partners plan real joint rehearsals, not two halves of a programme.",
            "Students as guests is a good way to find new audiences.",
        ),
        doubts=(
            "It is not yet clear what the two traditions make together.",
            "The partners have not worked together before.",
            "Six evenings in concert halls reach a familiar audience.",
        ),
    ),
    _Tour(
        title="Puppets on Water and Stone",
        summary="Vietnamese water puppetry meets Polish marionettes: a double bill for "
        "pools, fountains and town squares in Vietnam and Poland.",
        artforms=["theatre", "cultural_heritage"],
        languages=["vi", "pl", "en"],
        answer="Ten shows on village ponds around Hanoi, then eight in Polish town squares "
        "(Kraków, Lublin, Wrocław) with a portable pool.",
        partners=[
            ("hanoi", "Lead; water puppets and musicians.", "EUR", 16_000, 800, 1_200),
            (
                "krakow",
                "Marionettes; the Polish tour and the portable pool.",
                "EUR",
                12_000,
                4_000,
                2_000,
            ),
        ],
        flows=[("VN", "PL", 8, 20, "Polish tour"), ("PL", "VN", 4, 16, "Village shows")],
        scores=("4", "4", "3.5"),
        praise=(
            "A witty, technically daring double bill.",
            "The partners complement each other's craft exactly.",
            "Town squares and village ponds: the tour goes where people are.",
        ),
        doubts=(
            "The portable pool is an engineering risk for the artistic result.",
            "The plan relies heavily on the Kraków partner's technicians.",
            "Weather could cut the number of outdoor shows.",
        ),
    ),
    _Tour(
        title="Gravity and Breath",
        summary="A contemporary circus and dance piece on breathing and falling, made in "
        "Seoul and Helsinki and toured to four festivals.",
        artforms=["dance", "interdisciplinary"],
        languages=["ko", "fi", "en"],
        answer="Two festivals in Korea (Seoul, Busan) and two in Finland (Helsinki, Tampere), "
        "with masterclasses for young circus artists.",
        partners=[
            ("seoul", "Lead; choreography and dancers.", "EUR", 18_000, 6_000, 2_000),
            ("helsinki", "Circus artists and rigging.", "EUR", 15_000, 5_000, 2_000),
        ],
        flows=[("KR", "FI", 6, 14, "Finnish festivals"), ("FI", "KR", 5, 14, "Korean festivals")],
        scores=("3.5", "4", "3"),
        praise=(
            "Daring and physically stunning; a strong new voice.",
            "Two companies of equal weight, each bringing its discipline.",
            "The masterclasses leave something behind in every city.",
        ),
        doubts=(
            "The concept is thin: the piece may be spectacle more than meaning.",
            "Two strong companies, but the plan for joint creation is vague.",
            "Festival audiences only.",
        ),
        contested=True,
    ),
    _Tour(
        title="Harp and Guitar",
        summary="The Burmese saung harp and the Portuguese guitar in a programme of new "
        "songs, toured in Myanmar and Portugal.",
        artforms=["music"],
        languages=["my", "pt", "en"],
        answer="Four concerts in Yangon and Mandalay, four in Lisbon and Coimbra, in small "
        "halls and a monastery courtyard.",
        partners=[
            ("yangon", "Lead; saung harp players and singers.", "EUR", 8_000, 200, 800),
            ("lisbon", "Guitarists; hosts the Portuguese concerts.", "EUR", 6_000, 2_000, 800),
        ],
        flows=[("MM", "PT", 4, 12, "Portuguese concerts"), ("PT", "MM", 3, 12, "Burmese concerts")],
        scores=("2.5", "3", "3.5"),
        praise=(
            "Two rarely heard instruments, a promising pairing.",
            "The partners are warm and committed.",
            "The monastery concert is a lovely way to reach a local audience.",
        ),
        doubts=(
            "The new songs are not yet written; the application shows no sample.",
            "The division of the work between the partners is not described.",
            "Small halls limit the reach.",
        ),
    ),
    _Tour(
        title="Atlas of Shadows",
        summary="An installation of projected shadows and short films, made by artists in "
        "Lyon, Hanoi and Mumbai, shown in the three cities.",
        artforms=["visual_arts", "film_media"],
        languages=["fr", "vi", "hi", "en"],
        answer="Six weeks in each city, in a gallery in Lyon, a former factory in Hanoi and "
        "a public library in Mumbai; free entry.",
        partners=[
            ("lyon", "Lead; the installation and its light.", "EUR", 14_000, 5_000, 1_500),
            (
                "hanoi",
                "Films and shadow figures; hosts the Hanoi showing.",
                "EUR",
                10_000,
                500,
                800,
            ),
            ("mumbai", "Films with dancers; hosts the Mumbai showing.", "EUR", 8_000, 400, 600),
        ],
        flows=[
            ("FR", "VN", 3, 30, "Hanoi showing"),
            ("FR", "IN", 3, 30, "Mumbai showing"),
            ("VN", "FR", 2, 20, "Lyon showing"),
        ],
        scores=("3", "3.5", "3"),
        praise=(
            "An ambitious installation with a clear visual idea.",
            "Three partners on two continents with real shared authorship.",
            "Free entry in a public library is exemplary.",
        ),
        doubts=(
            "The installation is not a finished work yet: it is more a creation than a tour.",
            "Three partners make the coordination heavy.",
            "Six weeks per city, but little said about how visitors will be found.",
        ),
    ),
]
# The demo reviewers' habits: how far from an even-handed score each tends to be.
_LENIENCY = {
    "yuki@demo.example.org": Decimal(0),
    "petr@demo.example.org": Decimal("-0.5"),
    "nok@demo.example.org": Decimal("0.5"),
    "amelie@demo.example.org": Decimal(0),
}
# The panel disagrees on the contested application: offsets by review, in assignment order.
_CONTESTED = [Decimal(1), Decimal("-1.5"), Decimal("0.5")]
# Comments a reviewer writes in their own language on their first review.
_OWN_LANGUAGE = {
    "yuki@demo.example.org": (
        "構成が明確で、芸術的な完成度が高い。",
        "両パートナーの役割分担がよく考えられている。",
        "ツアー先の観客層をもう少し具体的に示してほしい。",
    ),
    "amelie@demo.example.org": (
        "Une proposition artistique forte et cohérente.",
        "Le partenariat est équilibré : chaque partenaire apporte un savoir-faire propre.",
        "Le public visé pourrait être décrit plus précisément.",
    ),
}
APPEAL_GROUNDS = (
    "The panel marked our artistic quality down because no sample of the new songs was "
    "attached, but the call's guidance did not ask for recordings and the application form "
    "offered no place to upload one. We ask that the score be reviewed under the published "
    "rules."
)


def _lines(total: int, shares: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """Budget lines adding up to ``total``: shares in per cent, the last takes the rest."""
    lines = [(c, d, total * pct // 100) for c, d, pct in shares[:-1]]
    category, description, _pct = shares[-1]
    return [*lines, (category, description, total - sum(a for _c, _d, a in lines))]


_TOUR_BUDGET = [
    ("fees", "Artists' fees", 45),
    ("travel", "Travel between the tour cities", 25),
    ("accommodation", "Accommodation on tour", 15),
    ("communication", "Publicity and programmes", 15),
]


def _on_scale(value: Decimal) -> str:
    """A score on the call's scale: 0 to 5 in steps of 0.5."""
    return str(min(Decimal(5), max(Decimal(0), (value * 2).to_integral_value() / 2)))


def _recommendation(mean: Decimal) -> str:
    """What a reviewer recommends for a mean score on the 0-5 scale."""
    if mean >= Decimal("3.75"):
        return "fund"
    return "reserve" if mean >= 3 else "reject"


def _touring_call(
    funder: Funder, officer: User, second: User, now: datetime, common: dict[str, Any]
) -> Call:
    """A call of the same funder taken from publication to published results: submissions,
    panel, reviews, a consensus, a ranking run (with its lottery when there is one), decisions
    with four eyes, released feedback, an open appeal and the public results."""
    call = call_ops.create_call(
        officer,
        funder,
        title=TOURING_TITLE["en"],
        summary=TOURING_SUMMARY["en"],
        reference_prefix=TOURING_PREFIX,
        timezone="Europe/Paris",
        opens_at=now - timedelta(days=75),
        closes_at=now + timedelta(days=1),
        budget_envelope=Decimal("150000"),
        grant_min=Decimal("10000"),
        grant_max=Decimal("40000"),
        artforms=[
            "theatre",
            "dance",
            "music",
            "visual_arts",
            "film_media",
            "cultural_heritage",
            "interdisciplinary",
        ],
        languages=["en", "fr", "ja"],
        appeal_days=14,
        results_pseudonymous=True,
        **common,
    )
    for lang in ("fr", "ja"):
        call_ops.set_call_texts(
            officer,
            call,
            lang,
            title=TOURING_TITLE[lang],
            summary=TOURING_SUMMARY[lang],
            description="",
        )
    for weight, threshold, names in TOURING_CRITERIA:
        criterion = call_ops.add_criterion(
            officer,
            call,
            language="en",
            weight=weight,
            threshold=threshold,
            name=names["en"],
            description="",
            descriptors=DESCRIPTORS,
        )
        for lang in ("fr", "ja"):
            call_ops.update_criterion(
                officer,
                criterion,
                language=lang,
                weight=weight,
                threshold=threshold,
                name=names[lang],
                description="",
                descriptors={},
            )
    text, guidance, limit = TOURING_QUESTION
    question = call_ops.add_question(
        officer, call, language="en", text=text, guidance=guidance, required=True, max_words=limit
    )
    for currency, rate in (("JPY", "0.0061"), ("THB", "0.026"), ("PHP", "0.0158")):
        call_ops.set_exchange_rate(
            officer, call, currency=currency, rate=Decimal(rate), source="InforEuro, March 2026"
        )
    call_ops.publish_call(officer, call)

    applications = _touring_applications(call, question)

    # The demo compresses months into one command: the call closes now, after every
    # submission above, so the reviews and decisions below come after its deadline. This is
    # the demo's only direct write to the call (no operation moves a published call's
    # closing time into the past), audited and logged as ``call.updated`` exactly as a
    # settings change is, so the public log shows the closing time its "closed" head follows.
    old, new = call.closes_at, utcnow()
    call.closes_at = call.updated_at = new
    record(
        officer,
        "call.updated",
        call,
        {"closes_at": {"old": old.astimezone(UTC).isoformat(), "new": new.isoformat()}},
        call_id=call.id,
    )
    db.session.flush()

    chair = _touring_panel(officer, call, applications)
    _touring_reviews(call, chair, applications)
    _touring_decisions(officer, second, call)
    # The lead of the application that missed the threshold appeals; it stays open.
    failing = next(a for a in applications if a.title == "Harp and Guitar")
    decision_ops.lodge_appeal(failing.lead.contact, failing, APPEAL_GROUNDS)
    decision_ops.publish_results(officer, call)
    return call


def _touring_applications(call: Call, question: CallQuestion) -> list[Application]:
    """Eight partnerships, each signed by every partner and submitted while the call is open."""
    orgs: dict[str, tuple[User, Organisation]] = {}
    for key, (email, name) in _OPEN_CALL_ORGS.items():
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        assert org is not None, name
        orgs[key] = (_user(email), org)
    for key, (email, name, country, kind, band) in _TOURING_ORGS.items():
        user = _user(email)
        orgs[key] = (user, _org(user, name, country, kind, band))
    applications = []
    for tour in TOURS:
        lead_user, lead_org = orgs[tour.partners[0][0]]
        application = app_ops.start_application(lead_user, call, lead_org)
        partners = [application.lead]
        for key, *_part_data in tour.partners[1:]:
            user, org = orgs[key]
            partners.append(_join(lead_user, application, user, org))
        app_ops.update_general(
            lead_user,
            application,
            version=application.version,
            title=tour.title,
            summary=tour.summary,
            summary_language="en",
            artforms=tour.artforms,
            languages=tour.languages,
        )
        app_ops.save_answer(
            lead_user, application, question, version=0, text=tour.answer, language="en"
        )
        for partner, (key, role, currency, grant, cash, in_kind) in zip(
            partners, tour.partners, strict=True
        ):
            _part(
                orgs[key][0],
                partner,
                role,
                currency,
                grant,
                cash,
                in_kind,
                _lines(grant + cash + in_kind, _TOUR_BUDGET),
            )
        for from_country, to_country, people, days, purpose in tour.flows:
            app_ops.add_flow(
                lead_user,
                application,
                from_country=from_country,
                to_country=to_country,
                people=people,
                days=days,
                purpose=purpose,
            )
        for partner, (key, *_rest) in zip(partners, tour.partners, strict=True):
            app_ops.sign_off(orgs[key][0], partner)
        app_ops.submit_application(lead_user, application)
        applications.append(application)
    return applications


def _touring_panel(officer: User, call: Call, applications: list[Application]) -> User:
    """The open call's four reviewers, a declared conflict and the solver's assignment."""
    chair = None
    for email, (_name, locale, *_profile, is_chair) in _REVIEWERS.items():
        user = _user_by_email(email)
        member = review_ops.invite_reviewer(
            officer, call, email=email, locale=locale, is_chair=is_chair, max_load=8
        )
        review_ops.join_panel(user, member)
        if is_chair:
            chair = user
    # No operation records the consent yet: the chair and one reviewer agreed to be
    # named on the published panel composition.
    for member in db.session.scalars(
        select(PanelMember).where(
            PanelMember.call_id == call.id,
            PanelMember.email.in_(["yuki@demo.example.org", "amelie@demo.example.org"]),
        )
    ):
        member.consent_to_be_named = True
    amelie = _user_by_email("amelie@demo.example.org")
    lyon = next(a for a in applications if a.title == "Light Through Paper Screens")
    review_ops.declare_conflict(
        amelie,
        lyon,
        reason="collaborator",
        note="I designed the lighting of a production with Atelier Lumière Lyon last year.",
    )
    review_ops.detect_conflicts(officer, call)
    review_ops.confirm_assignment(officer, call, seed=0)
    assert chair is not None
    return chair


def _user_by_email(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


def _touring_reviews(call: Call, chair: User, applications: list[Application]) -> None:
    """Every assigned reviewer submits; the chair settles the contested application and
    releases the comments of the others to the applicants."""
    criteria = [str(c.id) for c in call.criteria]
    tours = {a.id: tour for a, tour in zip(applications, TOURS, strict=True)}
    assignments = db.session.scalars(
        select(Assignment).where(Assignment.call_id == call.id).order_by(Assignment.id)
    ).all()
    seen: dict[int, int] = {}
    wrote_own_language: set[str] = set()
    for assignment in assignments:
        tour = tours[assignment.application_id]
        reviewer = assignment.reviewer
        email = reviewer.email
        offset = _LENIENCY.get(email, Decimal(0))
        if tour.contested:
            offset = _CONTESTED[seen.get(assignment.application_id, 0) % len(_CONTESTED)]
        seen[assignment.application_id] = seen.get(assignment.application_id, 0) + 1
        scores = [_on_scale(Decimal(base) + offset) for base in tour.scores]
        if email in _OWN_LANGUAGE and email not in wrote_own_language:
            wrote_own_language.add(email)
            comments = list(_OWN_LANGUAGE[email])
        else:
            comments = [
                tour.praise[i] if Decimal(scores[i]) >= Decimal(tour.scores[i]) else tour.doubts[i]
                for i in range(len(criteria))
            ]
        mean = sum((Decimal(s) for s in scores), Decimal(0)) / len(scores)
        expertise = _REVIEWERS[email][4] if email in _REVIEWERS else {}
        review_ops.save_review(
            reviewer,
            assignment,
            scores=dict(zip(criteria, scores, strict=True)),
            comments=dict(zip(criteria, comments, strict=True)),
            recommendation=_recommendation(mean),
            confidence=3 if any(expertise.get(a) == 3 for a in tour.artforms) else 2,
            submit=True,
        )
    for application in applications:
        tour = tours[application.id]
        if tour.contested:
            review_ops.save_consensus(
                chair,
                application,
                scores=dict(zip(criteria, ["4", "3.5", "3"], strict=True)),
                justification="The panel met online and agreed that the piece is strong; "
                "the reviewers' first scores were far apart on its artistic quality.",
                majority="A daring work by two companies of equal weight.",
                minority="One reviewer still finds the concept thin for a four-festival tour.",
            )
    for assignment in assignments:
        if not tours[assignment.application_id].contested:
            decision_ops.set_comments_released(chair, assignment, True)


def _touring_decisions(officer: User, second: User, call: Call) -> None:
    """Rank, draw lots if the run asks for it, propose, approve with another officer, send."""
    run = decision_ops.run_ranking(officer, call, "expected_rank")
    if run.result["lottery_group"]:
        decision_ops.commit_lottery_seed(officer, run)
        decision_ops.draw_lots(second, run)
    applications = review_ops.submitted_applications(call)
    proposals = decision_ops.default_proposals(run, applications)
    decision_ops.propose_decisions(officer, call, run, list(proposals.values()))
    for decision in db.session.scalars(
        select(Decision).where(Decision.call_id == call.id).order_by(Decision.id)
    ):
        decision_ops.approve_decision(second, decision)
    decision_ops.release_decisions(officer, call)


def demo_results_call() -> Call | None:
    """The demo's call whose results are published, for tests."""
    return db.session.scalar(select(Call).where(Call.reference_prefix == TOURING_PREFIX))


def demo_call() -> Call | None:
    """The demo's open call, for tests and the README."""
    return db.session.scalar(select(Call).where(Call.reference_prefix == "AECF"))
