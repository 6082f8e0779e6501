"""Charts as inline SVG drawn on the server: they read without JavaScript, print, and scale.

Pure functions from numbers (and already translated words) to SVG markup. Every text is
escaped; each chart carries a <title>/<desc> for screen readers and a <title> on each mark
for a tooltip. The drawing area is a viewBox about one phone wide, shown at ``width=100%``,
so the text stays legible on a 360 px screen and the chart grows with the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH = 320
FONT = 12
# Five steps from "few" to "nearly all" (light → dark green), readable in greyscale print.
HEAT_STEPS = ("#eef6f0", "#c4e3cc", "#86c596", "#3f9a5a", "#1a6b35")
HEAT_TEXT = ("#1b1f24", "#1b1f24", "#1b1f24", "#ffffff", "#ffffff")
EMPTY_FILL = "#f1f3f5"


def _num(value: float) -> str:
    """A coordinate with at most one decimal (short markup, stable tests)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _svg(chart_id: str, width: float, height: float, title: str, desc: str, body: list[str],
         css_class: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" '
            f'viewBox="0 0 {_num(width)} {_num(height)}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-size="{FONT}" '
            f'font-family="system-ui, sans-serif">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, content: str, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{escape(value)}"' for key, value in attrs.items())
    return (f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{extra}>'
            f"{escape(content)}</text>")


def axis_max(value: float, ticks: int = 4) -> int:
    """The top of a count axis: ``ticks`` equal whole steps of 1, 2, 2.5, 3 or 5 × 10^k that
    reach ``value`` (so every grid line is a whole number of people)."""
    if value <= 0:
        return ticks
    need = value / ticks
    power = 10 ** max(0, math.floor(math.log10(need)))
    for factor in (1, 2, 2.5, 3, 5, 10):
        step = factor * power
        if step >= need and step == int(step):
            return int(step * ticks)
    return int(10 * power * ticks)  # pragma: no cover - the loop always returns


def shorten(label: str, limit: int) -> str:
    """Cut a long unit name to fit its column (the full name stays in the <title>)."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


# --- (a) cumulative completions against the target ------------------------------------------

@dataclass
class CumulativeWords:
    """The translated words of the cumulative chart."""

    title: str
    desc: str
    actual: str  # legend: completed members
    target: str  # legend: the target line
    plan: str  # legend: the straight line from the start to the target at the deadline
    point: str  # tooltip of a point, with %(month)s and %(count)s
    y_axis: str


def _months_between(first: date, last: date) -> list[date]:
    months, day = [], date(first.year, first.month, 1)
    while day <= last:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def cumulative_chart(chart_id: str, points: Sequence[tuple[date, int]], target_count: int,
                     starts_on: date, deadline: date, words: CumulativeWords) -> Markup:
    """Completions so far (one point per month end, the last one today) against two lines:
    the target (horizontal) and the plan (0 at the start to the target at the deadline)."""
    left, right, top, bottom = 44, 12, 56, 30
    height = 250
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    first = min([starts_on, *(day for day, _ in points)])
    last = max([deadline, *(day for day, _ in points)])
    span = max(1, (last - first).days)
    y_max = axis_max(max([target_count, 1, *(count for _, count in points)]))

    def x(day: date) -> float:
        return left + plot_w * (day - first).days / span

    def y(count: float) -> float:
        return top + plot_h * (1 - count / y_max)

    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
            f'stroke="#c9d1db"/>']
    for i in range(5):  # horizontal grid and y labels
        value = y_max * i / 4
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{_num(y(value))}" '
                    f'y2="{_num(y(value))}" stroke="#e3e8ee"/>')
        label = f"{value:,.0f}".replace(",", ".") if value == int(value) else f"{value:.1f}"
        body.append(_text(left - 4, y(value) + 4, label, "end", fill="#4a5360"))
    months = _months_between(first, last)
    every = max(1, math.ceil(len(months) / 6))
    for index, month in enumerate(months):
        if month < first or index % every:
            continue
        body.append(f'<line x1="{_num(x(month))}" x2="{_num(x(month))}" y1="{top + plot_h}" '
                    f'y2="{top + plot_h + 4}" stroke="#4a5360"/>')
        body.append(_text(x(month), top + plot_h + 16, month.strftime("%m/%y"), "middle",
                          fill="#4a5360"))
    body.append(_text(4, top - 8, words.y_axis, "start", fill="#4a5360"))
    # The plan and the target, then what happened.
    body.append(f'<line class="plan" x1="{_num(x(starts_on))}" y1="{_num(y(0))}" '
                f'x2="{_num(x(deadline))}" y2="{_num(y(target_count))}" stroke="#8a5a00" '
                f'stroke-width="1.5" stroke-dasharray="2 3"/>')
    body.append(f'<line class="target" x1="{left}" x2="{left + plot_w}" '
                f'y1="{_num(y(target_count))}" y2="{_num(y(target_count))}" stroke="#b42318" '
                f'stroke-width="1.5" stroke-dasharray="6 4"/>')
    if points:
        coords = " ".join(f"{_num(x(day))},{_num(y(count))}" for day, count in points)
        body.append(f'<polyline class="actual" points="{coords}" fill="none" stroke="#0b5cab" '
                    f'stroke-width="2.5"/>')
        for day, count in points:
            tip = words.point % {"month": day.strftime("%d/%m/%Y"), "count": f"{count:,}".replace(",", ".")}
            body.append(f'<circle class="point" cx="{_num(x(day))}" cy="{_num(y(count))}" r="3" '
                        f'fill="#0b5cab"><title>{escape(tip)}</title></circle>')
    legend = [(words.actual, "#0b5cab", ""), (words.target, "#b42318", "6 4"),
              (words.plan, "#8a5a00", "2 3")]
    x0, y0 = 6.0, 10.0
    for label, colour, dash in legend:
        label = shorten(label, 24)
        width = 24 + 0.62 * FONT * len(label)  # about the width of the text, to wrap
        if x0 + width > WIDTH and x0 > 6:
            x0, y0 = 6.0, y0 + 16
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<line x1="{_num(x0)}" x2="{_num(x0 + 16)}" y1="{_num(y0)}" '
                    f'y2="{_num(y0)}" stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        body.append(_text(x0 + 20, y0 + 4, label, "start"))
        x0 += width + 8
    return _svg(chart_id, WIDTH, height, words.title, words.desc, body, "chart-cumulative")


# --- (b) competency-mastery heatmap ---------------------------------------------------------

@dataclass
class HeatRow:
    label: str
    members: int
    counts: list[int]  # members who mastered ≥1 competency of each column's group


def heat_step(percent: float) -> int:
    """Colour step 0–4 of a percentage (0–19, 20–39, 40–59, 60–79, 80–100)."""
    return min(4, max(0, int(percent // 20)))


def heatmap(chart_id: str, rows: Sequence[HeatRow], columns: Sequence[tuple[str, str]],
            title: str, desc: str, cell_tip: str, no_members: str) -> Markup:
    """Rows = units, columns = framework groups (code, label); a cell shows the % of the
    row's members who mastered at least one competency of the group, coloured in 5 steps.
    ``cell_tip`` has %(unit)s, %(group)s, %(percent)s, %(count)s and %(members)s."""
    label_w, top, cell_h, legend_h = 128, 30, 24, 34
    cell_w = (WIDTH - label_w - 4) / max(1, len(columns))
    height = top + cell_h * max(1, len(rows)) + legend_h
    body = []
    for j, (code, label) in enumerate(columns):
        cx = label_w + cell_w * (j + 0.5)
        body.append(f'<text x="{_num(cx)}" y="{top - 10}" text-anchor="middle" '
                    f'font-weight="700">{escape(code)}<title>{escape(label)}</title></text>')
    for i, row in enumerate(rows):
        y0 = top + i * cell_h
        body.append(f'<text x="{label_w - 6}" y="{_num(y0 + cell_h / 2 + 4)}" text-anchor="end">'
                    f"{escape(shorten(row.label, 18))}<title>{escape(row.label)}</title></text>")
        for j, (_code, group_label) in enumerate(columns):
            count = row.counts[j] if j < len(row.counts) else 0
            x0 = label_w + j * cell_w
            if row.members:
                percent = 100.0 * count / row.members
                step = heat_step(percent)
                fill, ink, shown = HEAT_STEPS[step], HEAT_TEXT[step], f"{percent:.0f}"
                tip = cell_tip % {"unit": row.label, "group": group_label,
                                  "percent": shown, "count": count, "members": row.members}
            else:
                fill, ink, shown, tip = EMPTY_FILL, "#4a5360", "–", f"{row.label}: {no_members}"
            body.append(f'<g class="cell"><rect x="{_num(x0 + 1)}" y="{_num(y0 + 1)}" '
                        f'width="{_num(cell_w - 2)}" height="{cell_h - 2}" fill="{fill}" rx="2">'
                        f"<title>{escape(tip)}</title></rect>"
                        + _text(x0 + cell_w / 2, y0 + cell_h / 2 + 4, shown, "middle", fill=ink)
                        + "</g>")
    legend_y = top + cell_h * max(1, len(rows)) + 12
    swatch_w = (WIDTH - label_w - 4) / len(HEAT_STEPS)
    body.append(_text(label_w - 6, legend_y + 11, "%", "end", fill="#4a5360"))
    for k, colour in enumerate(HEAT_STEPS):
        x0 = label_w + k * swatch_w
        body.append(f'<rect x="{_num(x0 + 1)}" y="{legend_y}" width="{_num(swatch_w - 2)}" '
                    f'height="14" fill="{colour}" stroke="#c9d1db"/>')
        body.append(_text(x0 + swatch_w / 2, legend_y + 11, f"{k * 20}–{k * 20 + 19 + (k == 4)}",
                          "middle", fill=HEAT_TEXT[k], font_size="9.5"))
    return _svg(chart_id, WIDTH, height, title, desc, body, "chart-heatmap")


# --- (c) distribution of scores -------------------------------------------------------------

def score_labels() -> list[str]:
    """The eleven score tenths: 0–9, 10–19, …, 90–99 and 100 (%)."""
    return [f"{10 * k}–{10 * k + 9}" for k in range(10)] + ["100"]


def histogram(chart_id: str, counts: Sequence[int], labels: Sequence[str], title: str,
              desc: str, x_axis: str, y_axis: str, bar_tip: str) -> Markup:
    """One bar per bucket with its count on top; ``bar_tip`` has %(label)s and %(count)s."""
    left, right, top, bottom = 40, 8, 26, 44
    height = 210
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    y_max = axis_max(max([1, *counts]))
    slot = plot_w / max(1, len(counts))
    body = [f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
            f'stroke="#4a5360"/>']
    for i in range(5):
        value = y_max * i / 4
        yy = top + plot_h * (1 - i / 4)
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{_num(yy)}" y2="{_num(yy)}" '
                    f'stroke="#e3e8ee"/>')
        label = f"{value:,.0f}".replace(",", ".") if value == int(value) else f"{value:.1f}"
        body.append(_text(left - 4, yy + 4, label, "end", fill="#4a5360"))
    for i, (count, label) in enumerate(zip(counts, labels, strict=True)):
        bar_h = plot_h * count / y_max
        x0 = left + i * slot
        tip = bar_tip % {"label": label, "count": f"{count:,}".replace(",", ".")}
        body.append(f'<rect class="bar" x="{_num(x0 + 2)}" y="{_num(top + plot_h - bar_h)}" '
                    f'width="{_num(slot - 4)}" height="{_num(bar_h)}" fill="#0b5cab">'
                    f"<title>{escape(tip)}</title></rect>")
        if count:
            body.append(_text(x0 + slot / 2, top + plot_h - bar_h - 3, f"{count:,}".replace(",", "."),
                              "middle", font_size="9.5"))
        # Bucket labels are tilted so "90–99" fits under a 29-unit bar.
        lx, ly = x0 + slot / 2 + 3, top + plot_h + 10
        body.append(f'<text x="{_num(lx)}" y="{_num(ly)}" text-anchor="end" font-size="9.5" '
                    f'fill="#4a5360" transform="rotate(-40 {_num(lx)} {_num(ly)})">'
                    f"{escape(label)}</text>")
    body.append(_text(left + plot_w / 2, height - 4, x_axis, "middle", fill="#4a5360"))
    body.append(_text(4, 14, y_axis, "start", fill="#4a5360"))
    return _svg(chart_id, WIDTH, height, title, desc, body, "chart-histogram")
