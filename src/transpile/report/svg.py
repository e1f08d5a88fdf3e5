"""A pipeline picture as inline SVG, laid out in layers (no library, nothing fetched).

A small Sugiyama layout, enough for the shapes pipelines have (chains, fans, switches, nested
foreach bodies):

- layers are longest paths from the first steps, so every edge points down; an edge that skips
  layers gets a waypoint in each layer it crosses, so it goes around the steps there, not
  through them;
- within a layer, steps and waypoints are ordered by the mean position of their neighbours
  (down, up, down sweeps), keeping the members of a foreach box together so boxes do not
  interleave;
- each step sits under the mean of its predecessors where the room allows;
- edges leave and reach a step at ports spread along its border, one per edge, and end in a
  vertical curve: arrowheads reaching one step stand side by side instead of merging;
- a box's title goes where no edge crosses its title band (the box widens when it must);
- a switch case's label sits just above the step it leads to (above the box when the step
  opens one), where the steps of a layer leave room for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from itertools import pairwise

from .picture import Box, Picture

NODE_HEIGHT, LAYER_GAP, NODE_GAP, MARGIN = 36, 92, 28, 24
CHAR_WIDTH, TITLE_CHAR_WIDTH, EDGE_CHAR_WIDTH = 7.8, 7.2, 6.6  # sans-serif at 13, 12, 11 px
BOX_PAD, TITLE_HEIGHT, PORT_GAP, WAYPOINT_WIDTH = 12, 18, 16, 12
FONT = "DejaVu Sans, Verdana, sans-serif"

STEP_FILL, JOIN_FILL, STEP_STROKE = "#e8f0fe", "#fff4e0", "#4a6fa5"
BOX_FILL, BOX_STROKE, BOX_TEXT = "#f3f6fb", "#8aa4c8", "#3b5578"
EDGE, EDGE_TEXT, HALO = "#555555", "#333333", "#ffffff"


@dataclass(frozen=True)
class Placed:
    x: float  # centre
    y: float  # top
    width: float


@dataclass
class Drawing:
    """Where everything goes: steps, edge routes (points, top to bottom), boxes and titles."""

    nodes: dict[str, Placed]
    routes: list[list[tuple[float, float]]]  # one per chart edge
    boxes: list[tuple[Box, tuple[float, float, float, float], float]] = field(default_factory=list)
    labels: list[tuple[float, float, str]] = field(default_factory=list)  # x (centre), baseline


def layers(chart: Picture) -> dict[str, int]:
    """Step → layer: one more than the deepest predecessor (cycles cut at flow order)."""
    order = [s for s, _, _ in chart.nodes]
    depth = {s: 0 for s in order}
    for _ in order:  # relax; at most len(order) rounds for a DAG
        changed = False
        for source, target, _ in chart.edges:
            if order.index(source) < order.index(target) and depth[target] <= depth[source]:
                depth[target], changed = depth[source] + 1, True
        if not changed:
            break
    return depth


def layout(chart: Picture) -> dict[str, Placed]:
    """Where each step's box goes."""
    return draw(chart).nodes


def draw(chart: Picture) -> Drawing:
    graph = _Graph(chart)
    placed = graph.place()
    routes = [graph.route(i, placed) for i in range(len(chart.edges))]
    drawing = Drawing({s: placed[s] for s, _, _ in chart.nodes}, routes)
    drawing.boxes = _boxes(chart, graph, placed, routes)
    drawing.labels = _labels(chart, drawing)
    return drawing


class _Graph:
    """The chart with a waypoint wherever an edge crosses a layer, ordered and placed."""

    def __init__(self, chart: Picture):
        self.chart = chart
        depth = layers(chart)
        self.rank = dict(depth)
        self.paths = _box_paths(chart)
        self.chains: list[list[str]] = []
        for i, (source, target, _) in enumerate(chart.edges):
            chain = [source]
            for level in range(depth[source] + 1, depth[target]):
                point = f"\0{i}.{level}"
                self.rank[point] = level
                self.paths[point] = _common(self.paths[source], self.paths[target])
                chain.append(point)
            self.chains.append([*chain, target])
        self.preds: dict[str, list[str]] = {n: [] for n in self.rank}
        self.succs: dict[str, list[str]] = {n: [] for n in self.rank}
        for chain in self.chains:
            for a, b in pairwise(chain):
                if self.rank[b] > self.rank[a]:
                    self.preds[b].append(a)
                    self.succs[a].append(b)
        self.width = {n: WAYPOINT_WIDTH for n in self.rank}
        self.slot = dict(self.width)
        for step, label, _ in chart.nodes:
            arrows = max(len(self.preds[step]), len(self.succs[step]), 1)
            self.width[step] = max(90.0, CHAR_WIDTH * len(label) + 28, PORT_GAP * arrows + 16)
            self.slot[step] = self.width[step]
        for (_, target, label), _chain in zip(chart.edges, self.chains, strict=True):
            if label and not label.startswith("foreach"):
                self.slot[target] = max(self.slot[target], EDGE_CHAR_WIDTH * len(label) + 12)

    def rows(self) -> list[list[str]]:
        """Each layer's nodes, ordered to keep edges short and uncrossed."""
        rows: dict[int, list[str]] = {}
        for node in self.rank:  # steps in flow order, then the waypoints edge by edge
            rows.setdefault(self.rank[node], []).append(node)
        ordered = [rows[level] for level in sorted(rows)]
        for down in (True, False, True):
            sweep = range(1, len(ordered)) if down else range(len(ordered) - 2, -1, -1)
            for level in sweep:
                near = ordered[level - 1] if down else ordered[level + 1]
                where = {n: i for i, n in enumerate(near)}
                links = self.preds if down else self.succs
                row = ordered[level]
                key = {}
                for i, n in enumerate(row):
                    xs = [where[m] for m in links[n] if m in where]
                    key[n] = sum(xs) / len(xs) if xs else _spread(i, row, near)
                ordered[level] = self._grouped(row, key, 0)
        return ordered

    def _grouped(self, row: list[str], key: dict[str, float], level: int) -> list[str]:
        """``row`` by ``key``, the members of each box kept together (a box at the mean key of
        its members), recursively for the boxes inside it."""
        items: list[tuple[float, int, list[str]]] = []
        groups: dict[int, list[str]] = {}
        for i, node in enumerate(row):
            path = self.paths[node]
            if len(path) <= level:
                items.append((key[node], i, [node]))
            else:
                groups.setdefault(path[level], []).append(node)
        for members in groups.values():
            mean = sum(key[m] for m in members) / len(members)
            items.append((mean, row.index(members[0]), self._grouped(members, key, level + 1)))
        items.sort(key=lambda item: (item[0], item[1]))
        return [node for _, _, nodes in items for node in nodes]

    def gap(self, a: str, b: str) -> float:
        """Room between neighbours ``a`` and ``b``: more when a box border runs between them."""
        pa, pb = self.paths[a], self.paths[b]
        borders = len(pa) + len(pb) - 2 * len(_common(pa, pb))
        base = NODE_GAP if not (a.startswith("\0") and b.startswith("\0")) else 10
        return base + (BOX_PAD + 6) * borders

    def place(self) -> dict[str, Placed]:
        placed: dict[str, Placed] = {}
        for level, row in enumerate(self.rows()):
            wanted: list[float | None] = []
            for node in row:
                xs = [placed[p].x for p in self.preds[node] if p in placed]
                wanted.append(sum(xs) / len(xs) if xs else None)
            xs = self._packed(row, wanted)
            y = level * (NODE_HEIGHT + LAYER_GAP)
            for node, x in zip(row, xs, strict=True):
                placed[node] = Placed(x, y, self.width[node])
        return placed

    def _packed(self, row: list[str], wanted: list[float | None]) -> list[float]:
        """Centres in ``row`` order, at least a slot apart, as near their wanted places as can
        be (least squares: isotonic regression by pooling adjacent violators). A node that wants
        no place (no predecessor) weighs almost nothing and is just kept in line."""
        offsets = [0.0]
        for a, b in pairwise(row):
            offsets.append(offsets[-1] + self._apart(a, b))
        known = [w for w in wanted if w is not None]
        centre = sum(known) / len(known) if known else offsets[-1] / 2
        blocks: list[list[float]] = []  # [weighted sum, weight, count]
        for offset, goal in zip(offsets, wanted, strict=True):
            weight = 1.0 if goal is not None else 1e-3
            target = (goal if goal is not None else centre) - offset
            blocks.append([target * weight, weight, 1])
            while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
                total, weight, count = blocks.pop()
                blocks[-1] = [blocks[-1][0] + total, blocks[-1][1] + weight, blocks[-1][2] + count]
        values = [total / weight for total, weight, count in blocks for _ in range(int(count))]
        return [value + offset for value, offset in zip(values, offsets, strict=True)]

    def _apart(self, a: str, b: str) -> float:
        return (self.slot[a] + self.slot[b]) / 2 + self.gap(a, b)

    def route(self, index: int, placed: dict[str, Placed]) -> list[tuple[float, float]]:
        """The points edge ``index`` goes through: its source's port, each waypoint (top and
        bottom of its layer), its target's port."""
        chain = self.chains[index]
        source, target = chain[0], chain[-1]
        start = (self._port(source, chain[1], placed, out=True), placed[source].y + NODE_HEIGHT)
        points = [start]
        for point in chain[1:-1]:
            at = placed[point]
            points += [(at.x, at.y), (at.x, at.y + NODE_HEIGHT)]
        points.append((self._port(target, chain[-2], placed, out=False), placed[target].y))
        return points

    def _port(self, node: str, other: str, placed: dict[str, Placed], out: bool) -> float:
        """Where on ``node``'s bottom (``out``) or top border the edge to ``other`` attaches:
        ports spread evenly, in the order of the nodes at their other ends."""
        ends = sorted(self.succs[node] if out else self.preds[node], key=lambda n: placed[n].x)
        at = placed[node]
        if len(ends) <= 1 or other not in ends:
            return at.x
        step = min(PORT_GAP * 1.25, (at.width - 20) / (len(ends) - 1))
        first = at.x - step * (len(ends) - 1) / 2
        return first + step * ends.index(other)


def _box_paths(chart: Picture) -> dict[str, tuple[int, ...]]:
    """Step → the boxes holding it, outermost first (as indexes of ``chart.boxes``)."""
    paths = {}
    for step, _, _ in chart.nodes:
        holding = [i for i, b in enumerate(chart.boxes) if step in b.members]
        paths[step] = tuple(sorted(holding, key=lambda i: -len(chart.boxes[i].members)))
    return paths


def _common(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _spread(i: int, row: list[str], near: list[str]) -> float:
    """A node with no neighbour in the layer swept from keeps its relative place."""
    return i * max(len(near), 1) / max(len(row), 1)


# --- boxes, labels -----------------------------------------------------------------------------


def _boxes(chart: Picture, graph: _Graph, placed: dict[str, Placed], routes):
    """Each box's rectangle and title position, innermost first so an outer box holds the boxes
    inside it; a title moves right of the edges crossing its band, widening its box if need be."""
    rects: dict[int, tuple[float, float, float, float]] = {}
    titles: dict[int, float] = {}
    order = sorted(range(len(chart.boxes)), key=lambda i: len(chart.boxes[i].members))
    for i in order:
        box = chart.boxes[i]
        inside = [placed[n] for n, path in graph.paths.items() if i in path and n in placed]
        inner = [rects[j] for j in rects if set(chart.boxes[j].members) < set(box.members)]
        # the case labels of edges inside the box, centred on the port they lead to
        spans = [
            (route[-1][0] - half, route[-1][0] + half)
            for (source, target, label), route in zip(chart.edges, routes, strict=True)
            if source in box.members and target in box.members and not label.startswith("for")
            for half in [EDGE_CHAR_WIDTH * len(label) / 2 + 2]
            if label
        ]
        lows = [p.x - p.width / 2 for p in inside] + [r[0] for r in inner]
        highs = [p.x + p.width / 2 for p in inside] + [r[2] for r in inner]
        left = min(lows + [low for low, _ in spans]) - BOX_PAD
        right = max(highs + [high for _, high in spans]) + BOX_PAD
        top = min([p.y for p in inside] + [r[1] for r in inner]) - BOX_PAD - TITLE_HEIGHT
        bottom = max([p.y + NODE_HEIGHT for p in inside] + [r[3] for r in inner]) + BOX_PAD
        width = TITLE_CHAR_WIDTH * len(box.label)
        crossings = [c for r in routes for c in _crossing(r, top, top + TITLE_HEIGHT)]
        x = _free(left + 8, width, crossings)
        rects[i] = (left, top, max(right, x + width + 8), bottom)
        titles[i] = x
    return [(box, rects[i], titles[i]) for i, box in enumerate(chart.boxes)]


def _free(start: float, width: float, crossings: list[tuple[float, float]]) -> float:
    """The first x from ``start`` where ``width`` fits clear of every crossing (6px apart)."""
    x = start
    for low, high in sorted(crossings):
        if high + 6 <= x:
            continue
        if x + width + 6 <= low:
            break
        x = max(x, high + 6)
    return x


def _crossing(route: list[tuple[float, float]], y0: float, y1: float) -> list[tuple[float, float]]:
    """The x range ``route`` covers between heights ``y0`` and ``y1`` (empty when it misses)."""
    xs = [x for x, y in samples(route) if y0 - 1 <= y <= y1 + 1]
    return [(min(xs), max(xs))] if xs else []


def samples(route: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points along ``route`` as drawn (25 per segment), for measuring what it crosses."""
    points = []
    for (x0, y0), (x1, y1) in pairwise(route):
        for k in range(25):
            t = k / 24
            if x0 == x1 or y0 == y1:
                points.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
            else:  # the cubic of _path: vertical at both ends
                u = 1 - t
                x = u**3 * x0 + 3 * u * u * t * x0 + 3 * u * t * t * x1 + t**3 * x1
                points.append((x, y0 + (y1 - y0) * (3 * u * t * t + t**3)))
    return points


def _labels(chart: Picture, drawing: Drawing) -> list[tuple[float, float, str]]:
    """Each case label just above the step it leads to, or above the boxes that step opens."""
    found = []
    for (source, target, label), route in zip(chart.edges, drawing.routes, strict=True):
        if not label or label.startswith("foreach"):
            continue
        x, y = route[-1]
        opened = [
            rect[1]
            for box, rect, _ in drawing.boxes
            if target in box.members and source not in box.members
        ]
        found.append((x, min([y, *opened]) - 13, label))
    return found


# --- SVG ---------------------------------------------------------------------------------------


def render(chart: Picture, title: str) -> str:
    """An inline ``<svg>`` element drawing ``chart``; every text escaped."""
    drawing = draw(chart)
    parts = [_frame(drawing), f"<title>{escape(title)}</title>", _ARROW]
    parts += [_box_svg(box, rect, x) for box, rect, x in drawing.boxes]
    parts += [_edge_svg(route) for route in drawing.routes]
    parts += [_label_svg(x, y, label) for x, y, label in drawing.labels]
    parts += [
        _node_svg(step, label, join, drawing.nodes[step]) for step, label, join in chart.nodes
    ]
    parts.append("</svg>")
    return "\n".join(parts)


def _frame(drawing: Drawing) -> str:
    """The opening ``<svg>`` tag, sized to hold every step, box, edge and label with a margin."""
    xs, ys = [0.0], [0.0]
    for p in drawing.nodes.values():
        xs += [p.x - p.width / 2, p.x + p.width / 2]
        ys += [p.y, p.y + NODE_HEIGHT]
    for _, (left, top, right, bottom), _ in drawing.boxes:
        xs += [left, right]
        ys += [top, bottom]
    for route in drawing.routes:
        xs += [x for x, _ in route]
    for x, y, label in drawing.labels:
        half = EDGE_CHAR_WIDTH * len(label) / 2 + 4
        xs += [x - half, x + half]
        ys += [y - 12]
    x0, y0 = min(xs) - MARGIN, min(ys) - MARGIN
    width, height = max(xs) - min(xs) + 2 * MARGIN, max(ys) - min(ys) + 2 * MARGIN
    size = f'width="{width:.0f}" height="{height:.0f}"'
    return (
        f'<svg class="dag" role="img" {size} viewBox="{x0:.0f} {y0:.0f} {width:.0f} {height:.0f}">'
    )


_ARROW = (
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" '
    'markerWidth="9" markerHeight="9" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" '
    f'fill="{EDGE}"/></marker></defs>'
)


def _box_svg(box: Box, rect: tuple[float, ...], title_x: float) -> str:
    left, top, right, bottom = rect
    return (
        f'<g class="box"><rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
        f'height="{bottom - top:.1f}" rx="8" fill="{BOX_FILL}" stroke="{BOX_STROKE}" '
        f'stroke-dasharray="5 4"/><text x="{title_x:.1f}" y="{top + 14:.1f}" '
        f'font-size="12" font-family="{FONT}" fill="{BOX_TEXT}">{escape(box.label)}</text></g>'
    )


def _path(route: list[tuple[float, float]]) -> str:
    """Straight through a waypoint's layer, a cubic (vertical at both ends) between layers."""
    x, y = route[0]
    parts = [f"M {x:.1f} {y:.1f}"]
    for (x0, y0), (x1, y1) in pairwise(route):
        if x0 == x1 or y0 == y1:
            parts.append(f"L {x1:.1f} {y1:.1f}")
        else:
            middle = (y0 + y1) / 2
            parts.append(f"C {x0:.1f} {middle:.1f} {x1:.1f} {middle:.1f} {x1:.1f} {y1:.1f}")
    return " ".join(parts)


def _edge_svg(route: list[tuple[float, float]]) -> str:
    return (
        f'<g class="edge"><path d="{_path(route)}" fill="none" stroke="{EDGE}" '
        f'stroke-width="1.5" marker-end="url(#arrow)"/></g>'
    )


def _label_svg(x: float, y: float, label: str) -> str:
    return (
        f'<text class="case" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-size="11" '
        f'font-family="{FONT}" fill="{EDGE_TEXT}" stroke="{HALO}" stroke-width="3" '
        f'paint-order="stroke">{escape(label)}</text>'
    )


def _node_svg(step: str, label: str, join: bool, at: Placed) -> str:
    fill = JOIN_FILL if join else STEP_FILL
    return (
        f'<g class="node" data-step="{escape(step)}"><rect x="{at.x - at.width / 2:.1f}" '
        f'y="{at.y:.1f}" width="{at.width:.1f}" height="{NODE_HEIGHT}" rx="6" fill="{fill}" '
        f'stroke="{STEP_STROKE}"/><text x="{at.x:.1f}" y="{at.y + 23:.1f}" text-anchor="middle" '
        f'font-size="13" font-family="{FONT}">{escape(label)}</text></g>'
    )


# --- legend ------------------------------------------------------------------------------------

LEGEND = (
    ("step", "a step (task)", (STEP_FILL, STEP_STROKE)),
    ("join", "a join: a step that gathers branches or foreach results", (JOIN_FILL, STEP_STROKE)),
    (
        "box",
        "a foreach body, run once per element (titled with what it became)",
        (BOX_FILL, BOX_STROKE, BOX_TEXT),
    ),
    ("edge", "runs after", (EDGE,)),
    ("case", "a switch case: runs when its condition holds", (EDGE_TEXT,)),
)


def legend(charts: list[Picture]) -> str:
    """An HTML list naming each colour the pictures of ``charts`` use, with a swatch."""
    used = {"step", "edge"}
    for chart in charts:
        if any(join for _, _, join in chart.nodes):
            used.add("join")
        if chart.boxes:
            used.add("box")
        if any(label and not label.startswith("foreach") for _, _, label in chart.edges):
            used.add("case")
    items = [
        f'<li data-colours="{" ".join(colours)}">{_swatch(key)} {escape(text)}</li>'
        for key, text, colours in LEGEND
        if key in used
    ]
    return '<ul class="legend">\n' + "\n".join(items) + "\n</ul>"


def _swatch(key: str) -> str:
    shape = {
        "step": f'<rect x="1" y="3" width="34" height="16" rx="4" fill="{STEP_FILL}" '
        f'stroke="{STEP_STROKE}"/>',
        "join": f'<rect x="1" y="3" width="34" height="16" rx="4" fill="{JOIN_FILL}" '
        f'stroke="{STEP_STROKE}"/>',
        "box": f'<rect x="1" y="1" width="34" height="20" rx="4" fill="{BOX_FILL}" '
        f'stroke="{BOX_STROKE}" stroke-dasharray="5 4"/><text x="4" y="10" font-size="8" '
        f'font-family="{FONT}" fill="{BOX_TEXT}">over</text>',
        "edge": f'<path d="M 2 11 L 26 11" stroke="{EDGE}" stroke-width="1.5"/>'
        f'<path d="M 26 6.5 L 35 11 L 26 15.5 z" fill="{EDGE}"/>',
        "case": f'<text x="18" y="15" text-anchor="middle" font-size="11" font-family="{FONT}" '
        f'fill="{EDGE_TEXT}">x == 1</text>',
    }[key]
    return f'<svg class="swatch" width="36" height="22" viewBox="0 0 36 22">{shape}</svg>'
