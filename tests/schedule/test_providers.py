"""Live providers without the network: recorded payloads and a local server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vatio.carbon.providers import (
    ProviderError,
    electricitymaps,
    fetch_forecast,
    get_json,
    series_for_zone,
    ukgrid,
)

EM_PAYLOAD = {
    "zone": "DE",
    "forecast": [
        {"carbonIntensity": 370, "datetime": "2026-11-26T10:00:00.000Z"},
        {"carbonIntensity": 352, "datetime": "2026-11-26T11:00:00.000Z"},
        {"carbonIntensity": 331, "datetime": "2026-11-26T12:00:00.000Z"},
    ],
    "updatedAt": "2026-11-26T09:47:12.028Z",
}
UK_PAYLOAD = {
    "data": [
        {
            "from": "2026-11-26T10:00Z",
            "to": "2026-11-26T10:30Z",
            "intensity": {"forecast": 190, "actual": 186, "index": "moderate"},
        },
        {
            "from": "2026-11-26T10:30Z",
            "to": "2026-11-26T11:00Z",
            "intensity": {"forecast": 181, "actual": None, "index": "moderate"},
        },
        {
            "from": "2026-11-26T11:00Z",
            "to": "2026-11-26T11:30Z",
            "intensity": {"forecast": None, "actual": 175, "index": "moderate"},
        },
    ]
}


def test_parse_electricity_maps_forecast():
    s = electricitymaps.parse_forecast(EM_PAYLOAD, "de")
    assert s.zone == "DE" and s.step_s == 3600 and list(s.values) == [370, 352, 331]
    assert s.start == datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert "Electricity Maps live forecast" in s.source


def test_parse_uk_forecast_uses_actual_where_forecast_is_missing():
    s = ukgrid.parse_forecast(UK_PAYLOAD)
    assert s.zone == "GB" and s.step_s == 1800 and list(s.values) == [190, 181, 175]
    assert s.kind == "direct"


@pytest.mark.parametrize(
    "payload", [[], {"forecast": "x"}, {"forecast": [{"carbonIntensity": -1, "datetime": "x"}]}]
)
def test_bad_electricity_maps_payload(payload):
    with pytest.raises(ProviderError):
        electricitymaps.parse_forecast(payload, "DE")


@pytest.mark.parametrize("payload", [{}, {"data": []}, {"data": [{"from": "2026-11-26T10:00Z"}]}])
def test_bad_uk_payload(payload):
    with pytest.raises(ProviderError):
        ukgrid.parse_forecast(payload)


def test_urls():
    assert electricitymaps.forecast_url("es", kind="direct").endswith(
        "/v3/carbon-intensity/forecast?zone=ES&emissionFactorType=direct"
    )
    start = datetime(2026, 11, 26, 10, 7, tzinfo=UTC)
    assert ukgrid.forecast_url(start).endswith("/intensity/2026-11-26T10:07Z/fw48h")


def test_no_key_and_wrong_zone_fail_without_network(monkeypatch):
    monkeypatch.delenv("VATIO_ELECTRICITYMAPS_KEY", raising=False)
    with pytest.raises(ProviderError, match="No Electricity Maps API key"):
        fetch_forecast("electricitymaps", "ES", start=datetime.now(UTC))
    with pytest.raises(ProviderError, match="GB only"):
        fetch_forecast("ukgrid", "ES", start=datetime.now(UTC))
    with pytest.raises(ProviderError, match="Unknown provider"):
        fetch_forecast("nope", "ES", start=datetime.now(UTC))


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(1.5)  # longer than the client's timeout; the client is gone by then
            return
        if self.path.startswith("/error"):
            self.send_error(500, "boom")
            return
        if self.path.startswith("/v3/carbon-intensity/forecast"):
            assert self.headers["auth-token"] == "secret"
            body = json.dumps(EM_PAYLOAD).encode()
        elif self.path.startswith("/intensity/"):
            body = json.dumps(UK_PAYLOAD).encode()
        else:
            body = b"<html>not json</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_from_local_server(server):
    em = fetch_forecast(
        "electricitymaps", "DE", start=datetime.now(UTC), key="secret", base_url=server + "/v3"
    )
    assert list(em.values) == [370, 352, 331]
    uk = fetch_forecast("ukgrid", "GB", start=datetime.now(UTC), base_url=server)
    assert uk.step_s == 1800


def test_timeout_never_hangs(server):
    began = time.monotonic()
    with pytest.raises(ProviderError, match=r"did not answer within 0\.5 s"):
        get_json(server + "/slow", timeout=0.5)
    assert time.monotonic() - began < 1.4


def test_http_error_and_non_json(server):
    with pytest.raises(ProviderError, match="HTTP 500"):
        get_json(server + "/error", timeout=2)
    with pytest.raises(ProviderError, match="not JSON"):
        get_json(server + "/other", timeout=2)
    with pytest.raises(ProviderError, match="Cannot reach"):
        get_json("http://127.0.0.1:9/", timeout=2)


def test_failed_provider_falls_back_to_bundled_data(monkeypatch):
    monkeypatch.delenv("VATIO_ELECTRICITYMAPS_KEY", raising=False)
    start = datetime(2026, 11, 26, 10, tzinfo=UTC)
    sourced = series_for_zone(
        "ES", start, datetime(2026, 11, 27, 10, tzinfo=UTC), provider="electricitymaps"
    )
    assert sourced.fallback
    assert "Provider electricitymaps failed for ES" in sourced.notes[0]
    assert "Falling back to bundled data" in sourced.notes[0]
    assert "typical-year proxy" in sourced.notes[1]
    assert sourced.series.start == start
