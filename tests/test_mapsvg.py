"""The country map: packaged geometry, SVG structure, links, titles and legend."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib.resources import files

import pytest

from s3site.mapsvg import MAP_CSS, legend_buckets, map_data, render_legend, render_map

SVG = "{http://www.w3.org/2000/svg}"
EU27 = (
    "AT BE BG HR CY CZ DK EE FI FR DE EL HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
COUNTS = {"FI": 12, "ES": 30, "IT": 1, "SE": 0, "EL": 4, "UK": 2, "MT": 7, "ZZ": 3}
NAMES = {"FI": "Finland", "ES": "España", "IT": "Italia", "SE": "Sverige", "EL": "Ελλάδα"}
LINKS = {code: f"/regions/{code.lower()}/" for code in COUNTS}


def parse(svg: str) -> ET.Element:
    """Parse the inline SVG inside an HTML-like wrapper, as a browser would see it."""
    root = ET.fromstring(f"<div>{svg}</div>")
    (element,) = root
    assert element.tag == f"{SVG}svg"
    return element


def test_data_file_is_small_and_has_the_countries() -> None:
    raw = files("s3site").joinpath("data", "europe-map.json").read_bytes()
    assert len(raw) < 80 * 1024
    data = json.loads(raw)
    assert set(EU27) <= set(data["countries"])
    assert {"UK", "NO", "CH", "IS", "LI"} <= set(data["countries"])
    assert "GR" not in data["countries"] and "GB" not in data["countries"]
    assert list(data["countries"]) == sorted(data["countries"])
    assert re.fullmatch(r"0 0 \d+ \d+", data["viewBox"])
    for d in data["countries"].values():
        assert re.fullmatch(r"(M-?\d+ ?-?\d+l[-\d ]*z)+", d)


def test_svg_is_well_formed_with_title_and_no_fixed_size() -> None:
    svg = render_map(COUNTS, LINKS, NAMES, title="Practices by country", id_prefix="home-map")
    assert not svg.startswith("<?xml")
    root = parse(svg)
    assert root.get("viewBox") == map_data()["viewBox"]
    assert root.get("width") is None and root.get("height") is None
    assert root.get("role") != "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Practices by country"
    assert root.get("aria-labelledby") == title.get("id") == "home-map-title"


def test_one_link_per_country_with_practices() -> None:
    root = parse(render_map(COUNTS, LINKS, NAMES, title="Map"))
    links = root.findall(f".//{SVG}a")
    shaded = {code for code, n in COUNTS.items() if n > 0 and code in map_data()["countries"]}
    assert len(links) == len(shaded) == 6  # ZZ is not on the map, SE has none
    hrefs = {a.get("href") for a in links}
    assert hrefs == {LINKS[code] for code in shaded}
    for a in links:
        (title,) = a.findall(f"{SVG}title")
        (path,) = a.findall(f"{SVG}path")
        assert re.search(r"\bmap-c[1-5]\b", path.get("class", ""))
        assert title.text
    titles = {a.findtext(f"{SVG}title") for a in links}
    assert {"Finland: 12 practices", "Italia: 1 practice", "UK: 2 practices"} <= titles


def test_countries_without_practices_are_plain() -> None:
    root = parse(render_map(COUNTS, LINKS, NAMES, title="Map"))
    plain = [p for p in root.iter(f"{SVG}path") if "map-c0" in p.get("class", "")]
    assert len(plain) == len(map_data()["countries"]) - 6
    sweden = [p for p in plain if p.findtext(f"{SVG}title") == "Sverige: no practices"]
    assert len(sweden) == 1
    assert root.find(f".//{SVG}a[@href='/regions/se/']") is None


def test_text_is_escaped() -> None:
    nasty = '<&">\'x'
    svg = render_map({"FI": 1}, {"FI": '/r?a=1&b="2"'}, {"FI": nasty}, title=nasty, id_prefix="m")
    root = parse(svg)
    assert root.findtext(f"{SVG}title") == nasty
    (a,) = root.iter(f"{SVG}a")
    assert a.get("href") == '/r?a=1&b="2"'
    assert a.findtext(f"{SVG}title") == f"{nasty}: 1 practice"
    assert "<&" not in svg


def test_output_is_deterministic() -> None:
    first = render_map(COUNTS, LINKS, NAMES, title="Map")
    again = render_map(dict(reversed(COUNTS.items())), LINKS, NAMES, title="Map")
    assert first == again


def test_legend_inside_and_outside() -> None:
    root = parse(render_map(COUNTS, LINKS, NAMES, title="Map"))
    legend = root.find(f".//{SVG}g[@class='map-legend']")
    assert legend is not None
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    assert texts[:2] == ["Practices", "none"] and texts[-1].endswith("30")
    assert parse(render_map(COUNTS, LINKS, NAMES, title="Map", legend=False)).find(
        f".//{SVG}g[@class='map-legend']") is None
    html = ET.fromstring(render_legend(COUNTS))
    assert [li.tail or "".join(li.itertext()) for li in html][0].strip() == "no practices"
    assert len(html) == len(legend_buckets(COUNTS)) + 1


@pytest.mark.parametrize("top", [0, 1, 2, 3, 5, 6, 7, 10, 16, 32, 100, 1000])
def test_legend_buckets_cover_every_count_once(top: int) -> None:
    buckets = legend_buckets({"FI": top, "SE": 0})
    assert len(buckets) == min(5, top)
    covered = [n for low, high, _ in buckets for n in range(low, high + 1)]
    assert covered == list(range(1, top + 1))
    classes = [css for _, _, css in buckets]
    assert classes == sorted(set(classes), key=lambda c: int(c[-1]))
    if top:
        assert classes[-1] == "map-c5" or top == 1
        assert f".{classes[-1]}{{" in MAP_CSS.replace(" ", "")


def test_buckets_follow_powers() -> None:
    assert legend_buckets({"A": 100}) == [
        (1, 3, "map-c1"), (4, 7, "map-c2"), (8, 16, "map-c3"), (17, 40, "map-c4"),
        (41, 100, "map-c5"),
    ]
    assert legend_buckets({"A": 2}) == [(1, 1, "map-c1"), (2, 2, "map-c5")]
    assert legend_buckets({}) == []
