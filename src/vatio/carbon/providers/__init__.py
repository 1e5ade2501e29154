"""Where a zone's future intensity comes from: a forecast file, an opt-in live provider,
or the bundled typical-year proxy.

Providers are never called unless the user asks for one. They use the stdlib
(urllib) with a timeout; every failure becomes a `ProviderError`, which
`series_for_zone` turns into a note and a fallback to the bundled data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from vatio.carbon.intensity import IntensitySeries
from vatio.errors import VatioError

PROVIDERS = ("electricitymaps", "ukgrid")
DEFAULT_TIMEOUT_S = 10.0
KEY_ENV = "VATIO_ELECTRICITYMAPS_KEY"


class ProviderError(VatioError):
    """A live intensity provider failed (no key, timeout, HTTP error, bad payload)."""


def get_json(
    url: str, *, headers: dict[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT_S
) -> Any:
    """GET `url` and decode JSON; the whole call is bounded by about `timeout` seconds."""
    import json  # here, not at the top: urllib costs ~20 ms to import and most runs never call
    import time
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept": "application/json", **(headers or {})})
    deadline = time.monotonic() + timeout
    host = urllib.request.urlparse(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            chunks = []
            while chunk := response.read(65536):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise TimeoutError
        return json.loads(b"".join(chunks).decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise ProviderError(f"{host} answered HTTP {error.code} {error.reason}.") from None
    except TimeoutError:
        raise ProviderError(f"{host} did not answer within {timeout:g} s.") from None
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise ProviderError(f"{host} did not answer within {timeout:g} s.") from None
        raise ProviderError(f"Cannot reach {host}: {reason}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProviderError(f"{host} sent a response that is not JSON.") from None
    except OSError as error:
        raise ProviderError(f"Cannot reach {host}: {error}.") from None


def fetch_forecast(
    provider: str,
    zone: str,
    *,
    start: datetime,
    kind: str = "lca",
    key: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    base_url: str | None = None,
) -> IntensitySeries:
    """A live forecast from `provider` ("electricitymaps" or "ukgrid"); ProviderError on failure."""
    if provider == "electricitymaps":
        from vatio.carbon.providers import electricitymaps

        key = key or os.environ.get(KEY_ENV)
        return electricitymaps.fetch(zone, key=key, kind=kind, timeout=timeout, base_url=base_url)
    if provider == "ukgrid":
        from vatio.carbon.providers import ukgrid

        return ukgrid.fetch(zone, start=start, timeout=timeout, base_url=base_url)
    raise ProviderError(
        f"Unknown provider {provider!r}.", f"Choose one of: {', '.join(PROVIDERS)}."
    )


@dataclass(frozen=True)
class SourcedSeries:
    """A series and the notes that tell the user where it came from (and what failed)."""

    series: IntensitySeries
    notes: list[str] = field(default_factory=list)
    fallback: bool = False


def series_for_zone(
    zone: str | None,
    earliest: datetime,
    deadline: datetime,
    *,
    kind: str = "lca",
    forecast: str | Path | None = None,
    provider: str | None = None,
    key: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    zone_from: str = "--zone",
) -> SourcedSeries:
    """Forecast file, else provider (falling back on failure), else the typical-year proxy.

    With a forecast file the zone may be None: the file's own zone is used, if it names one
    (a given zone that differs from it is refused; `zone_from` says where it came from).
    """
    from vatio.carbon.forecast import NO_ZONE, load_forecast, typical_year_proxy
    from vatio.carbon.zones import proxy_year, resolve_zone

    notes: list[str] = []
    if zone is None and forecast is None:
        from vatio.errors import InputError

        raise InputError("No grid zone given.", "Use --zone ES, VATIO_ZONE, or zone in vatio.toml.")
    found = resolve_zone(zone) if zone is not None else None  # aliases, cloud regions too
    if found is not None and zone is not None:
        if found.via:
            notes.append(f"Zone {found.name}.")
        elif zone.strip().upper() != found.code:
            notes.append(f"Zone {zone.strip().upper()} is {found.code} ({found.name}).")
    if forecast is not None:
        series = load_forecast(
            forecast, zone=found.code if found else None, kind=kind, zone_from=zone_from
        )
        if found is None and series.zone != NO_ZONE:
            notes.append(f"Zone {series.zone} from the {series.source}.")
        elif series.zone == NO_ZONE:
            notes.append(
                f"No zone: the {series.source} names none and none was given; the plan does "
                "not need one (add --zone to label it)."
            )
        return SourcedSeries(series, [*notes, f"Data: {series.source}."])
    assert found is not None
    zone = found.code
    fallback = False
    if provider is not None:
        try:
            series = fetch_forecast(
                provider, zone, start=earliest, kind=kind, key=key, timeout=timeout
            )
            return SourcedSeries(series, [*notes, f"Data: {series.source}."])
        except ProviderError as error:
            notes.append(
                f"Provider {provider} failed for {zone}: {error} Falling back to bundled data."
            )
            fallback = True
    proxy_year(found)  # a zone without hourly data: say so, naming the region typed
    series = typical_year_proxy(zone, earliest, deadline, kind=kind)
    notes.append(f"Data: {series.source}.")
    return SourcedSeries(series, notes, fallback)
