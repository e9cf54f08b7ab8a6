"""The HTML report as a person sees it: rendered by headless Chromium at 1280 px, measured
in the browser (page width and height) and captured as a screenshot.

Chromium comes from Debian (`apt-get install chromium`; scripts/test installs it as root).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from gatekeeper.campaign.audience import default_audience
from gatekeeper.campaign.campaign_report import html_report
from gatekeeper.campaign.segments import Segment
from gatekeeper.campaign.simulate import read_campaign, simulate
from gatekeeper.core.policy import PolicySettings
from gatekeeper.testing import HashEmbedder, build_message

VIEWPORT_WIDTH = 1280
MAX_HEIGHT = 4000  # two variants, a series of three sends
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
# Written into a copy of the page (the report itself has no script): the browser's own
# measure of the laid-out page, read back from the DOM it dumps.
MEASURE = ("<script>document.body.setAttribute('data-measured', "
           "document.documentElement.scrollWidth + 'x' + document.documentElement.scrollHeight)"
           "</script>")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("headless Chromium is needed: apt-get install chromium (scripts/test "
                    "installs it when run as root)", pytrace=False)
    return found


def run_chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           *arguments], capture_output=True, text=True, timeout=120, check=True)


LONG_FOOTER = ("You are receiving this because you signed up at {domain}. Unsubscribe: "
               "https://{domain}/unsubscribe?id=8d2f1a6b9c0e4d7f8a1b2c3d4e5f6a7b8c9d0e1f")


def two_campaigns() -> list:
    sale = build_message(
        sender="Trailhead Outfitters <news@trailhead.example>",
        subject="Spring sale: 30% off boots and jackets until Sunday, plus free delivery on "
                "every order over 50",
        body="Our spring sale is on: 30% off every boot and jacket until Sunday. "
             "We tested six new hiking boots on wet limestone; the lightest kept our feet dry. "
             "Route of the month: the three-lakes circuit, fourteen kilometres. "
             "https://trailhead.example/a-very-long-tracking-link/with/many/segments/that/"
             "would/overflow/any/table/cell/if/it/were/shown/as/is\n\n"
             + LONG_FOOTER.format(domain="trailhead.example"),
        headers={"List-Id": "<news.trailhead.example>"})
    newsletter = build_message(
        sender="DevTools Weekly <news@devtools.example>",
        subject="This week: faster Python packaging, a new type checker and CI tips",
        body="The new release of our package manager resolves dependencies twice as fast. "
             "We tested three type checkers on a large codebase. Five tips to make your CI "
             "pipeline cache builds.\n\n" + LONG_FOOTER.format(domain="devtools.example"),
        headers={"List-Id": "<weekly.devtools.example>",
                 "List-Unsubscribe": "<https://devtools.example/unsubscribe>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return [read_campaign("spring-sale.eml", sale), read_campaign("devtools.eml", newsletter)]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory) -> Path:
    """The HTML report of two variants to the built-in audience (18 segments), 3 sends."""
    embedder, audience = HashEmbedder(), default_audience()
    segments = [Segment.build(p, embedder, PolicySettings()) for p in audience.personas]
    data = simulate(two_campaigns(), audience, embedder, recipients=3000, sends=3,
                    segments=segments).to_dict()
    page = tmp_path_factory.mktemp("report") / "report.html"
    page.write_text(html_report(data), encoding="utf-8")
    return page


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


def test_the_report_fits_1280_px_and_two_variants_stay_under_4000_px(report_page, tmp_path):
    measured_page = tmp_path / "measured.html"
    measured_page.write_text(report_page.read_text().replace("</body>", MEASURE + "</body>"))
    dom = run_chromium(tmp_path, f"--window-size={VIEWPORT_WIDTH},900", "--dump-dom",
                       measured_page.as_uri()).stdout
    width, height = map(int, re.search(r'data-measured="(\d+)x(\d+)"', dom).groups())
    assert width <= VIEWPORT_WIDTH, f"the page is {width} px wide: it overflows"
    assert 1000 < height < MAX_HEIGHT, f"the page is {height} px tall"

    screenshot = tmp_path / "report.png"
    run_chromium(tmp_path, f"--window-size={VIEWPORT_WIDTH},{height}",
                 f"--screenshot={screenshot}", report_page.as_uri())
    assert png_size(screenshot) == (VIEWPORT_WIDTH, height)
    assert screenshot.stat().st_size > 20_000  # text and charts, not a blank page


def test_the_report_reads_answer_first(report_page):
    text = re.sub(r"<[^>]+>", " ", report_page.read_text())
    first = text.index("expected in the inbox")
    assert first < text.index("Main risk") < text.index("What would help most") \
        < text.index("software developer")
    assert "log-odds" not in text and "unsubscribe?id=" not in text.split("severity")[0]
