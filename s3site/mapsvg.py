"""A choropleth map of Europe by country, as inline SVG, drawn at build time.

The country shapes are precomputed by tools/make_map.py into
data/europe-map.json (Natural Earth, public domain; see data/MAP-SOURCE.md).
Colours come only from CSS classes (`MAP_CSS`), through custom properties, so
a theme or dark mode can restyle the map without touching the markup.
"""

from __future__ import annotations

import json
import math
from functools import cache
from html import escape
from importlib.resources import files

MAP_CSS = """\
.map,.map-key{--map-land:#ebe9e3;--map-context:#f5f4f0;--map-edge:#fff;--map-focus:#111;
--map-key-edge:#595959;--map-c1:#a8cbeb;--map-c2:#6ca2d6;--map-c3:#3a79b8;--map-c4:#1c5290;
--map-c5:#0a2c57}
svg.map{display:block;width:100%;height:auto}
.map path{stroke:var(--map-edge);stroke-width:.75px;stroke-linejoin:round;
vector-effect:non-scaling-stroke}
.map-context{fill:var(--map-context)}
.map-c0{fill:var(--map-land)}.map-c1{fill:var(--map-c1)}.map-c2{fill:var(--map-c2)}
.map-c3{fill:var(--map-c3)}.map-c4{fill:var(--map-c4)}.map-c5{fill:var(--map-c5)}
.map a:hover path,.map a:focus path{stroke:var(--map-focus);stroke-width:2.5px}
.map a:focus{outline:none}
.map-legend .map-panel{fill:var(--map-context);opacity:.92}
.map-legend rect.map-c,.map-key rect{stroke:var(--map-key-edge);stroke-width:1px;
vector-effect:non-scaling-stroke}
.map-legend text{fill:currentColor;font-size:22px;font-family:inherit}
.map-legend .map-legend-title{font-weight:bold}
.map-key{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.25em 1.25em}
.map-key svg{vertical-align:middle}
@media (prefers-color-scheme:dark){.map,.map-key{
--map-land:#33353a;--map-context:#222428;--map-edge:#15161a;--map-focus:#fff;
--map-key-edge:#b0b0b0;--map-c1:#1d5384;--map-c2:#2f76b5;--map-c3:#5aa0de;--map-c4:#9fcaf2;
--map-c5:#e0efff}}
"""
"""Styles for the map and its legend; colours are custom properties on `.map`."""

_SCALE = 5  # number of colour classes, map-c1 (fewest) .. map-c5 (most)
_LEGEND_ROW = 30  # viewBox units
_LEGEND_WIDTH = 240


@cache
def map_data() -> dict:
    """The packaged map: viewBox, path data per country code and the context land."""
    text = files("s3site").joinpath("data", "europe-map.json").read_text(encoding="utf-8")
    return json.loads(text)


def legend_buckets(counts: dict[str, int]) -> list[tuple[int, int, str]]:
    """Split 1..max(counts) into at most five ranges, each with its CSS class.

    Upper bounds grow geometrically (max ** (k/n), rounded up), so a few
    countries with many practices do not squash the rest into one colour.
    With fewer than five distinct values possible, each value gets its own
    range, and the classes are spread over the scale so the darkest always
    means the most.  Returns (low, high, css class) tuples; [] when nothing
    is counted.
    """
    top = max((n for n in counts.values() if n > 0), default=0)
    n = min(_SCALE, top)
    highs: list[int] = []
    for k in range(1, n + 1):
        high = math.ceil(top ** (k / n) - 1e-9)
        highs.append(min(max(high, highs[-1] + 1 if highs else 1), top - (n - k)))
    buckets = []
    low = 1
    for k, high in enumerate(highs):
        shade = 1 + round(k * (_SCALE - 1) / (n - 1)) if n > 1 else 3
        buckets.append((low, high, f"map-c{shade}"))
        low = high + 1
    return buckets


def _bucket_class(count: int, buckets: list[tuple[int, int, str]]) -> str:
    for _, high, css in buckets:
        if count <= high:
            return css
    return buckets[-1][2]


def _label(count: int, noun: tuple[str, str]) -> str:
    return f"{count} {noun[0] if count == 1 else noun[1]}"


def _legend(buckets: list[tuple[int, int, str]], noun: tuple[str, str], width: int) -> str:
    rows = [(0, 0, "map-c0"), *buckets]
    height = _LEGEND_ROW * (len(rows) + 1) + 20
    x, y = width - _LEGEND_WIDTH - 10, 10
    parts = [
        f'<g class="map-legend" transform="translate({x} {y})">',
        f'<rect class="map-panel" width="{_LEGEND_WIDTH}" height="{height}" rx="6"/>',
        f'<text class="map-legend-title" x="14" y="32">{escape(noun[1].capitalize())}</text>',
    ]
    for i, (low, high, css) in enumerate(rows, start=1):
        top = 12 + i * _LEGEND_ROW
        text = "none" if high == 0 else str(low) if low == high else f"{low}\u2013{high}"
        parts.append(
            f'<rect class="map-c {css}" x="14" y="{top + 4}" width="30" height="22"/>'
            f'<text x="56" y="{top + 23}">{escape(text)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def render_map(
    counts: dict[str, int],
    links: dict[str, str],
    names: dict[str, str],
    *,
    title: str,
    id_prefix: str = "map",
    legend: bool = True,
    noun: tuple[str, str] = ("practice", "practices"),
) -> str:
    """An inline SVG map shading each country by its count.

    `counts`, `links` and `names` are keyed by NUTS country code (EL, UK...).
    A country with a count above zero becomes a link to `links[code]` titled
    "Name: N practices" and is filled with its bucket's class (see
    `legend_buckets`); the others are drawn plain, in the neutral class
    `map-c0`, titled only when `names` has them.  Codes that the map does not
    have are ignored, so the page's data table must list every count.  The
    SVG has no fixed size and no XML declaration; style it with `MAP_CSS`.
    `legend=False` leaves the legend out, for a page that shows its own.
    """
    data = map_data()
    buckets = legend_buckets(counts)
    plain, shaded = [], []
    for code, d in sorted(data["countries"].items()):
        count = counts.get(code, 0)
        name = names.get(code, code)
        if count <= 0:
            tip = f"<title>{escape(name)}: no {escape(noun[1])}</title>" if code in names else ""
            plain.append(f'<path class="map-c map-c0" d="{d}">{tip}</path>')
            continue
        tip = f"<title>{escape(f'{name}: {_label(count, noun)}')}</title>"
        path = f'<path class="map-c {_bucket_class(count, buckets)}" d="{d}"/>'
        if code in links:
            shaded.append(f'<a href="{escape(links[code])}">{tip}{path}</a>')
        else:
            shaded.append(f"<g>{tip}{path}</g>")
    width = int(data["viewBox"].split()[2])
    title_id = escape(f"{id_prefix}-title")
    return "".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="{data["viewBox"]}"'
        f' role="group" aria-labelledby="{title_id}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<path class="map-context" d="{data["context"]}"/>' if data.get("context") else "",
        *plain,
        *shaded,
        _legend(buckets, noun, width) if legend else "",
        "</svg>",
    ])


def render_legend(
    counts: dict[str, int], *, noun: tuple[str, str] = ("practice", "practices")
) -> str:
    """The legend as an HTML list, for pages that call `render_map(legend=False)`.

    Each swatch is a tiny SVG using the same classes, so it follows `MAP_CSS`.
    """
    rows = [(0, 0, "map-c0"), *legend_buckets(counts)]
    items = []
    for low, high, css in rows:
        text = f"no {noun[1]}" if high == 0 else (
            _label(low, noun) if low == high else f"{low}\u2013{high} {noun[1]}")
        items.append(
            '<li><svg viewBox="0 0 30 22" width="30" height="22" aria-hidden="true">'
            f'<rect class="map-c {css}" width="30" height="22"/></svg> {escape(text)}</li>'
        )
    return f'<ul class="map-key">{"".join(items)}</ul>'
