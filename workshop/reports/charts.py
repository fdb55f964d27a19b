"""Charts of a results report, drawn as SVG by pygal: pure (plain data in, SVG text out).

A chart is described by a spec (plain data made in the request, every label already in the
reader's language) and drawn by `draw`, which needs no app context: the report draws its
charts in a worker thread, like the rest of the document. Numbers on the axes and bars are
formatted with Babel for the spec's `lang`.

The SVG carries no script and fetches nothing (pygal's default tooltips script sits on a CDN),
names Noto Sans for its text, and is sized in pixels at 720 wide: printed across the A4 text
width (174 mm) that is about 0.24 mm a pixel, so 13 px labels print at about 9 pt.
"""

from __future__ import annotations

import re
from typing import Any

import pygal
from babel.numbers import format_decimal, format_percent
from pygal.style import Style

#: Bars a chart shows at most (the first lines of the ranking); the tables list them all.
MAX_BARS = 15
#: Longest label before it is cut with an ellipsis (the tables carry the whole title).
MAX_LABEL = 48
WIDTH = 720
#: Colours told apart by colour-blind readers and in grey print (Okabe and Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
FONTS = "'Noto Sans', 'Noto Sans Devanagari', 'Noto Sans Khmer', 'DejaVu Sans', sans-serif"
#: pygal centres a printed value on the bar's end; start it just past the end instead (a CSS
#: rule outranks the text-anchor attribute pygal writes).
_CSS = "inline:.text-overlay .value { text-anchor: start; }"
#: pygal always writes its configuration for the tooltips script as an inline script: a printed
#: chart has no use for it. (Text in pygal's SVG is escaped, so no "</script>" hides in it.)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.S)


def _style(colours: tuple[str, ...] = PALETTE) -> Style:
    return Style(
        font_family=FONTS, background="#ffffff", plot_background="#ffffff",
        foreground="#222222", foreground_strong="#111111", foreground_subtle="#777777",
        colors=colours, opacity="1", opacity_hover="1",
        label_font_size=13, major_label_font_size=13, legend_font_size=13,
        value_font_size=12, title_font_size=15, guide_stroke_color="#cccccc",
        major_guide_stroke_color="#bbbbbb")


def short(label: str, limit: int = MAX_LABEL) -> str:
    """A label cut to `limit` characters with an ellipsis (whole words when it can)."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    cut = label[:limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def _static(chart: Any) -> str:
    """The chart's SVG without script: a still picture."""
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _options(height: int, lang: str, percent: bool) -> dict[str, Any]:
    def number(value: float | None) -> str:
        if value is None:
            return ""
        if percent:
            return format_percent(value, "#,##0%", locale=lang)
        return format_decimal(value, "#,##0.##", locale=lang)

    return {
        "width": WIDTH, "height": height, "js": [], "disable_xml_declaration": True,
        "truncate_label": -1, "truncate_legend": -1, "value_formatter": number,
        "show_y_guides": True, "show_x_guides": False, "margin": 12, "spacing": 8,
        "css": ("file://style.css", "file://graph.css", _CSS),
        "print_values": True, "print_values_position": "top", "pretty_print": False,
        "style": _style(), "classes": ("pygal-chart", "report-chart"),
    }


def ranking_chart(labels: list[str], scores: list[float], lang: str) -> str:
    """Horizontal bars, one per line of work in ranking order (the first on top), each with
    its score printed at its end."""
    labels, scores = labels[:MAX_BARS], scores[:MAX_BARS]
    height = 60 + 34 * max(len(labels), 1)
    chart = pygal.HorizontalBar(show_legend=False, **_options(height, lang, percent=False))
    top = max([s for s in scores if s is not None] or [0]) or 1
    chart.range = (0, top * 1.08)
    # pygal draws the first label at the bottom: reverse so the ranking reads top down.
    chart.x_labels = [short(label) for label in reversed(labels)]
    chart.add("", list(reversed(scores)))
    return _static(chart)


def region_chart(labels: list[str], regions: list[tuple[str, list[float | None]]],
                 lang: str) -> str:
    """Grouped horizontal bars: for each line of work (ranking order, the first on top), its
    share of the possible support in each region (one colour a region, legend below)."""
    labels = labels[:MAX_BARS]
    bars = max(len(regions), 1)
    rows = (len(regions) + 1) // 2
    height = 70 + max(len(labels), 1) * (12 * bars + 16) + 24 * rows
    options = _options(height, lang, percent=True)
    options.update(print_values=False, legend_at_bottom=True, legend_at_bottom_columns=2,
                   margin_bottom=12 + 8 * rows)
    chart = pygal.HorizontalBar(**options)
    chart.range = (0, 1)
    chart.x_labels = [short(label) for label in reversed(labels)]
    for name, shares in regions:
        chart.add(name, list(reversed(shares[:MAX_BARS])))
    return _static(chart)


def draw(spec: dict[str, Any]) -> str:
    """The SVG of a chart spec: {"kind": "ranking", "labels", "scores", "lang"} or
    {"kind": "regions", "labels", "regions": [(name, shares)], "lang"}."""
    if spec["kind"] == "ranking":
        return ranking_chart(spec["labels"], spec["scores"], spec["lang"])
    return region_chart(spec["labels"], spec["regions"], spec["lang"])

