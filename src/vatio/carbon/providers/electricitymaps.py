"""Electricity Maps API v3 forecast (opt-in, needs a key).

``GET {base}/carbon-intensity/forecast?zone=ES`` with header ``auth-token``
returns ``{"zone": "ES", "forecast": [{"carbonIntensity": 123, "datetime": "...Z"}, ...]}``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from vatio.carbon.intensity import IntensitySeries
from vatio.carbon.providers import DEFAULT_TIMEOUT_S, KEY_ENV, ProviderError, get_json
from vatio.errors import InputError

BASE_URL = "https://api.electricitymap.org/v3"


def forecast_url(zone: str, *, kind: str = "lca", base_url: str | None = None) -> str:
    query = {"zone": zone.upper()}
    if kind == "direct":
        query["emissionFactorType"] = "direct"
    base = (base_url or BASE_URL).rstrip("/")
    return f"{base}/carbon-intensity/forecast?{urllib.parse.urlencode(query)}"


def parse_forecast(payload: Any, zone: str, *, kind: str = "lca") -> IntensitySeries:
    """The series in a forecast payload; ProviderError when its shape is wrong."""
    from vatio.carbon.forecast import series_from_points

    points = payload.get("forecast") if isinstance(payload, dict) else None
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise ProviderError("Electricity Maps sent a forecast without a 'forecast' list.")
    times = [p.get("datetime") for p in points]
    values = [p.get("carbonIntensity") for p in points]
    where = [f"point {i}" for i in range(1, len(points) + 1)]
    code = str(payload.get("zone") or zone).upper()
    source = f"Electricity Maps live forecast ({code}, {kind.upper()})"
    try:
        return series_from_points(
            times,
            values,
            where,
            name="Electricity Maps forecast",
            zone=code,
            source=source,
            kind=kind,
        )
    except InputError as error:
        raise ProviderError(error.message) from None


def fetch(
    zone: str,
    *,
    key: str | None,
    kind: str = "lca",
    timeout: float = DEFAULT_TIMEOUT_S,
    base_url: str | None = None,
) -> IntensitySeries:
    if not key:
        raise ProviderError(
            "No Electricity Maps API key.",
            f"Set {KEY_ENV} or the profile's Electricity Maps key.",
        )
    payload = get_json(
        forecast_url(zone, kind=kind, base_url=base_url),
        headers={"auth-token": key},
        timeout=timeout,
    )
    return parse_forecast(payload, zone, kind=kind)
