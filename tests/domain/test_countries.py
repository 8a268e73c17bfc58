"""Shipped reference data."""

from grants.domain.countries import countries, region_of, regions


def test_regions_and_income_groups_are_loaded():
    """M49 regions and World Bank groups come from the shipped CSV files."""
    data = countries()
    assert data["JP"].region == "Asia" and data["JP"].income_group == "HIC"
    assert data["MM"].income_group == "LMC"
    assert data["NA"].iso3 == "NAM"  # Namibia's code is not a missing value
    assert data["ET"].income_group == ""  # unclassified for FY2026
    assert region_of("CZ") == "150" and region_of("TW") is None
    assert set(regions()) == {"002", "009", "019", "142", "150"}
