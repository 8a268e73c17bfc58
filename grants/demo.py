"""Demo data: a funder, its officers, an open call in three languages, and applicants."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from grants.auth.models import User
from grants.auth.operations import register_user
from grants.calls import operations as call_ops
from grants.calls.models import Call, Funder
from grants.extensions import db
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
        name, locale, tz, admin = _PEOPLE[email]
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
    db.session.commit()
    return True


def demo_call() -> Call | None:
    """The demo's open call, for tests and the README."""
    return db.session.scalar(select(Call).where(Call.reference_prefix == "AECF"))
