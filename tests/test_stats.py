"""Statistics: the counts, the SVG bar charts, the /stats/ page and the lists its bars link to.

The charts of the example site are checked against counts made here,
independently of s3site: the content files' front matter is read with yaml
directly and counted with plain Python.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import REPO, practice_text

from s3site.stats import (
    Bar,
    Chart,
    axis_scale,
    render_chart,
    wrap_label,
)

SVG = "{http://www.w3.org/2000/svg}"
TODAY = dt.date(2025, 6, 15)
EPOCH = str(int(dt.datetime(2025, 6, 15, 12, tzinfo=dt.UTC).timestamp()))


# --- Independent counts from the content files -------------------------------------------------


def front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        match = re.match(r"---\r?\n(.*?)\r?\n---\r?\n", text, re.S)
        assert match, path
        text = match.group(1)
    return yaml.safe_load(text)


def example_practices() -> dict[str, dict]:
    found = {}
    for path in sorted((REPO / "content" / "practices").iterdir()):
        if path.suffix in (".md", ".yaml", ".yml"):
            data = front_matter(path)
            if not data.get("draft"):
                found[path.stem] = data
    return found


def year_of(value) -> int:
    return value.year if isinstance(value, dt.date) else int(str(value)[:4])


def last_day(value) -> dt.date:
    """The last day a YYYY, YYYY-MM or YYYY-MM-DD date can mean."""
    if isinstance(value, dt.date):
        return value
    parts = [int(p) for p in str(value).split("-")]
    year, month = parts[0], parts[1] if len(parts) > 1 else 12
    day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
    return dt.date(year, month, day)


def expected_counts(practices: dict[str, dict], today: dt.date) -> dict[str, dict[str, int]]:
    """What each chart must show, by the URL its bar links to."""
    themes = Counter(t for p in practices.values() for t in p["themes"])
    declared = [t["id"] for t in yaml.safe_load((REPO / "content/themes.yaml").read_text())]
    countries = Counter(p["location"]["country"] for p in practices.values())
    years = Counter(year_of(p["start"]) for p in practices.values())
    status = Counter("ongoing" if not p.get("end") or last_day(p["end"]) >= today else "completed"
                     for p in practices.values())
    connected = Counter()
    for p in practices.values():
        if p.get("leading_region"):
            connected[p["leading_region"]] += 1
        for code in p.get("participating_regions") or ():
            connected[code] += 1
    return {
        "themes": {f"/themes/{t}/": themes[t] for t in declared},
        "countries": {f"/regions/{c.lower()}/": n for c, n in countries.items()},
        "years": {f"/practices/started/{y}/": n for y, n in years.items()},
        "status": {f"/practices/status/{s}/": n for s, n in status.items()},
        "regions": {f"/regions/{c.lower()}/": n for c, n in connected.items()},
    }


# --- Reading the built page --------------------------------------------------------------------


def chart_svgs(html: str) -> dict[str, ET.Element]:
    """Each chart's SVG on a page, by its id prefix."""
    found = {}
    pattern = r'<svg xmlns="http://www.w3.org/2000/svg" class="chart".*?</svg>'
    for svg in re.findall(pattern, html, re.S):
        root = ET.fromstring(svg)
        found[root.find(f"{SVG}title").get("id").removesuffix("-title")] = root
    return found


def bars_of(svg: ET.Element) -> list[tuple[str, int, str]]:
    """(link or "", number beside the bar, title) for every row of a chart, top to bottom."""
    rows = []
    for row in svg:
        if row.get("class") != "chart-row":
            continue
        value = next(t for t in row.iter(f"{SVG}text") if t.get("class") == "chart-value")
        rows.append((row.get("href", ""), int(value.text), row.find(f"{SVG}title").text))
    return rows


class TableReader(HTMLParser):
    """Rows of every <table> in a page: (first link or "", [cell texts])."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[tuple[str, list[str]]]] = []
        self.captions: list[str] = []
        self._row: list[str] | None = None
        self._link = ""
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None
        self._body = False

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "caption":
            self._caption = []
        elif tag == "tbody":
            self._body = True
        elif tag == "tr" and self._body:
            self._row, self._link = [], ""
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and self._row is not None and not self._link:
            self._link = dict(attrs).get("href", "")

    def handle_endtag(self, tag):
        if tag == "caption" and self._caption is not None:
            self.captions.append("".join(self._caption).strip())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append((self._link, self._row))
            self._row = None
        elif tag == "tbody":
            self._body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._caption is not None:
            self._caption.append(data)


def read_tables(html: str) -> TableReader:
    reader = TableReader()
    reader.feed(html)
    return reader


def card_links(html: str) -> list[str]:
    return re.findall(r'<h3 class="card-title"><a href="([^"]+)">', html)


# --- The example site against independent counts -----------------------------------------------


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    """The example site built on a fixed day, so that statuses are known."""
    from s3site.builder import build

    output = tmp_path_factory.mktemp("stats") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        build(REPO, output=output)
    return output


def test_chart_numbers_equal_counts_made_from_the_content_files(example):
    expected = expected_counts(example_practices(), TODAY)
    html = (example / "stats/index.html").read_text(encoding="utf-8")
    svgs = chart_svgs(html)
    assert set(svgs) == {f"stats-{key}-chart" for key in expected}
    for key, counts in expected.items():
        rows = bars_of(svgs[f"stats-{key}-chart"])
        shown = {href: n for href, n, _ in rows if href}
        if key == "regions":
            # The 15 most connected regions: every count shown is right, and no region
            # left out has more than the last one shown.
            assert len(rows) == min(15, len(counts))
            assert all(counts[href] == n for href, n in shown.items())
            assert sorted(counts.values(), reverse=True)[: len(rows)] == [n for _, n, _ in rows]
            assert set(shown) == set(counts)  # the example has fewer than 15
        else:
            assert shown == {href: n for href, n in counts.items() if n or key == "themes"}, key
        # Every bar links to a page of the site.
        for href in shown:
            assert (example / href.lstrip("/") / "index.html").is_file(), href


def test_the_example_counts_are_not_trivial():
    """Guards the comparison above against passing on empty or uniform data."""
    counts = expected_counts(example_practices(), TODAY)
    assert len(example_practices()) >= 12
    assert max(counts["themes"].values()) >= 4 and min(counts["themes"].values()) >= 1
    assert len(counts["years"]) >= 8 and max(counts["years"].values()) >= 2
    assert counts["status"]["/practices/status/ongoing/"] > counts["status"][
        "/practices/status/completed/"] > 0
    assert len(counts["regions"]) >= 5 and len(counts["countries"]) >= 10


def test_tables_give_the_same_numbers_as_the_bars(example):
    html = (example / "stats/index.html").read_text(encoding="utf-8")
    tables = read_tables(html)
    svgs = list(chart_svgs(html).values())
    assert len(tables.tables) == len(svgs) == 5
    assert tables.captions == ["Practices per theme", "Practices per country",
                               "Practices per start year", "Ongoing and completed practices",
                               "Most connected regions"]
    for table, svg in zip(tables.tables, svgs, strict=True):
        bars = bars_of(svg)
        assert [(link, int(cells[-1])) for link, cells in table] == [(h, n) for h, n, _ in bars]
    # The regions table splits each total into leads and takes part.
    regions = {link: cells for link, cells in tables.tables[-1]}
    assert regions["/regions/es22/"] == ["Comunidad Foral de Navarra", "Spain", "1", "0", "1"]
    assert regions["/regions/fi1d7/"] == ["Lappi", "Finland", "0", "1", "1"]


def test_year_and_status_pages_list_exactly_their_practices(example):
    practices = example_practices()
    by_year: dict[int, set[str]] = {}
    for slug, data in practices.items():
        by_year.setdefault(year_of(data["start"]), set()).add(f"/practices/{slug}/")
    for year, urls in by_year.items():
        html = (example / f"practices/started/{year}/index.html").read_text(encoding="utf-8")
        assert f"<h1>Practices started in {year}</h1>" in html
        assert set(card_links(html)) == urls
        assert '<a href="/stats/">Statistics</a>' in html  # breadcrumb
    completed = {f"/practices/{slug}/" for slug, data in practices.items()
                 if data.get("end") and last_day(data["end"]) < TODAY}
    html = (example / "practices/status/completed/index.html").read_text(encoding="utf-8")
    assert set(card_links(html)) == completed
    ongoing = (example / "practices/status/ongoing/index.html").read_text(encoding="utf-8")
    ongoing += (example / "practices/status/ongoing/page/2/index.html").read_text(encoding="utf-8")
    assert set(card_links(ongoing)) == {f"/practices/{s}/" for s in practices} - completed


def test_stats_is_linked_from_home_footer_and_nav_and_home_shows_a_small_chart(example):
    home = (example / "index.html").read_text(encoding="utf-8")
    svgs = chart_svgs(home)
    assert list(svgs) == ["home-themes-chart"]
    rows = bars_of(svgs["home-themes-chart"])
    assert len(rows) == 6 and rows[0] == ("/themes/research-innovation/", 5,
                                          "Research and innovation: 5 practices")
    assert '<a href="/stats/">All statistics</a>' in home
    for page in ("index.html", "practices/index.html", "about/index.html", "404.html"):
        html = (example / page).read_text(encoding="utf-8")
        assert '<li><a href="/stats/">Statistics</a></li>' in html  # footer
    stats = (example / "stats/index.html").read_text(encoding="utf-8")
    assert '<a href="/stats/" aria-current="page">Statistics</a>' in stats
    sitemap = (example / "sitemap.xml").read_text(encoding="utf-8")
    for url in ("stats/", "practices/started/2018/", "practices/status/ongoing/page/2/"):
        assert f"<loc>http://127.0.0.1:8000/{url}</loc>" in sitemap


def test_every_chart_has_title_axis_labels_numbers_and_links(example):
    html = (example / "stats/index.html").read_text(encoding="utf-8")
    for key, svg in chart_svgs(html).items():
        section = re.search(rf'<section class="chart-section" aria-labelledby="(stats-\w+)">\n'
                            rf'<h2 id="\1">([^<]+)</h2>\n<figure class="chart-figure">\n'
                            rf'<svg[^>]*aria-labelledby="{key}-title"', html)
        assert section, key
        assert svg.find(f"{SVG}title").text == section.group(2)
        assert svg.get("role") == "group" and svg.get("aria-describedby") == f"{key}-desc"
        assert svg.find(f"{SVG}desc").text
        axes = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-axis"]
        assert len(axes) == 2 and axes[1].startswith("Number of practices")
        ticks = [int(t.text) for t in svg.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
        assert ticks[0] == 0 and ticks == sorted(ticks)
        for href, _, title in bars_of(svg):
            assert href and title  # every bar of the example links somewhere and is named
    assert "<script" not in html.split("</head>")[1]  # no JavaScript


# --- The drawing -------------------------------------------------------------------------------


@pytest.mark.parametrize(("top", "scale"), [(0, (1, 1)), (1, (1, 1)), (3, (3, 1)), (5, (5, 1)),
                                             (6, (6, 2)), (11, (15, 5)), (42, (50, 10)),
                                             (100, (100, 20)), (1234, (1500, 500))])
def test_axis_scale_has_round_steps_and_at_most_five_ticks(top, scale):
    assert axis_scale(top) == scale
    maximum, step = scale
    assert maximum >= top and maximum // step <= 5 and maximum % step == 0


def test_long_labels_wrap_onto_three_lines_then_are_cut():
    assert wrap_label("Social economy") == ["Social economy"]
    assert wrap_label("Kalymnos, Karpathos – Iroiki Nisos Kasos, Kos, Rodos (Greece)") == [
        "Kalymnos, Karpathos – Iroiki", "Nisos Kasos, Kos, Rodos", "(Greece)"]
    lines = wrap_label("word " * 40)
    assert len(lines) == 3 and lines[2].endswith("…") and all(len(line) <= 30 for line in lines)
    assert wrap_label("x" * 50) == ["x" * 29 + "…"]


CHART = Chart("demo", "Demo <chart>", "Thing", "Number of practices", "A note.",
              (Bar("Alpha & co", 8, "/a/"), Bar("Beta", 2, "/b/"), Bar("Gamma", 0, "")))


def test_svg_is_well_formed_accessible_and_proportional():
    svg = render_chart(CHART, id_prefix="x")
    root = ET.fromstring(svg)
    assert root.get("role") == "group" and root.get("aria-labelledby") == "x-title"
    assert root.find(f"{SVG}title").text == "Demo <chart>"
    assert root.get("viewBox") is None and root.get("width") == "100%"
    assert root.get("style") == f"height:{root.get('height')}px"
    rows = list(root.iter())
    links = [e for e in rows if e.tag == f"{SVG}a"]
    assert [a.get("href") for a in links] == ["/a/", "/b/"]
    assert [a.find(f"{SVG}title").text for a in links] == ["Alpha & co: 8 practices",
                                                          "Beta: 2 practices"]
    # The bar without a page is drawn but is no link.
    assert bars_of(root) == [("/a/", 8, "Alpha & co: 8 practices"), ("/b/", 2, "Beta: 2 practices"),
                             ("", 0, "Gamma: 0 practices")]
    widths = [float(r.get("width").rstrip("%")) for r in rows
              if r.tag == f"{SVG}rect" and "chart-bar" in (r.get("class") or "")]
    assert widths == [pytest.approx(84), pytest.approx(21)]  # axis 0..10, 8 and 2
    # The hit area makes each row's link at least 24 px tall.
    hits = [r for r in rows if r.get("class") == "chart-hit"]
    assert all(int(h.get("height")) >= 24 for h in hits)


def test_limit_and_title_make_the_small_version():
    root = ET.fromstring(render_chart(CHART, id_prefix="home", limit=1, title="Top one"))
    assert root.find(f"{SVG}title").text == "Top one"
    assert bars_of(root) == [("/a/", 8, "Alpha & co: 8 practices")]


def test_stacked_bars_show_both_parts_and_name_them():
    chart = Chart("r", "Regions", "Region", "Number of practices led or joined", "",
                  (Bar("Navarra", 3, "/r/es22/", (1, 2), "Spain"),),
                  context_label="Country", part_labels=("Leads", "Takes part"))
    root = ET.fromstring(render_chart(chart, id_prefix="r"))
    segments = [r for r in root.iter(f"{SVG}rect") if "chart-bar" in (r.get("class") or "")]
    assert [s.get("class") for s in segments] == ["chart-bar chart-bar-1", "chart-bar chart-bar-2"]
    assert [s.get("x") for s in segments] == ["0%", "28%"]
    assert bars_of(root) == [
        ("/r/es22/", 3, "Navarra (Spain): 3 practices (leads 1, takes part 2)")]


# --- Small sites -------------------------------------------------------------------------------


def test_most_connected_regions_keep_the_top_fifteen(make_site, run):
    codes = ["FI1D7", "ITH5", "ES62", "SE124", "DEF07", "ES708", "FRM0", "ES22", "EL421", "PL21",
             "CZ064", "DK011", "NL350", "PT1A0", "SI04", "FRE1", "IE04"]
    practices = {
        f"p{i}.md": practice_text(title=f"P{i}", leading_region=codes[i],
                                  participating_regions="[" + ", ".join(codes[i + 1:]) + "]")
        for i in range(3)
    }
    root = make_site(practices)
    status, _, err = run("build", "--root", root)
    assert status == 0, err
    html = (root / "output/stats/index.html").read_text()
    rows = bars_of(chart_svgs(html)["stats-regions-chart"])
    assert len(rows) == 15
    # ES62 leads one practice and takes part in two; the 14 after it take part in all three;
    # FI1D7 (one) and ITH5 (two) fall out of the top 15.
    assert [n for _, n, _ in rows] == [3] * 15
    shown = {href for href, _, _ in rows}
    assert "/regions/fi1d7/" not in shown and "/regions/ith5/" not in shown
    assert any(title.endswith("(Spain): 3 practices (leads 1, takes part 2)") for *_, title in rows)
    assert sum(title.endswith("(leads 0, takes part 3)") for *_, title in rows) == 14


def test_status_without_practices_is_a_bar_without_a_link(make_site, run):
    root = make_site({"a.md": practice_text()})
    status, _, err = run("build", "--root", root)
    assert status == 0, err
    output = root / "output"
    rows = bars_of(chart_svgs((output / "stats/index.html").read_text())["stats-status-chart"])
    assert rows == [("/practices/status/ongoing/", 1, "Ongoing: 1 practice"),
                    ("", 0, "Completed: 0 practices")]
    assert not (output / "practices/status/completed").exists()


def test_stats_page_is_made_again_when_a_count_changes_only(make_site, run):
    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="B", start="2019")})
    assert run("build", "--root", root)[0] == 0
    page = root / "output/stats/index.html"
    before = page.read_text()
    stamp = page.stat().st_mtime_ns
    # Another description: no count changes, the page is left alone.
    (root / "content/practices/a.md").write_text(practice_text(body="Another text.\n"))
    assert run("build", "--root", root)[0] == 0
    assert page.stat().st_mtime_ns == stamp
    # Another start year: the chart changes.
    (root / "content/practices/a.md").write_text(practice_text(start="2021"))
    assert run("build", "--root", root)[0] == 0
    after = page.read_text()
    assert after != before and 'href="/practices/started/2021/"' in after
    assert (root / "output/practices/started/2021/index.html").is_file()
    assert not (root / "output/practices/started/2018").exists()
