"""The HTML report in headless Chromium: no console error, no request, plots drawn.

Needs a Chromium (Debian package `chromium`); skipped without one, unless
VATIO_REQUIRE_BROWSER is set (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import base64
import io
import json
import os

import pytest

from tests.report.cdp import Browser, Page, find_chromium
from vatio.report.build import build_report
from vatio.report.html import render_html

CHROMIUM = find_chromium()
if CHROMIUM is None:
    if os.environ.get("VATIO_REQUIRE_BROWSER"):
        raise RuntimeError("VATIO_REQUIRE_BROWSER is set but no Chromium was found")
    pytest.skip(
        "headless Chromium not installed (apt-get install chromium); the HTML report "
        "browser tests need it",
        allow_module_level=True,
    )

PLOTS = """JSON.stringify(Array.from(document.querySelectorAll('svg.plot')).map(s => {
  const r = s.getBoundingClientRect();
  return {label: s.getAttribute('aria-label'), x: r.left + scrollX, y: r.top + scrollY,
          width: r.width, height: r.height, shapes: s.querySelectorAll('path, use, text').length};
}))"""


@pytest.fixture(scope="module")
def browser():
    instance = Browser(CHROMIUM)
    yield instance
    instance.close()


def load(browser: Browser, path) -> Page:
    page = browser.open()
    page.call("Page.navigate", url=path.resolve().as_uri())
    page.wait_for("Page.loadEventFired")
    page.evaluate("document.fonts.ready.then(() => true)")
    return page


def problems(page: Page, own_url: str) -> list[str]:
    """Console errors and warnings, exceptions, log errors, and any request but the page."""
    found = [
        f"console.{e['type']}: {e['args']}"
        for e in page.of("Runtime.consoleAPICalled")
        if e["type"] in ("error", "warning", "assert")
    ]
    found += [f"exception: {e['exceptionDetails']}" for e in page.of("Runtime.exceptionThrown")]
    found += [
        f"log {e['entry']['level']} ({e['entry']['source']}): {e['entry']['text']}"
        for e in page.of("Log.entryAdded")
        if e["entry"]["level"] in ("error", "warning")
    ]
    found += [
        f"request: {e['request']['url']}"
        for e in page.of("Network.requestWillBeSent")
        if e["request"]["url"] != own_url
    ]
    return found


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    from tests.report.records import device, make_result, manifest, save

    folder = tmp_path_factory.mktemp("html")
    store = folder / "runs.db"
    first = save(store, make_result(name="baseline", work={"samples": 6000.0}, phases=3))
    devices = [device("gpu", 250.0, 90.0), device("cpu", 40.0, 90.0), device("memory", 6.0, 90.0)]
    second = save(
        store,
        make_result(devices=devices, duration=90.0, manifest=manifest(packages={"torch": "2.4"})),
    )
    path = folder / "report.html"
    path.write_text(render_html(build_report([first, second])), encoding="utf-8")
    return path


def test_report_opens_offline_without_errors_or_requests(browser, report_file):
    page = load(browser, report_file)
    assert problems(page, report_file.resolve().as_uri()) == []
    assert page.evaluate("performance.getEntriesByType('resource').length") == 0
    assert page.evaluate("document.title").startswith("vatio report")


def test_screenshots_show_every_plot_drawn(browser, report_file):
    from PIL import Image

    page = load(browser, report_file)
    plots = json.loads(page.evaluate(PLOTS))
    labels = {p["label"] for p in plots}
    assert {
        "Energy of the compared runs",
        "Power over time by device (stacked)",
        "Energy by device",
        "Energy by phase",
        "Grid carbon intensity around the run",
    } <= labels
    for plot in plots:
        assert plot["width"] > 200 and plot["height"] > 80, plot
        assert plot["shapes"] > 10, plot
        clip = {k: plot[k] for k in ("x", "y", "width", "height")} | {"scale": 1}
        shot = page.call(
            "Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True
        )
        image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
        colours = image.getcolors(maxcolors=1 << 24)
        inked = sum(n for n, rgb in colours if sum(rgb) < 600) / (image.width * image.height)
        assert inked > 0.01 and len(colours) > 8, (plot["label"], inked, len(colours))


def test_the_checks_catch_a_page_that_misbehaves(browser, tmp_path):
    """The harness itself: a console error and a request are both reported."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><title>bad</title><img src='http://127.0.0.1:9/x.png'>"
        "<script>console.error('boom')</script>"
    )
    page = load(browser, bad)
    found = problems(page, bad.resolve().as_uri())
    assert any("boom" in f for f in found)
    assert any("127.0.0.1:9" in f for f in found)
