"""Great Britain's carbon-intensity API (National Grid ESO, no key).

``GET {base}/intensity/{from}/fw48h`` returns half-hourly
``{"data": [{"from": "...Z", "to": "...Z", "intensity": {"forecast", "actual", "index"}}]}``.
Its figures are operational (direct) emissions; there is no life-cycle figure.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vatio.carbon.intensity import IntensitySeries
from vatio.carbon.providers import DEFAULT_TIMEOUT_S, ProviderError, get_json
from vatio.errors import InputError

BASE_URL = "https://api.carbonintensity.org.uk"
ZONES = ("GB",)


def forecast_url(start: datetime, *, base_url: str | None = None) -> str:
    stamp = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return f"{(base_url or BASE_URL).rstrip('/')}/intensity/{stamp}/fw48h"


def parse_forecast(payload: Any) -> IntensitySeries:
    """The half-hourly forecast (the actual value where the forecast is missing)."""
    from vatio.carbon.forecast import series_from_points

    points = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(points, list) or not points:
        raise ProviderError("carbonintensity.org.uk sent no 'data' list.")
    times, values = [], []
    for point in points:
        intensity = point.get("intensity") if isinstance(point, dict) else None
        if not isinstance(intensity, dict):
            raise ProviderError("carbonintensity.org.uk sent a point without 'intensity'.")
        value = intensity.get("forecast")
        times.append(point.get("from"))
        values.append(value if value is not None else intensity.get("actual"))
    where = [f"point {i}" for i in range(1, len(points) + 1)]
    source = "carbonintensity.org.uk live forecast (GB, direct emissions; no LCA figure)"
    try:
        return series_from_points(
            times, values, where, name="UK grid forecast", zone="GB", source=source, kind="direct"
        )
    except InputError as error:
        raise ProviderError(error.message) from None


def fetch(
    zone: str, *, start: datetime, timeout: float = DEFAULT_TIMEOUT_S, base_url: str | None = None
) -> IntensitySeries:
    if zone.upper() not in ZONES:
        raise ProviderError(f"The UK grid provider covers GB only, not {zone!r}.")
    return parse_forecast(get_json(forecast_url(start, base_url=base_url), timeout=timeout))
