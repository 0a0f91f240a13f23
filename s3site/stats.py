"""The collection in numbers: counts from the Site, drawn as horizontal bar charts.

Everything here is pure: counting functions take the Site and return `Chart`
objects (plain data: a title, axis labels and one `Bar` per category), and
`render_chart` turns a chart into inline SVG at build time. The statistics
page (templates/stats.html) shows each chart with its numbers as a table, the
text alternative; the home page shows a short version of the theme chart.

The SVG has no viewBox: bar lengths and tick positions are percentages of its
width and text is sized in CSS pixels, so the chart fills any column from
360 px up without its labels shrinking. Labels sit above their bars (long
ones wrap onto a second line), the number stands beside each bar, and a
whole row is a link to the matching index page. Colours come from CSS
classes (`.chart-*` in s3site.css), so dark mode and print restyle it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from .model import Practice, RegionTerm, Site

STATUSES = (("ongoing", "Ongoing"), ("completed", "Completed"))
TOP_REGIONS = 15

# Geometry, in CSS pixels (user units) and percentages of the chart's width.
_TOP = 30  # room for the category axis label
_ROW = 44  # one row: label line, bar, gap; also the height of the row's link
_LINE = 18  # each further line of a wrapped label
_BAR = 16  # bar thickness
_BOTTOM = 56  # tick labels and the value axis label
_SPAN = 84.0  # % of the width the axis maximum takes; the rest holds the number
_WRAP = 30  # characters per label line: fits 320 px in 15 px type
_MAX_LINES = 3


@dataclass(frozen=True, slots=True)
class Bar:
    """One category of a chart: its label, its count and the page listing it."""

    label: str
    count: int
    url: str = ""  # "" when no page lists it (a status no practice has)
    parts: tuple[int, ...] = ()  # stacked segments adding up to count, per Chart.part_labels
    context: str = ""  # shown after the label, e.g. a region's country


@dataclass(frozen=True, slots=True)
class Chart:
    """A horizontal bar chart: what it counts and its bars, in display order."""

    key: str  # short id: themes, countries, years, status, regions
    title: str
    category: str  # the category axis: "Theme"
    value: str  # the value axis: "Number of practices"
    note: str  # what a bar counts, in a sentence
    bars: tuple[Bar, ...]
    context_label: str = ""  # table column for Bar.context
    part_labels: tuple[str, ...] = ()  # names of the stacked segments

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)


def year_url(base: str, year: int) -> str:
    """The list of practices started in a year."""
    return f"{base}practices/started/{year}/"


def status_url(base: str, status: str) -> str:
    """The list of ongoing or of completed practices."""
    return f"{base}practices/status/{status}/"


def practices_by_year(site: Site) -> dict[int, tuple[Practice, ...]]:
    """Practices by start year, oldest year first; each list newest first, as the site's."""
    years: dict[int, list[Practice]] = defaultdict(list)
    for practice in site.practices:
        years[practice.start.year].append(practice)
    return {year: tuple(years[year]) for year in sorted(years)}


def practices_by_status(site: Site) -> dict[str, tuple[Practice, ...]]:
    """Ongoing and completed practices, each list newest first; both keys always present."""
    groups: dict[str, list[Practice]] = {status: [] for status, _ in STATUSES}
    for practice in site.practices:
        if practice.status in groups:
            groups[practice.status].append(practice)
    return {status: tuple(practices) for status, practices in groups.items()}


def theme_chart(site: Site) -> Chart:
    """Practices per theme, most first; every theme of the taxonomy, even unused ones."""
    order = {term.id: i for i, term in enumerate(site.themes)}
    terms = sorted(site.themes, key=lambda t: (-t.count, order[t.id]))
    return Chart(
        "themes", "Practices per theme", "Theme", "Number of practices",
        "Each bar counts the practices that carry the theme; a practice may carry several themes.",
        tuple(Bar(t.title, t.count, t.url) for t in terms),
    )


def country_chart(site: Site) -> Chart:
    """Practices located in each country, most first; countries with none left out."""
    terms = sorted((t for t in site.countries if t.count),
                   key=lambda t: (-t.count, t.name.casefold()))
    return Chart(
        "countries", "Practices per country", "Country", "Number of practices",
        "Each bar counts the practices located in the country.",
        tuple(Bar(t.name, t.count, t.url) for t in terms),
    )


def year_chart(site: Site) -> Chart:
    """Practices by the year they started, oldest first; years without any left out."""
    base = site.settings.base_path
    return Chart(
        "years", "Practices per start year", "Year started", "Number of practices",
        "Each bar counts the practices that started in the year; years without a new "
        "practice are left out.",
        tuple(Bar(str(year), len(items), year_url(base, year))
              for year, items in practices_by_year(site).items()),
    )


def status_chart(site: Site) -> Chart:
    """Ongoing versus completed practices."""
    base = site.settings.base_path
    groups = practices_by_status(site)
    return Chart(
        "status", "Ongoing and completed practices", "Status", "Number of practices",
        "A practice is ongoing until its end date has passed.",
        tuple(Bar(label, len(groups[status]), status_url(base, status) if groups[status] else "")
              for status, label in STATUSES),
    )


def region_chart(site: Site, top: int = TOP_REGIONS) -> Chart:
    """The regions that lead or take part in most practices, at most `top` of them."""
    connected = [t for t in site.regions.values() if t.leads or t.joins]
    ranked = sorted(connected,
                    key=lambda t: (-(len(t.leads) + len(t.joins)), t.name.casefold(), t.code))
    return Chart(
        "regions", "Most connected regions", "Region", "Number of practices led or joined",
        f"The {min(top, len(ranked))} regions that lead or take part in the most practices "
        "(not counting where a practice is located), with the practices each leads and those it "
        "takes part in.",
        tuple(Bar(t.name, len(t.leads) + len(t.joins), t.url, (len(t.leads), len(t.joins)),
                  _country_name(site, t))
              for t in ranked[:top]),
        context_label="Country",
        part_labels=("Leads", "Takes part"),
    )


def site_charts(site: Site) -> tuple[Chart, ...]:
    """Every chart of the statistics page, in page order."""
    return (theme_chart(site), country_chart(site), year_chart(site), status_chart(site),
            region_chart(site))


def _country_name(site: Site, term: RegionTerm) -> str:
    if not term.chain or term.chain[0] is term:
        return ""
    return term.chain[0].name


# --- Drawing ---------------------------------------------------------------------------------


def axis_scale(top: int) -> tuple[int, int]:
    """(axis maximum, tick step): a step of 1, 2 or 5 times a power of ten, at most 5 ticks."""
    if top <= 0:
        return 1, 1
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if -(-top // step) <= 5:
                return -(-top // step) * step, step
        magnitude *= 10


def wrap_label(text: str, width: int = _WRAP, lines: int = _MAX_LINES) -> list[str]:
    """Break a label at spaces into at most `lines` lines; an ellipsis ends a cut one."""
    words = text.split()
    out: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        rest = " ".join(out[lines - 1 :])
        out = out[: lines - 1] + [rest[: width - 1].rstrip() + "\u2026"]
    return [line if len(line) <= width else line[: width - 1] + "\u2026" for line in out] or [""]


def _pct(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "%"


def _noun(count: int) -> str:
    return "practice" if count == 1 else "practices"


def bar_title(chart: Chart, bar: Bar) -> str:
    """What a bar says as a tooltip and as its link's name."""
    label = f"{bar.label} ({bar.context})" if bar.context else bar.label
    text = f"{label}: {bar.count} {_noun(bar.count)}"
    if chart.part_labels and bar.parts:
        parts = zip(chart.part_labels, bar.parts, strict=True)
        text += " (" + ", ".join(f"{name.lower()} {n}" for name, n in parts) + ")"
    return text


def render_chart(chart: Chart, *, id_prefix: str, limit: int = 0, title: str = "") -> str:
    """The chart as inline SVG; `limit` keeps only the first bars, `title` replaces its title.

    The SVG is a labelled group (not an image) so that its links stay
    reachable; each row's link is named by its <title>, e.g. "Social
    economy: 5 practices". The page must give the same numbers as a table.
    """
    bars = chart.bars[:limit] if limit else chart.bars
    axis_max, step = axis_scale(max((bar.count for bar in bars), default=0))
    title_id, desc_id = escape(f"{id_prefix}-title"), escape(f"{id_prefix}-desc")
    rows: list[str] = []
    y = _TOP
    for bar in bars:
        label = f"{bar.label} ({bar.context})" if bar.context else bar.label
        lines = wrap_label(label)
        extra = _LINE * (len(lines) - 1)
        height = _ROW + extra
        text = "".join(
            f'<tspan x="0" dy="{_LINE}">{escape(line)}</tspan>' if i else escape(line)
            for i, line in enumerate(lines)
        )
        bar_y = y + 21 + extra
        segments = []
        x = 0.0
        parts = bar.parts if chart.part_labels and bar.parts else (bar.count,)
        for i, part in enumerate(parts):
            width = part / axis_max * _SPAN
            if width > 0:
                segments.append(f'<rect class="chart-bar chart-bar-{i + 1}" x="{_pct(x)}"'
                                 f' y="{bar_y}"'
                                 f' width="{_pct(width)}" height="{_BAR}"/>')
            x += width
        body = (
            f"<title>{escape(bar_title(chart, bar))}</title>"
            f'<rect class="chart-hit" x="0" y="{y}" width="100%" height="{height}"/>'
            f'<text class="chart-label" x="0" y="{y + 15}">{text}</text>'
            + "".join(segments)
            + f'<text class="chart-value" x="{_pct(x)}" dx="6" y="{bar_y + 13}">{bar.count}</text>'
        )
        if bar.url:
            rows.append(f'<a class="chart-row" href="{escape(bar.url)}">{body}</a>')
        else:
            rows.append(f'<g class="chart-row">{body}</g>')
        y += height
    grid = []
    for tick in range(0, axis_max + 1, step):
        x_pct = _pct(tick / axis_max * _SPAN)
        anchor = "start" if tick == 0 else "middle"
        line_class = "chart-grid chart-axis-line" if tick == 0 else "chart-grid"
        grid.append(f'<line class="{line_class}" x1="{x_pct}" x2="{x_pct}" y1="{_TOP - 4}"'
                    f' y2="{y + 4}"/><text class="chart-tick" x="{x_pct}" y="{y + 22}"'
                    f' text-anchor="{anchor}">{tick}</text>')
    height = y + _BOTTOM
    description = chart.note + " Select a bar to see the practices it counts."
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="100%" height="{height}"'
        f' style="height:{height}px" role="group" aria-labelledby="{title_id}"'
        f' aria-describedby="{desc_id}">',
        f'<title id="{title_id}">{escape(title or chart.title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        f'<text class="chart-axis" x="0" y="18">{escape(chart.category)}</text>',
        *grid,
        *rows,
        f'<text class="chart-axis" x="{_pct(_SPAN)}" y="{height - 10}" text-anchor="end">'
        f"{escape(chart.value)} \u2192</text>",
        "</svg>",
    ])

