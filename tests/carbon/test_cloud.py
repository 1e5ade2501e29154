"""Cloud regions as zones: provider:region through the bundled data-centre table."""

import pytest

from vatio.carbon.accounting import run_carbon
from vatio.carbon.zones import resolve_zone
from vatio.errors import UnknownZoneError


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("gcp:us-west2", "US-CAL-CISO"),  # Los Angeles: location US-CA in the table
        ("AZURE:West US", "US-CAL-CISO"),
        ("azure:westus", "US-CAL-CISO"),  # the CLI spelling of the same region
        ("azure:Spain Central", "ES"),
        ("Azure:spaincentral", "ES"),
        ("azure:norwayeast", "NO"),
        ("gcp:europe-west1", "BE"),
        ("gcp:southamerica-east1", "BR"),
    ],
)
def test_cloud_region_resolves_to_its_hourly_zone(text, code):
    zone = resolve_zone(text)
    assert zone.code == code and zone.hourly_years
    assert zone.via is not None and zone.via.split(":")[0] == text.split(":")[0].lower()
    assert f"→ {code} (Electricity Maps hourly)" in zone.name


def test_cloud_region_without_hourly_data_uses_the_yearly_figure_of_its_location():
    zone = resolve_zone("gcp:us-central1")  # Iowa
    assert zone.code == "US-IA" and zone.hourly_years == ()
    assert zone.yearly_gco2e_per_kwh is not None
    assert zone.name.startswith("gcp:us-central1 → US-IA (") and "yearly" in zone.name


def test_profile_style_upper_case_works_and_carbon_says_the_mapping():
    hourly = [{"hour": "2022-06-01T12:00:00Z", "energy": {"cpu": [3.6e6, 1.8e6, 7.2e6, 1.8e6]}}]
    carbon = run_carbon(hourly, "GCP:US-WEST2")
    assert carbon["zone"] == "US-CAL-CISO" and carbon["basis"] == "hourly"
    assert carbon["zone_name"] == "gcp:us-west2 → US-CAL-CISO (Electricity Maps hourly)"


def test_unknown_provider_names_the_providers_in_the_table():
    with pytest.raises(UnknownZoneError) as info:
        resolve_zone("aws:us-west-1")
    assert "aws" in info.value.message
    assert "azure" in info.value.hint and "gcp" in info.value.hint


def test_unknown_region_lists_close_matches():
    with pytest.raises(UnknownZoneError) as info:
        resolve_zone("gcp:us-west9")
    assert "gcp:us-west" in info.value.hint


def test_region_without_a_location_is_an_error():
    with pytest.raises(UnknownZoneError, match="no location"):
        resolve_zone("azure:Qatar Central")


def test_every_region_of_the_table_resolves_to_its_own_row():
    from vatio.carbon.cloud import _regions

    for provider, table in _regions().items():
        for name, location, _ in set(table.values()):
            if not location:
                continue
            zone = resolve_zone(f"{provider}:{name}")
            assert zone.via == f"{provider}:{name}"
            assert zone.code in (location, "US-CAL-CISO")
