"""Every interface language renders the public pages, says which language it is, and formats
money in its own way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency

from grants.config import LANGUAGES


@pytest.mark.parametrize("locale", LANGUAGES)
def test_public_pages_in_every_language(client, world, locale):
    """The open calls, a call, sign-in, registration and the verification guide."""
    call = world["call"]
    tag = locale.replace("_", "-")
    for path in ("/", f"/calls/{call.id}", "/login", "/register", "/transparency", "/results"):
        response = client.get(f"{path}?lang={locale}")
        assert response.status_code == 200, (locale, path)
        page = response.get_data(as_text=True)
        assert f'<html lang="{tag}">' in page, (locale, path)
    page = client.get(f"/calls/{call.id}?lang={locale}").get_data(as_text=True)
    assert format_currency(Decimal("20000"), "EUR", locale=locale) in page
