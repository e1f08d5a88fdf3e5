"""Markdown, HTML and JSON renderings of the report's data (templates in ``templates/report``)."""

from __future__ import annotations

import json
import re
from functools import lru_cache

import jinja2
from markupsafe import Markup

from ..util.text import one_line
from ..writing.render import template_environment, templates_dir
from . import picture, svg

CSS_FILE = "report/style.css"


@lru_cache(maxsize=2)
def environment(html: bool) -> jinja2.Environment:
    """HTML escapes every value; Markdown must not (it would show ``&lt;`` in a pull request)."""
    env = template_environment(autoescape=html)
    env.filters["cell"] = markdown_cell
    env.filters["md_escape"] = markdown_escape
    env.filters["fence"] = fence
    env.filters["code"] = code_span
    env.filters["code_cell"] = lambda value: code_span("—" if value in (None, "") else value)
    return env


def markdown_cell(value: object) -> str:
    """Text safe inside a Markdown table cell; an empty cell shows a dash."""
    return markdown_escape(value) or "—"


def markdown_escape(value: object) -> str:
    """Text that cannot end a Markdown table cell or line, start HTML, or show a link or a
    remote image: what a file name or an option value may hold stays text in a pull request."""
    text = _one_line(value).replace("<", "&lt;")
    return text.replace("![", "!\\[").replace("](", "\\](")


def code_span(value: object) -> str:
    """``value`` as one inline code span: delimited by more backticks than any run inside it, so
    a backtick in the value cannot end the span and let the rest render as Markdown or HTML."""
    text = _one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _one_line(value: object) -> str:
    """One line that cannot end a table cell (GitHub unescapes ``\\|`` inside code too)."""
    text = "" if value is None else str(value)
    return one_line(text.replace("\n", " ")).replace("|", "\\|")


def fence(text: str) -> str:
    """A code fence longer than any run of backticks inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(report: dict) -> str:
    return environment(False).get_template("report/report.md.j2").render(r=report)


def render_html(report: dict) -> str:
    env = environment(True)
    css = (templates_dir() / CSS_FILE).read_text(encoding="utf-8")
    # svg.render escapes every text it places, so its markup goes in as it is
    charts = {when: picture.from_dict(report["dag"][when]) for when in ("before", "after")}
    pictures = {when: Markup(svg.render(chart, f"{when} DAG")) for when, chart in charts.items()}
    legend = Markup(svg.legend(list(charts.values())))
    return env.get_template("report/report.html.j2").render(
        r=report, css=css, svg=pictures, legend=legend
    )


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}
