"""The HTML report in a real headless Chromium: no console errors, no network, DAG pictures drawn.

Chromium runs from its command line; without it these tests skip, saying how to install it
(tests/prerequisites.py), and ``.ci/run`` installs Debian's ``chromium`` and requires them. A
probe copy of the page gets a script appended that writes what the browser measured into the
DOM, which ``--dump-dom`` hands back; the page under test itself carries no script.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import prerequisites
import pytest
from PIL import Image

from transpile.report import build_report, render

pytestmark = pytest.mark.requires("chromium")

ROOT = Path(__file__).parents[1]
WINDOW = (1400, 1600)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # any fetch would fail, and say so on the console
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
]
PROBE = """<script>
const boxes = [...document.querySelectorAll("svg.dag")].map(svg => {
  const r = svg.getBoundingClientRect();
  const nodes = [...svg.querySelectorAll("g.node")].map(g => {
    const b = g.getBBox();
    return {step: g.dataset.step, width: b.width, height: b.height};
  });
  return {x: r.x, y: r.y, width: r.width, height: r.height, nodes};
});
const resources = performance.getEntriesByType("resource").map(e => e.name);
const out = document.createElement("pre");
out.id = "probe";
out.textContent = JSON.stringify({boxes, resources});
document.body.appendChild(out);
</script>"""


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [prerequisites.chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def console_messages(stderr: str) -> list[str]:
    """What the page wrote to the console or failed to load (Chromium logs it as CONSOLE)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def page(tmp_path_factory, monkeypatch_module) -> Path:
    folder = tmp_path_factory.mktemp("report")
    report = build_report("fixtures/foreach_sum/metaflow.py", "kfp")
    path = folder / "report.html"
    path.write_text(render(report, "html"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        yield patch


def test_console_check_can_fail(tmp_path):
    """A page that logs an error and fetches from the network is caught by the same checks."""
    bad = tmp_path / "bad.html"
    bad.write_text('<img src="http://example.invalid/x.png"><script>console.error("boom")</script>')
    result = browse(bad, tmp_path / "profile", "--dump-dom")
    assert any("boom" in line for line in console_messages(result.stderr)), result.stderr


def test_page_loads_nothing_and_logs_nothing(page, tmp_path):
    result = browse(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "<svg" in result.stdout
    assert console_messages(result.stderr) == []


def test_dag_pictures_have_size_and_every_step(page, tmp_path):
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    result = browse(probe, tmp_path / "profile", "--dump-dom")
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, result.stderr[-2000:]
    measured = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert measured["resources"] == []
    assert len(measured["boxes"]) == 2  # before and after
    for box in measured["boxes"]:
        assert box["width"] > 100 and box["height"] > 100
        assert [n["step"] for n in box["nodes"]] == ["start", "square", "join", "end"]
        assert all(n["width"] > 50 and n["height"] > 20 for n in box["nodes"])


def test_screenshot_shows_the_pictures(page, tmp_path):
    shot = tmp_path / "report.png"
    result = browse(page, tmp_path / "profile", f"--screenshot={shot}")
    assert shot.is_file(), result.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == WINDOW
    colours = image.getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 50, "the screenshot is blank"
    node_fill = (0xE8, 0xF0, 0xFE)  # svg.py's step colour: only the DAG pictures use it
    assert sum(count for count, rgb in colours if rgb == node_fill) > 5000
