"""A pipeline picture as inline SVG, laid out in layers (no library, nothing fetched).

Layers are longest paths from the first steps, so every edge points down; within a layer steps
keep flow order, then move towards the mean position of their predecessors (one barycenter
sweep), which is enough for the shapes pipelines have: chains, fans and foreach bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from .picture import Box, Picture

NODE_HEIGHT, LAYER_GAP, NODE_GAP, MARGIN = 36, 92, 28, 24
CHAR_WIDTH, LABEL_CHAR_WIDTH, BOX_PAD = 7.5, 6.6, 12


@dataclass(frozen=True)
class Placed:
    x: float  # centre
    y: float  # top
    width: float


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
    depth = layers(chart)
    widths = {s: max(90.0, CHAR_WIDTH * len(label) + 28) for s, label, _ in chart.nodes}
    rows: dict[int, list[str]] = {}
    for step, _, _ in chart.nodes:
        rows.setdefault(depth[step], []).append(step)
    placed: dict[str, Placed] = {}
    for level in sorted(rows):
        row = _by_barycenter(rows[level], chart, placed)
        total = sum(widths[s] for s in row) + NODE_GAP * (len(row) - 1)
        x = -total / 2
        for step in row:
            placed[step] = Placed(
                x + widths[step] / 2, level * (NODE_HEIGHT + LAYER_GAP), widths[step]
            )
            x += widths[step] + NODE_GAP
    return placed


def _by_barycenter(row: list[str], chart: Picture, placed: dict[str, Placed]) -> list[str]:
    def centre(step: str) -> float:
        xs = [placed[s].x for s, t, _ in chart.edges if t == step and s in placed]
        return sum(xs) / len(xs) if xs else 0.0

    return sorted(row, key=lambda s: (centre(s), row.index(s)))


def render(chart: Picture, title: str) -> str:
    """An inline ``<svg>`` element drawing ``chart``; every text escaped."""
    placed = layout(chart)
    boxes = _box_rects(chart, placed)
    parts = [_frame(placed, [rect for _, rect in boxes]), f"<title>{escape(title)}</title>", _ARROW]
    parts += [_box_svg(box, rect) for box, rect in boxes]
    parts += [_edge_svg(placed[s], placed[t], label) for s, t, label in chart.edges]
    parts += [_node_svg(step, label, join, placed[step]) for step, label, join in chart.nodes]
    parts.append("</svg>")
    return "\n".join(parts)


def _frame(placed: dict[str, Placed], rects: list[tuple[float, ...]]) -> str:
    """The opening ``<svg>`` tag, sized to hold every step and box with a margin."""
    left = min([p.x - p.width / 2 for p in placed.values()] + [r[0] for r in rects] or [0])
    right = max([p.x + p.width / 2 for p in placed.values()] + [r[2] for r in rects] or [0])
    bottom = max([p.y + NODE_HEIGHT for p in placed.values()] + [r[3] for r in rects] or [0])
    top = min([0.0] + [r[1] for r in rects])
    x0, y0 = left - MARGIN, top - MARGIN
    width, height = right - left + 2 * MARGIN, bottom - top + 2 * MARGIN
    size = f'width="{width:.0f}" height="{height:.0f}"'
    return (
        f'<svg class="dag" role="img" {size} viewBox="{x0:.0f} {y0:.0f} {width:.0f} {height:.0f}">'
    )


_ARROW = (
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
    'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
    'fill="#555"/></marker></defs>'
)


def _box_rects(chart: Picture, placed: dict[str, Placed]) -> list[tuple[Box, tuple[float, ...]]]:
    """Each box's rectangle, innermost first so an outer box can hold the boxes inside it."""
    rects: dict[Box, tuple[float, ...]] = {}
    for box in sorted(chart.boxes, key=lambda b: len(b.members)):
        inner = [r for b, r in rects.items() if set(b.members) < set(box.members)]
        rects[box] = _box_rect(box, [placed[m] for m in box.members if m in placed], inner)
    return [(box, rects[box]) for box in chart.boxes]


def _box_rect(box: Box, members: list[Placed], inner: list[tuple[float, ...]]) -> tuple[float, ...]:
    """(left, top, right, bottom) around the box's steps and the boxes inside it, label included."""
    left = min([p.x - p.width / 2 for p in members] + [r[0] for r in inner]) - BOX_PAD
    right = max([p.x + p.width / 2 for p in members] + [r[2] for r in inner]) + BOX_PAD
    top = min([p.y for p in members] + [r[1] for r in inner]) - BOX_PAD - 16  # the label's room
    bottom = max([p.y + NODE_HEIGHT for p in members] + [r[3] for r in inner]) + BOX_PAD
    right = max(right, left + LABEL_CHAR_WIDTH * len(box.label) + 16)
    return (left, top, right, bottom)


def _box_svg(box: Box, rect: tuple[float, ...]) -> str:
    left, top, right, bottom = rect
    return (
        f'<g class="box"><rect x="{left:.1f}" y="{top:.1f}" width="{right - left:.1f}" '
        f'height="{bottom - top:.1f}" rx="8" fill="#f3f6fb" stroke="#8aa4c8" '
        f'stroke-dasharray="5 4"/><text x="{left + 8:.1f}" y="{top + 14:.1f}" '
        f'font-size="12" fill="#3b5578" stroke="#f3f6fb" stroke-width="4" paint-order="stroke">'
        f"{escape(box.label)}</text></g>"
    )


def _edge_svg(source: Placed, target: Placed, label: str) -> str:
    x1, y1, x2, y2 = source.x, source.y + NODE_HEIGHT, target.x, target.y
    line = (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
        f'stroke-width="1.5" marker-end="url(#arrow)"/>'
    )
    if not label or label.startswith("foreach"):  # a foreach is named by its box
        return f'<g class="edge">{line}</g>'
    text = (
        f'<text x="{(x1 + x2) / 2 + 6:.1f}" y="{(y1 + y2) / 2 + 4:.1f}" font-size="11" '
        f'fill="#333" stroke="#fff" stroke-width="3" paint-order="stroke">{escape(label)}</text>'
    )
    return f'<g class="edge">{line}{text}</g>'


def _node_svg(step: str, label: str, join: bool, at: Placed) -> str:
    fill = "#fff4e0" if join else "#e8f0fe"
    return (
        f'<g class="node" data-step="{escape(step)}"><rect x="{at.x - at.width / 2:.1f}" '
        f'y="{at.y:.1f}" width="{at.width:.1f}" height="{NODE_HEIGHT}" rx="6" fill="{fill}" '
        f'stroke="#4a6fa5"/><text x="{at.x:.1f}" y="{at.y + 23:.1f}" text-anchor="middle" '
        f'font-size="13" font-family="sans-serif">{escape(label)}</text></g>'
    )
