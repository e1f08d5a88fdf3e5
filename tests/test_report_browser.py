"""The HTML report in a real headless Chromium: no console errors, no network, DAG pictures drawn.

Chromium runs from its command line; without it these tests skip, saying how to install it
(tests/prerequisites.py), and ``.ci/run`` installs Debian's ``chromium`` and requires them. A
probe copy of the page gets a script appended that writes what the browser measured into the
DOM, which ``--dump-dom`` hands back; the page under test itself carries no script.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from itertools import pairwise
from pathlib import Path

import prerequisites
import pytest
from PIL import Image, ImageChops

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


# --- issue 20: the DAG layout, measured in the browser and kept as reviewed screenshots -----------

SNAPSHOTS = ROOT / "tests" / "snapshots" / "report"
UPDATE = os.environ.get("TRANSPILE_UPDATE_SNAPSHOTS") == "1"
LAYOUT_CASES = [
    ("nested_foreach", "fixtures/nested_foreach/metaflow.py", "flyte"),
    ("switch_route", "fixtures/switch_route/metaflow.py", "kfp"),
    ("kfp_if_else", "fixtures/kfp_if_else/kfp.py", "metaflow"),
]
DAG_WINDOW = (1400, 1000)
ONLY_PICTURES = (  # the page as it is, with every section but the pictures and legend hidden
    "<style>body > *:not(.dags):not(.legend) { display: none !important; }</style></head>"
)
LAYOUT_PROBE = """<script>
const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
const colour = value => value && value !== "none" ? value : null;
const pictures = [...document.querySelectorAll("svg.dag")].map(svg => {
  const paint = new Set();
  for (const el of svg.querySelectorAll("rect, path, text")) {
    const style = getComputedStyle(el);
    for (const c of [colour(style.fill), colour(style.stroke)]) if (c) paint.add(c);
  }
  return {
    nodes: [...svg.querySelectorAll("g.node")].map(g => ({
      step: g.dataset.step,
      rect: box(g.querySelector("rect").getBoundingClientRect()),
      text: box(g.querySelector("text").getBoundingClientRect()),
    })),
    boxes: [...svg.querySelectorAll("g.box")].map(g => ({
      rect: box(g.querySelector("rect").getBoundingClientRect()),
      title: box(g.querySelector("text").getBoundingClientRect()),
    })),
    labels: [...svg.querySelectorAll("text.case")].map(t => box(t.getBoundingClientRect())),
    edges: [...svg.querySelectorAll("g.edge path")].map(p => {
      const length = p.getTotalLength(), ctm = p.getScreenCTM(), points = [];
      for (let i = 0; i <= 80; i++) {
        const at = p.getPointAtLength(length * i / 80);
        const on = new DOMPoint(at.x, at.y).matrixTransform(ctm);
        points.push([on.x, on.y]);
      }
      return points;
    }),
    paint: [...paint],
  };
});
const legend = [...document.querySelectorAll(".legend li")].map(li => li.dataset.colours);
const out = document.createElement("pre");
out.id = "probe";
out.textContent = JSON.stringify({pictures, legend});
document.body.appendChild(out);
</script>"""


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def within(point, rect, by: float = 0.0) -> bool:
    x, y = point
    return rect["left"] + by < x < rect["right"] - by and rect["top"] + by < y < rect["bottom"] - by


def overlap(a, b) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


@pytest.fixture(scope="module")
def layout_pages(tmp_path_factory, monkeypatch_module) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layout")
    pages = {}
    for name, source, target in LAYOUT_CASES:
        html = render(build_report(source, target), "html").replace("</head>", ONLY_PICTURES, 1)
        pages[name] = folder / f"{name}.html"
        pages[name].write_text(html, encoding="utf-8")
    return pages


@pytest.mark.parametrize("name", [case[0] for case in LAYOUT_CASES])
def test_dag_layout_as_the_browser_draws_it(name, layout_pages, tmp_path):
    """Measured in Chromium with its real fonts: no edge through a box title, step names inside
    their steps, titles inside their boxes, case labels clear of each other and of the steps,
    arrowheads into one step apart, and every colour painted named in the legend."""
    page = layout_pages[name]
    probe = page.with_name(f"{name}.probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", LAYOUT_PROBE + "</body>"))
    result = browse(
        probe, tmp_path / "profile", "--dump-dom", f"--window-size={DAG_WINDOW[0]},{DAG_WINDOW[1]}"
    )
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found, result.stderr[-2000:]
    measured = json.loads(html.unescape(found.group(1)))
    legend = {rgb(c) for entry in measured["legend"] for c in entry.split()}
    page_colours = {"rgb(0, 0, 0)", "rgb(255, 255, 255)"}  # text and the page behind it
    assert len(measured["pictures"]) == 2
    for drawn in measured["pictures"]:
        assert set(drawn["paint"]) - page_colours <= legend, drawn["paint"]
        for node in drawn["nodes"]:
            assert node["text"]["left"] >= node["rect"]["left"] + 2, node
            assert node["text"]["right"] <= node["rect"]["right"] - 2, node
        for box in drawn["boxes"]:
            assert box["title"]["right"] <= box["rect"]["right"] - 2, box
            for points in drawn["edges"]:
                assert not any(within(p, box["title"], 1) for p in points), (box, points)
        labels = drawn["labels"]
        for i, label in enumerate(labels):
            assert not any(overlap(label, other) for other in labels[i + 1 :]), labels
            assert not any(overlap(label, node["rect"]) for node in drawn["nodes"]), label
        tips: dict[tuple[int, int], list[float]] = {}
        for points in drawn["edges"]:
            x, y = points[-1]
            tips.setdefault(round(y), []).append(x)
        for xs in tips.values():
            xs.sort()
            # arrowheads (9 px in the picture) side by side, the picture maybe scaled to fit
            assert all(b - a >= 9 for a, b in pairwise(xs)), xs


@pytest.mark.parametrize("name", [case[0] for case in LAYOUT_CASES])
def test_dag_screenshot_matches_its_reviewed_snapshot(name, layout_pages, tmp_path):
    """The pictures and their legend as Chromium paints them, cropped to what is drawn; a
    reviewed copy is kept in tests/snapshots/report (TRANSPILE_UPDATE_SNAPSHOTS=1 rewrites it)."""
    shot = tmp_path / f"{name}.png"
    size = f"--window-size={DAG_WINDOW[0]},{DAG_WINDOW[1]}"
    result = browse(layout_pages[name], tmp_path / "profile", f"--screenshot={shot}", size)
    assert shot.is_file(), result.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    drawn = ImageChops.difference(image, Image.new("RGB", image.size, "white")).getbbox()
    assert drawn, "the screenshot is blank"
    image = image.crop(drawn)
    assert image.height < DAG_WINDOW[1] - 20, "the pictures do not fit the window"
    snapshot = SNAPSHOTS / f"{name}.dag.png"
    if UPDATE:
        image.save(snapshot, optimize=True)
    reviewed = Image.open(snapshot).convert("RGB")
    assert image.size == reviewed.size
    changed = ImageChops.difference(image, reviewed).convert("L").point(lambda v: 255 * (v > 48))
    fraction = changed.histogram()[255] / (image.width * image.height)
    assert fraction < 0.03, f"{fraction:.1%} of the pixels differ from {snapshot}"
