"""The applicant journey in a real browser, entirely in Japanese and entirely in Czech.

A lead finds the call, registers in the interface language, creates an organisation, starts the
application, fills the project section, answers the questions (in Czech, also with a
translation into English for the reviewers), and invites a partner; the partner registers
through the invitation link in the same language, fills its part and budget; both sign and the
lead submits. Every flash message, heading, checklist line and badge is checked in that language:
the expected wording comes from the language's catalog, the money from CLDR (Babel) in that
locale. The demo call has its texts in English, French and Japanese; in Czech its title and its
questions fall back to English with a visible marker.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import uuid4

import pytest
from babel import Locale
from babel.lists import format_list
from babel.messages import pofile
from babel.messages.catalog import Catalog
from babel.numbers import format_currency, format_decimal
from playwright.sync_api import Locator, Page, expect

from grants import demo
from tests.browser.conftest import TRANSLATIONS, LiveServer, choose_language, flash, translated
from tests.browser.test_applicant_journey import (
    PASSWORD,
    _invitation_link,
    _outbox,
    finish_registration,
)

LANGUAGES = ["ja", "cs"]
CALL_LANGUAGE = "en"  # the demo call's default language, where Czech texts fall back to
RATE_JPY = Decimal("0.0061")  # the demo call's fixed rate for the yen
RATE_SOURCE = "InforEuro, November 2026"
GUIDANCE = demo.QUESTIONS[0][1]  # written in English only
# CLDR plural categories in the order gettext catalogs list their forms.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


# --- the catalog ----------------------------------------------------------------------------


@cache
def _po(lang: str) -> Catalog:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return pofile.read_po(po_file, locale=lang)


def _plural_index(lang: str, n: int) -> int:
    """The catalog's form for ``n``: CLDR's category for ``n``, as the catalog orders them.

    The categories whole numbers take (Czech: one, few, other; Japanese: other) are the
    catalog's forms in order; the catalog's own Plural-Forms expression must agree.
    """
    catalog = _po(lang)
    rule = Locale.parse(lang).plural_form
    integer_categories = [c for c in PLURAL_CATEGORIES if any(rule(i) == c for i in range(1000))]
    assert len(integer_categories) == catalog.num_plurals, (
        f"the {lang} catalog has {catalog.num_plurals} plural forms, CLDR {integer_categories}"
    )
    index = integer_categories.index(rule(n))
    assert index == gettext.c2py(catalog.plural_expr)(n), f"{lang}: plural form of {n}"
    return index


def ntranslated(lang: str, singular: str, n: int) -> str:
    """The catalog's plural form of ``singular`` for the number ``n`` (not yet formatted)."""
    message = _po(lang).get(singular)
    assert message is not None and message.pluralizable, f"{lang}: no plural entry {singular!r}"
    forms = message.string
    assert isinstance(forms, tuple) and all(forms), f"{lang}: {singular!r} is not translated"
    return forms[_plural_index(lang, n)]


@dataclass(frozen=True)
class Reader:
    """What a reader of one interface language sees: its strings, names and money."""

    lang: str

    def t(self, msgid: str, **values: Any) -> str:
        """An interface string in this language, its placeholders filled."""
        text = translated(self.lang, msgid)
        return text % values if values else text

    def n(self, singular: str, num: int, **values: Any) -> str:
        """A plural interface string for ``num``, its placeholders filled."""
        return ntranslated(self.lang, singular, num) % {"num": num, **values}

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    def language(self, code: str) -> str:
        return str(self.locale.languages[code])

    def country(self, code: str) -> str:
        return str(self.locale.territories[code])

    def money(self, amount: str, currency: str) -> str:
        return str(format_currency(Decimal(amount), currency, locale=self.lang))

    def list_text(self, items: list[str]) -> str:
        return str(format_list(items, locale=self.lang))

    def marker(self, code: str = CALL_LANGUAGE) -> str:
        """The visible note that a text is shown in another language: "(in English)"."""
        return "(" + self.t("in %(language)s", language=self.language(code)) + ")"

    def call_text(self, texts: dict[str, str]) -> str:
        """A call text as shown: in this language, or in English followed by the marker."""
        if self.lang in texts:
            return texts[self.lang]
        return f"{texts[CALL_LANGUAGE]} {self.marker()}"

    def done(self, text: str) -> str:
        return f"{self.t('Done:')}✓ {text}"

    def to_do(self, text: str) -> str:
        return f"{self.t('To do:')}✗ {text}"


@dataclass(frozen=True)
class Content:
    """What the applicants write, in the interface language."""

    lead_name: str
    partner_name: str
    lead_org: str
    partner_org: str
    title: str
    summary: str
    answers: tuple[str, str]
    message: str
    lead_role: str
    partner_role: str
    lines: tuple[str, str, str]
    partner_lines: tuple[str, str]
    translations: tuple[str, ...] = ()  # of the answers into English, for the reviewers


# Test data written by the applicants themselves, in the interface language.
CONTENT: dict[str, Content] = {
    "ja": Content(
        lead_name="山田 健二",
        partner_name="ペトラ・ノヴァーコヴァー",
        lead_org="京都ステージ",
        partner_org="ブルノ・ダンス",
        title="音の架け橋",
        summary="京都とブルノのサウンドアーティストが二つの橋を調律します。",
        answers=(
            "両都市のアーティストが、二つの橋にサウンドインスタレーションを制作します。",
            "合同レジデンス、公開リハーサル、近隣住民との聴く散歩を行います。",
        ),
        message="ブルノ・ダンスで二回目のレジデンスを受け入れていただけますか。",
        lead_role="主導団体。京都で一回目のレジデンスを受け入れます。",
        partner_role="ブルノで二回目のレジデンスを受け入れます。",
        lines=("アーティスト謝礼", "大阪―ウィーン航空券", "スピーカーとセンサー"),
        partner_lines=("ダンサー謝礼", "ブルノのゲスト用住居"),
    ),
    "cs": Content(
        lead_name="Kendži Jamada",
        partner_name="Petra Nováková",
        lead_org="Kjótská scéna",
        partner_org="Brněnský tanec",
        title="Zvukové mosty",
        summary="Zvukoví umělci z Kjóta a Brna ladí dva mosty.",
        answers=(
            "Zvuková instalace na dvou mostech, kterou vytvoří umělci z obou měst.",
            "Společné rezidence, otevřené zkoušky a poslechové procházky se sousedy.",
        ),
        translations=(
            "A sound installation on two bridges, built by artists from both cities.",
            "Joint residencies, open rehearsals and listening walks with neighbours.",
        ),
        message="Přijal by Brněnský tanec druhou rezidenci?",
        lead_role="Vedoucí partner; hostí první rezidenci v Kjótu.",
        partner_role="Hostí druhou rezidenci v Brně.",
        lines=("Honoráře zvukových umělců", "Letenky Ósaka–Vídeň", "Reproduktory a senzory"),
        partner_lines=("Honoráře tanečníků", "Hostovské byty v Brně"),
    ),
}


# --- what the pages show ----------------------------------------------------------------------


def _heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def _label(page: Page, text: str) -> Locator:
    return page.get_by_label(text, exact=True)


def _checklist_line(page: Page, r: Reader, text: str) -> Locator:
    checklist = page.get_by_role("region", name=r.t("Eligibility checklist"))
    return checklist.get_by_role("listitem").filter(has_text=text)


def _expect_done(page: Page, r: Reader, *texts: str) -> None:
    for text in texts:
        expect(_checklist_line(page, r, text)).to_have_text(r.done(text))


def _expect_to_do(page: Page, r: Reader, *texts: str) -> None:
    for text in texts:
        expect(_checklist_line(page, r, text)).to_have_text(r.to_do(text))


def _partner_row(page: Page, r: Reader, organisation: str) -> Locator:
    partners = page.get_by_role("region", name=r.t("Partners and budget"))
    return partners.get_by_role("row").filter(
        has=page.get_by_role("rowheader").filter(has_text=organisation)
    )


def _register(
    page: Page,
    r: Reader,
    name: str,
    email: str,
    timezone: str,
    live_server: LiveServer | None = None,
) -> None:
    """Fill the registration form in the reader's language and send it; with
    ``live_server``, confirm the address through the e-mailed link (without, the page came
    from an invitation sent to ``email``, which proves the address)."""
    expect(_heading(page)).to_have_text(r.t("Create account"))
    _label(page, r.t("Full name")).fill(name)
    _label(page, r.t("E-mail address")).fill(email)
    _label(page, r.t("Password")).fill(PASSWORD)
    _label(page, r.t("Repeat the password")).fill(PASSWORD)
    language = _label(page, r.t("Preferred language"))
    expect(language).to_have_value(r.lang)  # the interface language is proposed
    expect(language.locator("option:checked")).to_have_text(
        Locale.parse(r.lang).get_display_name(r.lang) or r.lang
    )
    language.select_option(r.lang)
    _label(page, r.t("Time zone")).select_option(timezone)
    page.get_by_role("button", name=r.t("Create account")).click()
    if live_server is not None:
        finish_registration(page, live_server, email)
    expect(flash(page)).to_have_text(r.t("Welcome, %(name)s. Your account is ready.", name=name))
    expect(page.locator("html")).to_have_attribute("lang", r.lang)


def _create_organisation(
    page: Page, r: Reader, name: str, country: str, kind: str, band: str
) -> None:
    """Fill the new-organisation form (country, type and budget chosen by their shown names)."""
    expect(_heading(page)).to_have_text(r.t("New organisation"))
    _label(page, r.t("Name of the organisation")).fill(name)
    _label(page, r.t("Country where it is based")).select_option(label=r.country(country))
    _label(page, r.t("Type of organisation")).select_option(label=r.t(kind))
    _label(page, r.t("Annual budget")).select_option(label=r.t(band))
    page.get_by_role("button", name=r.t("Save organisation")).click()
    expect(flash(page)).to_have_text(r.t("%(name)s is created. You act for it.", name=name))


def _fill_part(
    page: Page, r: Reader, organisation: str, role: str, currency: str, money: list[str]
) -> None:
    """A partner's role, currency, grant and contributions, from the application page."""
    page.get_by_role("link", name=r.t("Edit the part of %(name)s", name=organisation)).click()
    expect(_heading(page)).to_have_text(r.t("The part of %(name)s", name=organisation))
    _label(page, r.t("Role in the project")).fill(role)
    _label(page, r.t("Currency of this budget")).select_option(currency)
    grant, cash, in_kind = money
    _label(page, r.t("Grant requested")).fill(grant)
    _label(page, r.t("Own contribution in cash")).fill(cash)
    _label(page, r.t("Own contribution in kind")).fill(in_kind)
    page.get_by_role("button", name=r.t("Save"), exact=True).click()
    expect(flash(page)).to_have_text(r.t("Your part of the application is saved."))


def _fill_budget(
    page: Page, r: Reader, organisation: str, part: str, lines: list[tuple[str, str, str]]
) -> None:
    """A partner's budget lines, categories chosen by their shown names."""
    page.get_by_role(
        "link", name=r.t("Edit the budget lines of %(name)s", name=organisation)
    ).click()
    expect(_heading(page)).to_have_text(r.t("Budget lines of %(name)s", name=organisation))
    expect(page.get_by_role("main")).to_contain_text(
        r.t(
            "Amounts in %(currency)s. The lines must add up to %(part)s: the grant requested "
            "plus the own contribution.",
            currency=part.split(":")[0],
            part=r.money(part.split(":")[1], part.split(":")[0]),
        )
    )
    for number, (category, description, amount) in enumerate(lines, start=1):
        line = r.t("line %(num)d", num=number)
        _label(page, f"{r.t('Category')} ({line})").select_option(label=r.t(category))
        _label(page, f"{r.t('Description')} ({line})").fill(description)
        _label(page, f"{r.t('Amount')} ({line})").fill(amount)
    page.get_by_role("button", name=r.t("Save budget"), exact=True).click()
    expect(flash(page)).to_have_text(r.t("The budget is saved."))


def _sign(page: Page, r: Reader, organisation: str) -> None:
    page.get_by_role(
        "button", name=r.t("Sign the final version for %(name)s", name=organisation)
    ).click()
    expect(flash(page)).to_have_text(
        r.t("You have signed the application for %(name)s.", name=organisation)
    )
    expect(_partner_row(page, r, organisation).locator("td").last).not_to_have_text(r.t("not yet"))


# --- the journey ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGUAGES)
def test_lead_and_partner_apply_in_their_language(
    new_page: Callable[..., Page], live_server: LiveServer, lang: str
) -> None:
    """Lead and invited partner build, sign and submit an application in ``lang`` only."""
    if lang not in live_server.app.config["LANGUAGES"]:
        pytest.skip(f"the app does not serve {lang} yet (not in LANGUAGES, grants/config.py)")
    r = Reader(lang)
    c = CONTENT[lang]
    token = uuid4().hex[:8]
    lead_email, partner_email = f"lead-{token}@example.org", f"partner-{token}@example.org"
    lead_org, partner_org = f"{c.lead_org} {token}", f"{c.partner_org} {token}"
    title = f"{c.title} {token}"
    fund = r.call_text(demo.FUND_TITLE)  # Czech: the English title and "(in English)"
    questions = [
        texts.get(lang, texts[CALL_LANGUAGE]) for texts, _guidance, _limit in demo.QUESTIONS
    ]
    fallback = lang not in demo.FUND_TITLE

    # The lead picks the language on the home page, then finds the call, signed out.
    lead = new_page()
    lead.goto("/")
    choose_language(lead, lang)
    expect(_heading(lead)).to_have_text(r.t("Open calls"))
    title_shown = demo.FUND_TITLE.get(lang, demo.FUND_TITLE[CALL_LANGUAGE])
    card = lead.locator("li.card").filter(
        has=lead.get_by_role("heading", level=2).filter(has_text=title_shown)
    )
    expect(card.get_by_role("heading", level=2)).to_have_text(fund)  # Czech: with the marker
    card.get_by_role("link", name=fund, exact=True).click()

    # The call page: its title in Japanese; in Czech the English title, marked as such.
    expect(_heading(lead)).to_have_text(fund)
    marker = _heading(lead).locator(".fallback")
    if fallback:
        expect(_heading(lead).locator(f'[lang="{CALL_LANGUAGE}"]')).to_have_text(
            demo.FUND_TITLE[CALL_LANGUAGE]
        )
        expect(marker).to_be_visible()
        expect(marker).to_have_text(r.marker())
    else:
        expect(_heading(lead).locator(f'[lang="{lang}"]')).to_have_text(demo.FUND_TITLE[lang])
        expect(marker).to_have_count(0)
    expect(lead.locator("main .meta .badge")).to_have_text(r.t("Open"))
    expect(lead.get_by_role("heading", level=2, name=r.t("Key dates"))).to_be_visible()
    expect(lead.get_by_role("main")).to_contain_text(
        r.t(
            "%(low)s to %(high)s",
            low=r.money("10000", "EUR"),
            high=r.money("80000", "EUR"),
        )
    )
    expect(lead.get_by_role("main")).to_contain_text(
        r.n("At least %(num)d partner organisation.", 2)
    )

    # Applying needs an account: the lead creates one in this language.
    lead.get_by_role("link", name=r.t("Apply to this call")).click()
    expect(_heading(lead)).to_have_text(r.t("Sign in"))
    expect(lead.get_by_role("main")).to_contain_text(r.t("Please sign in to see that page."))
    lead.get_by_role("main").get_by_role("link", name=r.t("Create account")).click()
    _register(lead, r, c.lead_name, lead_email, "Asia/Tokyo", live_server)

    expect(_heading(lead)).to_have_text(r.t("Apply to %(call)s", call=fund))
    expect(lead.get_by_role("main")).to_contain_text(
        r.t(
            "You apply for an organisation. Create its profile first; you come back here "
            "afterwards."
        )
    )
    lead.get_by_role("link", name=r.t("New organisation")).click()
    _create_organisation(
        lead,
        r,
        lead_org,
        "JP",
        "Non-profit organisation or association",
        "Under 50,000 euros a year",
    )
    expect(_heading(lead)).to_have_text(r.t("Apply to %(call)s", call=fund))  # back via ?next=
    expect(_label(lead, r.t("Apply as lead partner for")).locator("option:checked")).to_have_text(
        lead_org
    )
    lead.get_by_role("button", name=r.t("Start the application")).click()

    expect(flash(lead)).to_have_text(
        r.t("Your application is started. Invite your partners and fill each section.")
    )
    expect(_heading(lead)).to_have_text(r.t("(untitled application)"))
    expect(lead.locator("main .meta .badge")).to_have_text(r.t("Draft"))
    expect(lead.locator("main > p.meta").first).to_contain_text(fund)
    _expect_to_do(
        lead,
        r,
        r.t("Give the project a title."),
        r.t("Write a summary."),
        r.n("At least %(num)d partner organisation (you have %(have)d).", 2, have=1),
        r.t("Add a partner based in %(region)s.", region=r.country("150")),
        r.t("Answer the question: %(question)s", question=questions[0]),
    )
    _expect_done(lead, r, r.t("A partner based in %(region)s.", region=r.country("142")))

    # The project section, written in the interface language.
    lead.get_by_role("link", name=r.t("Edit the project section")).click()
    expect(_heading(lead)).to_have_text(r.t("The project"))
    _label(lead, r.t("Project title")).fill(title)
    _label(lead, r.t("Summary")).fill(c.summary)
    _label(lead, r.t("Language of the summary")).select_option(label=r.language(lang))
    artforms = lead.get_by_role("group", name=r.t("Artforms of the project"))
    artforms.get_by_label(r.t("Music"), exact=True).check()
    artforms.get_by_label(r.t("Interdisciplinary"), exact=True).check()
    languages = lead.get_by_role("group", name=r.t("Languages of the project"))
    languages.get_by_label(r.language("ja"), exact=True).check()
    languages.get_by_label(r.language("cs"), exact=True).check()
    lead.get_by_role("button", name=r.t("Save"), exact=True).click()

    expect(flash(lead)).to_have_text(r.t("The project section is saved."))
    expect(_heading(lead)).to_have_text(title)
    project = lead.get_by_role("region", name=r.t("The project"))
    expect(project.locator("dd")).to_have_text(
        [
            title,
            f"{c.summary} ({r.language(lang)})",
            r.list_text([r.t("Music"), r.t("Interdisciplinary")]),
            r.list_text([r.language("cs"), r.language("ja")]),
        ]
    )
    _expect_done(
        lead,
        r,
        r.t("The project has a title."),
        r.t("The project has a summary."),
        r.t("Artforms are chosen."),
        r.t("The project's languages are chosen."),
    )

    # Both questions, answered in the interface language; in Czech with an English translation.
    for number, question in enumerate(questions):
        article = lead.get_by_role("article").filter(has=lead.get_by_role("heading", name=question))
        if fallback:  # the question is shown in English, marked as such
            expect(article.get_by_role("heading", level=3)).to_have_text(f"{question} {r.marker()}")
        article.get_by_role("link", name=r.t("Write or edit the answer")).click()
        expect(_heading(lead)).to_have_text(f"{question} {r.marker()}" if fallback else question)
        if number == 0:  # its guidance exists in English only, in every language
            expect(lead.locator("main p.hint").first).to_have_text(f"{GUIDANCE} {r.marker()}")
        expect(lead.get_by_role("main")).to_contain_text(
            r.n("At most %(num)d word.", demo.QUESTIONS[number][2])
        )
        answer_language = _label(lead, r.t("Language of this answer"))
        expect(answer_language).to_have_value(lang)  # the summary's language is proposed
        expect(answer_language.locator("option:checked")).to_have_text(r.language(lang))
        _label(lead, r.t("Your answer")).fill(c.answers[number])
        if c.translations:
            group = lead.get_by_role("group", name=r.t("A translation for reviewers"))
            expect(group).to_be_visible()
            expect(_label(lead, r.t("Language of the translation"))).to_have_value("")
            _label(lead, r.t("Language of the translation")).select_option(label=r.language("en"))
            _label(lead, r.t("Translation (optional)")).fill(c.translations[number])
        lead.get_by_role("button", name=r.t("Save answer")).click()

        expect(flash(lead)).to_have_text(r.t("Your answer is saved."))
        expect(_heading(lead)).to_have_text(title)
        card = lead.get_by_role("article").filter(has=lead.get_by_role("heading", name=question))
        original = card.locator(f'.pre[lang="{lang}"]')
        expect(original).to_have_text(c.answers[number])
        if c.translations:  # the original and the translation side by side, each marked
            expect(card.locator("p.meta")).to_have_text(
                [
                    r.t("Original, in %(language)s", language=r.language(lang)),
                    r.t(
                        "Translation into %(language)s, supplied by the applicants",
                        language=r.language("en"),
                    ),
                ]
            )
            translation = card.locator('.pre[lang="en"]')
            expect(translation).to_be_visible()
            expect(translation).to_have_text(c.translations[number])
        else:
            expect(card.locator("p.meta")).to_have_text(
                [r.t("Written in %(language)s", language=r.language(lang))]
            )
        expect(original).to_be_visible()
        _expect_done(lead, r, r.t("Answered: %(question)s", question=question))

    # The lead's part in yen at the call's fixed rate, shown in this locale's money format.
    _fill_part(lead, r, lead_org, c.lead_role, "JPY", ["3000000", "1000000", "500000"])
    row = _partner_row(lead, r, lead_org)
    rate = r.t(
        "rate %(rate)s, %(source)s",
        rate=format_decimal(RATE_JPY, locale=lang, decimal_quantization=False),
        source=RATE_SOURCE,
    )
    expect(row.locator("td").nth(0)).to_have_text(
        f"{r.money('3000000', 'JPY')}≈ {r.money('18300', 'EUR')} ({rate})"
    )
    expect(row.locator("td").nth(1)).to_have_text(
        r.t(
            "%(cash)s cash, %(kind)s in kind",
            cash=r.money("1000000", "JPY"),
            kind=r.money("500000", "JPY"),
        )
    )
    expect(row.locator("td").nth(2)).to_have_text(
        f"{r.money('0', 'JPY')} ({r.t('part: %(part)s', part=r.money('4500000', 'JPY'))})"
    )
    _expect_to_do(
        lead,
        r,
        r.t(
            "The budget lines of %(partner)s add up to %(lines)s but its part (grant and "
            "contribution) is %(part)s: make them equal.",
            partner=lead_org,
            lines=r.money("0", "JPY"),
            part=r.money("4500000", "JPY"),
        ),
    )
    _fill_budget(
        lead,
        r,
        lead_org,
        "JPY:4500000",
        [
            ("Fees", c.lines[0], "2500000"),
            ("Travel", c.lines[1], "1200000"),
            ("Equipment", c.lines[2], "800000"),
        ],
    )
    expect(row.locator("td").nth(2)).to_have_text(r.money("4500000", "JPY"))
    _expect_done(
        lead,
        r,
        r.t("The budget lines of %(partner)s add up to its part.", partner=lead_org),
        r.t(
            "The grant requested (%(total)s) lies between %(min)s and %(max)s.",
            total=r.money("18300", "EUR"),
            min=r.money("10000", "EUR"),
            max=r.money("80000", "EUR"),
        ),
    )

    # The invitation, with an e-mail in this language.
    expect(lead.get_by_role("main")).to_contain_text(
        r.t("%(name)s can sign once every other item of the checklist is done.", name=lead_org)
    )
    _label(lead, r.t("E-mail address of the partner's contact person")).fill(partner_email)
    _label(lead, r.t("Language of the invitation e-mail")).select_option(lang)
    _label(lead, r.t("Personal message (optional)")).fill(c.message)
    lead.get_by_role("button", name=r.t("Send invitation")).click()

    expect(flash(lead)).to_have_text(
        r.t("The invitation is sent to %(email)s.", email=partner_email)
    )
    partners = lead.get_by_role("region", name=r.t("Partners and budget"))
    expect(partners.get_by_role("heading", name=r.t("Invitations"), exact=True)).to_be_visible()
    expect(partners.get_by_role("listitem").filter(has_text=partner_email)).to_contain_text(
        f"{partner_email} · {r.t('waiting for an answer')} · "
    )
    _expect_to_do(
        lead, r, r.n("%(num)d invitation is still waiting: it must be accepted or withdrawn.", 1)
    )
    invitation_mail = _outbox(live_server, "partner_invitation", partner_email)[-1]
    assert r.t("Hello,") in invitation_mail
    assert (
        r.t(
            "%(inviter)s of %(lead)s invites your organisation to apply together to the call "
            '"%(call)s".',
            inviter=c.lead_name,
            lead=lead_org,
            call=demo.FUND_TITLE.get(lang, demo.FUND_TITLE[CALL_LANGUAGE]),
        )
        in invitation_mail
    ), invitation_mail
    link = _invitation_link(live_server, partner_email)

    # The partner, in its own browser, follows the link, switches to the language, registers.
    partner = new_page()
    partner.goto(link)
    expect(partner.locator("html")).to_have_attribute("lang", "en")  # the browser's language
    choose_language(partner, lang)
    expect(_heading(partner)).to_have_text(r.t("Sign in"))
    expect(partner.get_by_role("main")).to_contain_text(r.t("Please sign in to see that page."))
    create = partner.get_by_role("main").get_by_role("link", name=r.t("Create account"))
    expect(create).to_have_attribute("href", "/register?next=" + link.removeprefix(live_server.url))
    create.click()
    _register(partner, r, c.partner_name, partner_email, "Europe/Prague")

    assert partner.url == link
    expect(_heading(partner)).to_have_text(r.t("Join the application to %(call)s", call=fund))
    main = partner.get_by_role("main")
    expect(main).to_contain_text(
        r.t(
            "%(lead)s (%(country)s) invites your organisation to apply together.",
            lead=lead_org,
            country=r.country("JP"),
        )
    )
    expect(main).to_contain_text(r.t("Project: %(title)s", title=title))
    expect(main.locator("blockquote")).to_have_text(c.message)
    expect(main).to_contain_text(
        r.t(
            "You join for your organisation. Create its profile first; you come back here "
            "afterwards."
        )
    )
    partner.get_by_role("link", name=r.t("New organisation")).click()
    _create_organisation(
        partner, r, partner_org, "CZ", "Artist collective or informal group",
        "50,000 to 250,000 euros a year",
    )  # fmt: skip
    expect(_heading(partner)).to_have_text(r.t("Join the application to %(call)s", call=fund))
    expect(_label(partner, r.t("Join as partner for")).locator("option:checked")).to_have_text(
        partner_org
    )
    partner.get_by_role("button", name=r.t("Join the partnership")).click()

    expect(flash(partner)).to_have_text(
        r.t("You have joined the partnership. Fill in your part and your budget.")
    )
    expect(_heading(partner)).to_have_text(r.t("The part of %(name)s", name=partner_org))
    partner.get_by_role("link", name=r.t("Back to the application")).click()
    expect(_heading(partner)).to_have_text(title)
    expect(partner.locator("main .meta .badge")).to_have_text(r.t("Draft"))
    _expect_done(
        partner,
        r,
        r.n("At least %(num)d partner organisation (you have %(have)d).", 2, have=2),
        r.n("Partners from at least %(num)d country (you have %(have)d).", 2, have=2),
        r.t("A partner based in %(region)s.", region=r.country("150")),
        r.t("No invitation is waiting for an answer."),
    )
    # The partner edits only its own part; once it asks for money, its lines must match.
    expect(
        partner.get_by_role("link", name=r.t("Edit the part of %(name)s", name=lead_org))
    ).to_have_count(0)
    _fill_part(partner, r, partner_org, c.partner_role, "EUR", ["13000", "5000", "2000"])
    _expect_to_do(
        partner,
        r,
        r.t(
            "The budget lines of %(partner)s add up to %(lines)s but its part (grant and "
            "contribution) is %(part)s: make them equal.",
            partner=partner_org,
            lines=r.money("0", "EUR"),
            part=r.money("20000", "EUR"),
        ),
    )
    expect(partner.get_by_role("main")).to_contain_text(
        r.t("%(name)s can sign once every other item of the checklist is done.", name=partner_org)
    )
    _fill_budget(
        partner,
        r,
        partner_org,
        "EUR:20000",
        [
            ("Fees", c.partner_lines[0], "12000"),
            ("Accommodation", c.partner_lines[1], "8000"),
        ],
    )
    expect(_partner_row(partner, r, partner_org).locator("td").nth(2)).to_have_text(
        r.money("20000", "EUR")
    )
    _expect_done(
        partner,
        r,
        r.t("The budget lines of %(partner)s add up to its part.", partner=partner_org),
        r.t(
            "The grant requested (%(total)s) lies between %(min)s and %(max)s.",
            total=r.money("31300", "EUR"),
            min=r.money("10000", "EUR"),
            max=r.money("80000", "EUR"),
        ),
    )
    _expect_to_do(
        partner,
        r,
        r.n(
            "%(num)d partner still has to sign: %(partners)s.",
            2,
            partners=f"{lead_org}, {partner_org}",
        ),
    )

    # Both sign, the partner first.
    _sign(partner, r, partner_org)
    _expect_to_do(
        partner, r, r.n("%(num)d partner still has to sign: %(partners)s.", 1, partners=lead_org)
    )
    lead.reload()
    expect(_partner_row(lead, r, partner_org).locator("td").last).not_to_have_text(r.t("not yet"))
    expect(_partner_row(lead, r, lead_org).locator("td").last).to_have_text(r.t("not yet"))
    _sign(lead, r, lead_org)
    _expect_done(lead, r, r.t("Every partner has signed the final version."))
    checklist = lead.get_by_role("region", name=r.t("Eligibility checklist"))
    expect(checklist.get_by_role("listitem").filter(has_text=r.t("To do:"))).to_have_count(0)

    # The lead submits: the reference, the status, and a receipt in this language for each.
    lead.get_by_role("button", name=r.t("Submit the application")).click()
    expect(flash(lead)).to_contain_text("AECF-")
    found = re.search(r"AECF-\d{4}-\d{4}", flash(lead).inner_text())
    assert found is not None, flash(lead).inner_text()
    reference = found.group(0)
    expect(flash(lead).locator("p")).to_have_text(
        r.t(
            "Your application is submitted. Its reference is %(reference)s; every partner "
            "receives a receipt by e-mail.",
            reference=reference,
        )
    )
    expect(lead.locator("main .meta .badge")).to_have_text(r.t("Submitted"))
    expect(lead.locator("main > p.meta")).to_contain_text(
        r.t("Reference %(reference)s", reference=reference)
    )
    submitted_on = r.t("Submitted on %(when)s.", when="\0").split("\0")[0].strip()
    expect(lead.get_by_role("region", name=r.t("Sign-off and submission"))).to_contain_text(
        submitted_on
    )
    expect(lead.get_by_role("link", name=r.t("Edit the project section"))).to_have_count(0)
    expect(lead.get_by_role("button", name=r.t("Withdraw the application"))).to_be_visible()

    lead.get_by_role("link", name=r.t("My applications")).first.click()
    mine = lead.get_by_role("table", name=r.t("Applications of your organisations"))
    expect(mine.locator("tbody tr")).to_have_count(1)
    expect(mine.locator("tbody tr td").nth(0)).to_contain_text(title)
    expect(mine.locator("tbody tr td").nth(0)).to_contain_text(reference)
    expect(mine.locator("tbody tr td").nth(1)).to_have_text(fund)
    expect(mine.locator("tbody tr td").nth(2)).to_have_text(r.t("Submitted"))

    for email, name, organisation in (
        (lead_email, c.lead_name, lead_org),
        (partner_email, c.partner_name, partner_org),
    ):
        receipts = _outbox(live_server, "submission_receipt", email)
        assert len(receipts) == 1, f"{email}: {len(receipts)} receipts"
        assert r.t("Hello %(name)s,", name=name) in receipts[0], receipts[0]
        assert r.t("Reference: %(reference)s", reference=reference) in receipts[0], receipts[0]
        assert r.t("Your organisation: %(name)s", name=organisation) in receipts[0], receipts[0]
        assert title in receipts[0]
