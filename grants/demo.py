"""Demo data: a funder, its officers, an open call in three languages, and applicants."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from grants.applications import operations as app_ops
from grants.applications.models import Application, Partner
from grants.auth.models import User
from grants.auth.operations import register_user
from grants.calls import operations as call_ops
from grants.calls.models import Call, CallQuestion, Funder
from grants.extensions import db
from grants.organisations.models import Organisation
from grants.organisations.operations import create_organisation
from grants.reviews import operations as review_ops
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
        name, locale, tz, admin = {**_PEOPLE, **_MORE_PEOPLE}[email]
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


def demo_call() -> Call | None:
    """The demo's open call, for tests and the README."""
    return db.session.scalar(select(Call).where(Call.reference_prefix == "AECF"))
