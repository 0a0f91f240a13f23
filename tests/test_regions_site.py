"""Regions in the built site: resolution, hierarchy pages, types and the map."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import REPO, SITE_YAML, practice_text

from s3site.builder import load


def build(run, root: Path, *args: str) -> Path:
    status, out, err = run("build", "--root", root, *args)
    assert status == 0, err
    return root / "output"


def test_seed_practice_resolves_its_regions():
    site = load(REPO).site
    seed = next(p for p in site.practices if p.slug == "establishment-of-social-economy-s3-platform")
    assert [r.code for r in seed.location_chain] == ["FI", "FI1", "FI1D"]
    assert seed.leading.code == "ES22"
    assert [r.code for r in seed.participants] == ["FI1D7", "ITH5", "ES62", "SE124"]
    for code in ("FI1D7", "ITH5", "ES62", "SE124"):
        assert seed in site.regions[code].joins, code
    assert seed in site.regions["ES22"].leads


def test_participating_region_page_lists_practice_under_takes_part(run, tmp_path):
    build(run, REPO, "--output", tmp_path / "out")
    html = (tmp_path / "out/regions/se124/index.html").read_text()
    joins = html.split('id="joins"')[1]
    assert "/practices/establishment-of-social-economy-s3-platform/" in joins
    crumbs = html.split('class="breadcrumb"')[1].split("</nav>")[0]
    assert [m for m in re.findall(r'href="/regions/([a-z0-9]*)/?"', crumbs)] == ["", "se", "se1", "se12", "se124"]


def test_names_resolve_within_the_practice_country(make_site, run):
    root = make_site({
        "it.md": practice_text(location="{country: IT, region: Nord-Est}"),
        "ro.md": practice_text(title="RO", location="{country: RO, region: Nord-Est}"),
        "el.md": practice_text(title="EL", location="{country: GR, region: EL421}"),
        "names.md": practice_text(title="Names", location="{country: SE, region: orebro lan}",
                                  participating_regions="[Lapland, Navarre]"),
    })
    site = load(root).site
    by_slug = {p.slug: p for p in site.practices}
    assert by_slug["it"].location.code == "ITH"
    assert by_slug["ro"].location.code == "RO21"
    assert by_slug["el"].location_chain[0].code == "EL"
    assert by_slug["names"].location.code == "SE124"
    assert [r.code for r in by_slug["names"].participants] == ["FI1D7", "ES22"]


def test_region_errors_name_the_field(make_site, run):
    root = make_site({
        "mismatch.md": practice_text(location="{country: FI, region: ES22}"),
        "ambiguous.md": practice_text(title="A", location="{country: DE, region: München}"),
        "unknown.md": practice_text(title="U", participating_regions="[Emilia-Romana]"),
    })
    status, out, err = run("build", "--root", root)
    assert status == 1
    assert re.search(r"mismatch.md:5:\d+: error: location.region: region 'ES22' .* is not in FI", err)
    assert re.search(r"ambiguous.md:5:\d+: error: location.region: .*DE212.*DE21H|DE21H.*DE212", err)
    assert re.search(r"unknown.md:8:\d+: error: participating_regions: unknown region 'Emilia-Romana'.*ITH5", err)


def test_regions_yaml_adds_a_city_and_renames_a_region(make_site, run):
    root = make_site(
        {"p.md": practice_text(location="{country: FI, region: Rovaniemi}")},
        files={"content/regions.yaml": (
            "regions:\n  - code: FI-ROV\n    name: Rovaniemi\n    parent: FI1D7\n"
            "names:\n  FI1D: Northern and Eastern Finland\n")},
    )
    output = build(run, root)
    html = (output / "regions/fi-rov/index.html").read_text()
    assert "Rovaniemi" in html and "/practices/p/" in html
    assert "Northern and Eastern Finland" in (output / "regions/fi1d/index.html").read_text()


def test_regions_yaml_errors_have_lines(make_site, run):
    root = make_site(files={"content/regions.yaml": "regions:\n  - code: X1\n    name: X\n    parent: NOPE\n"})
    status, out, err = run("build", "--root", root)
    assert status == 1 and "content/regions.yaml:4:" in err and "NOPE" in err


def test_hierarchy_counts_include_descendants(make_site, run):
    root = make_site({
        "a.md": practice_text(location="{country: FI, region: FI1D7}"),
        "b.md": practice_text(title="B", location="{country: FI, region: FI1D}"),
        "c.md": practice_text(title="C", location="{country: FI}"),
        "d.md": practice_text(title="D", location="{country: ES, region: ES22}"),
    })
    site = load(root).site
    assert site.regions["FI"].count == 3
    assert site.regions["FI1D"].count == 2
    assert site.regions["FI1D7"].count == 1
    assert site.regions["ES"].count == 1
    html = (build(run, root) / "regions/index.html").read_text()
    tree = html.split('class="region-tree"')[1]
    assert re.search(r'href="/regions/fi/">Finland</a> <span class="code">FI</span> <span class="count"[^>]*>3<', tree)
    assert "/regions/fr/" not in tree  # only branches that hold practices


def test_practices_by_type_of_region(make_site, run):
    root = make_site({
        "island.md": practice_text(location="{country: EL, region: EL421}"),
        "city.md": practice_text(title="City", location="{country: FI, region: FI1B1}"),
    })
    output = build(run, root)
    html = (output / "regions/types/island/index.html").read_text()
    assert "/practices/island/" in html and "/practices/city/" not in html
    assert "Island" in (output / "regions/types/index.html").read_text()
    assert "Island" in (output / "regions/el421/index.html").read_text()


def test_map_links_each_country_with_practices(make_site, run):
    root = make_site({
        "a.md": practice_text(),
        "b.md": practice_text(title="B", location="{country: ES}"),
    })
    html = (build(run, root) / "index.html").read_text()
    svg = re.search(r"<svg.*?</svg>", html, re.DOTALL).group(0)
    tree = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    links = [a.get("href") for a in tree.iter(f"{ns}a")]
    assert sorted(links) == ["/regions/es/", "/regions/fi/"]
    assert tree.find(f"{ns}title") is not None
    table = html.split('class="map-table"')[1]
    assert '<a href="/regions/fi/">Finland</a></th><td>1</td>' in table


def test_a_regions_feed_holds_its_newest_practices_located_leading_or_taking_part_each_once(make_site, run):
    # ES22's practices, newest first: "both" (located in ES22 and leading there), "joins",
    # "leads", "located". A feed of three shows the first three, "both" once.
    root = make_site({
        "located.md": practice_text(title="Located", location="{country: ES, region: ES22}", start="2015-01"),
        "leads.md": practice_text(title="Leads", leading_region="ES22", start="2016-01"),
        "joins.md": practice_text(title="Joins", participating_regions="[ES22]", start="2017-01"),
        "both.md": practice_text(title="Both", location="{country: ES, region: ES22}", leading_region="ES22",
                                 start="2018-01"),
        "elsewhere.md": practice_text(title="Elsewhere", start="2019-01"),
    }, site=SITE_YAML + "feed_items: 3\n")
    output = build(run, root)
    feed = ET.parse(output / "regions" / "es22" / "feed.xml").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    titles = [entry.find(f"{atom}title").text for entry in feed.iter(f"{atom}entry")]
    assert titles == ["Both", "Joins", "Leads"]
    # Spain's own lists: the practices located in it (leading and taking part name ES22 only).
    country = ET.parse(output / "regions" / "es" / "feed.xml").getroot()
    assert [e.find(f"{atom}title").text for e in country.iter(f"{atom}entry")] == ["Both", "Located"]
