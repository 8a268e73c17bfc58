"""Default vocabularies, after the UNESCO Framework for Cultural Statistics (2009) domains."""

from __future__ import annotations

ARTFORMS: tuple[str, ...] = (
    "theatre",
    "dance",
    "music",
    "visual_arts",
    "crafts",
    "literature",
    "film_media",
    "design",
    "architecture",
    "cultural_heritage",
    "museums",
    "digital_media",
    "interdisciplinary",
)

# Languages offered for calls and applications: ISO 639-1 codes; names come from CLDR.
CONTENT_LANGUAGES: tuple[str, ...] = (
    "en", "fr", "de", "es", "it", "pt", "nl", "pl", "cs", "sk", "hu", "ro", "bg", "el",
    "sv", "da", "fi", "no", "et", "lv", "lt", "sl", "hr", "ja", "zh", "ko", "th", "vi",
    "id", "ms", "tl", "km", "lo", "my", "hi", "bn", "ta", "ur", "ne", "si", "mn", "kk",
    "ru", "tr", "ar",
)  # fmt: skip

# Currencies offered for calls and budgets (ISO 4217); decimals come from CLDR.
CURRENCIES: tuple[str, ...] = (
    "EUR", "USD", "GBP", "CHF", "JPY", "CNY", "KRW", "TWD", "HKD", "SGD", "THB", "VND",
    "IDR", "MYR", "PHP", "MMK", "KHR", "LAK", "BND", "INR", "BDT", "PKR", "LKR", "NPR",
    "MNT", "KZT", "AUD", "NZD", "CZK", "PLN", "HUF", "RON", "BGN", "SEK", "NOK", "DKK",
    "ISK", "TRY",
)  # fmt: skip

# Score steps a call may use on its scale.
SCORE_STEPS: tuple[str, ...] = ("1", "0.5", "0.25")
