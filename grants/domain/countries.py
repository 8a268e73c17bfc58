"""Country reference data shipped in ``grants/data`` (sources and licences in its README)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Country:
    """An ISO 3166-1 country with its UN M49 region and World Bank income group."""

    iso2: str
    iso3: str
    name: str
    region_code: str
    region: str
    subregion_code: str
    subregion: str
    income_group: str  # HIC, UMC, LMC, LIC, or "" when unclassified


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def countries() -> dict[str, Country]:
    """Every ISO 3166-1 country keyed by alpha-2 code (Kosovo ``XK`` included)."""
    income = {row["iso2"]: row["income_group"] for row in _read("income-groups.csv")}
    result = {
        row["iso2"]: Country(
            iso2=row["iso2"],
            iso3=row["iso3"],
            name=row["name"],
            region_code=row["region_code"],
            region=row["region"],
            subregion_code=row["subregion_code"],
            subregion=row["subregion"],
            income_group=income.get(row["iso2"], ""),
        )
        for row in _read("m49-regions.csv")
    }
    # Kosovo is in the World Bank list but not in ISO 3166-1; M49 counts it in Southern Europe.
    if "XK" in income and "XK" not in result:
        result["XK"] = Country(
            "XK", "XKX", "Kosovo", "150", "Europe", "039", "Southern Europe", income["XK"]
        )
    return result


@cache
def regions() -> dict[str, str]:
    """M49 region codes and their English names (Africa, Americas, Asia, Europe, Oceania)."""
    return {c.region_code: c.region for c in countries().values() if c.region_code}


def region_of(iso2: str) -> str | None:
    """The M49 region code of a country, or None when M49 gives it none."""
    country = countries().get(iso2)
    return country.region_code if country and country.region_code else None
