"""Incremental and cached builds give exactly what a clean build gives."""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from conftest import THEMES_YAML, practice_text, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3site import fingerprint, parallel
from s3site import output as output_module
from s3site.builder import build
from s3site.cache import CHECKSUM_SIZE, CODE_SALT, MAGIC, ParseCache, decode, digest, encode
from s3site.resolve import Resolver
from s3site.sources import FileDigests, Resolved, scan

SITE = "title: T\nbase_url: https://example.org/sub/\nper_page: 2\nsearch: false\n"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def clean_build(root: Path, tmp: Path) -> dict[str, bytes]:
    out = tmp / "clean-output"
    if out.exists():
        shutil.rmtree(out)
    build(root, output=out, use_cache=False, workers=1)
    return tree(out)


def png(width: int, height: int) -> bytes:
    """The head of a PNG file: enough for its size to be read."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
            + struct.pack(">I", zlib.crc32(b"IHDR" + header)))


TITLES = st.sampled_from(["Alpha", "Beta", "Gamma", "Delta", "Lapland coops", "Island power"])
LOCATIONS = st.sampled_from(
    ["{country: FI, region: FI1D}", "{country: FI, region: FI1D7}", "{country: ES}",
     "{country: EL, region: EL421}", "{country: SE, region: SE124}"]
)
THEMES = st.sampled_from(["[social-economy]", "[energy]", "[energy, social-economy]", "[smart-specialisation]"])
ENDS = st.sampled_from([None, "2019", "2030-01"])
BODIES = st.sampled_from(["Text one.\n", "Other text.\n\n## Evidence of success\n\nGood.\n", "Third *body*.\n",
                          "Pictured.\n\n![Logo](/logo.png)\n"])
NAMES = st.sampled_from(["a.md", "b.md", "c.md", "d.md", "sub/e.md"])


@st.composite
def practice_files(draw) -> str:
    return practice_text(title=draw(TITLES), location=draw(LOCATIONS), themes=draw(THEMES),
                         end=draw(ENDS), body=draw(BODIES),
                         participating_regions=draw(st.sampled_from([None, "[ES22]", "[ITH5, SE124]"])))


PAGE_TEXTS = st.sampled_from([
    None,  # deleted
    "---\ntitle: About\nmenu: 1\n---\n\nAbout us.\n",
    "---\ntitle: News\nmenu: 2\ndescription: What is new.\n---\n\nNews *here*.\n",
    "---\ntitle: Notes\n---\n\nNot in the menu.\n",
])
# Every variant keeps the themes the practices use.
THEME_FILES = st.sampled_from([
    THEMES_YAML,
    THEMES_YAML.replace("Low-carbon energy", "Energy"),
    THEMES_YAML + "- id: transport\n  title: Transport\n",
])
SITE_FILES = st.sampled_from([SITE, SITE.replace("per_page: 2", "per_page: 3"), SITE + "related: 1\n"])
STATIC_FILES = st.sampled_from([None, b"one", b"three!!"])  # sizes differ: size and time stand for content

PAGE_HEAD = "{% extends 'base.html' %}{% block main %}<h1>{{ meta.title }}</h1>"
THEME_NAMING_THE_OLDEST = (PAGE_HEAD + "{% if term.practices %}<p>Oldest: {{ term.practices[-1].title }}</p>"
                           "{% endif %}{% endblock %}")
# Region pages that read other regions' lists: through the term's children, its chain, or a lookup.
REGION_NAMING_EACH_SUBREGIONS_NEWEST = (
    PAGE_HEAD + "{% for child in term.children if child.located %}<p>{{ child.code }}: {{ child.located[0].title }}"
    "</p>{% endfor %}{% endblock %}")
REGION_NAMING_ITS_COUNTRYS_OLDEST = (
    PAGE_HEAD + "{% set country = term.chain | first %}{% if country.located %}<p>{{ country.located[-1].title }}</p>"
    "{% endif %}{% endblock %}")
OPERATIONS = st.one_of(
    st.tuples(st.just("write"), NAMES, practice_files()),
    st.tuples(st.just("delete"), NAMES, st.none()),
    st.tuples(st.just("rename"), NAMES, NAMES),
    st.tuples(st.just("rewrite unchanged"), NAMES, st.none()),
    # The last card shows more than a card's fields: every list then shows whole practices.
    st.tuples(st.just("template"), st.sampled_from(["", "<li>{{ item.title }}</li>\n",
                                                    "<li>{{ item.title }}: {{ item.description_html }}</li>\n"]),
              st.none()),
    # A theme page that reads the term's practices, not only the pager's.
    st.tuples(st.just("theme template"), st.sampled_from(["", THEME_NAMING_THE_OLDEST]), st.none()),
    st.tuples(st.just("region template"), st.sampled_from(
        ["", REGION_NAMING_EACH_SUBREGIONS_NEWEST, REGION_NAMING_ITS_COUNTRYS_OLDEST]), st.none()),
    st.tuples(st.just("page"), st.sampled_from(["about.md", "news.md"]), PAGE_TEXTS),
    st.tuples(st.just("file"), st.just("content/themes.yaml"), THEME_FILES),
    st.tuples(st.just("file"), st.just("content/site.yaml"), SITE_FILES),
    st.tuples(st.just("static"), st.sampled_from(["logo.txt", "docs/a.txt"]), STATIC_FILES),
    st.tuples(st.just("static"), st.just("logo.png"), st.sampled_from([None, png(10, 10), png(20, 30)])),
    # The cache deleted: the next build has no keys for the spare folder, nor for what is published.
    st.tuples(st.just("forget cache"), st.just(""), st.none()),
    # Another day: 2026-01-01, or 2030-02-01, after which a practice ending in 2030-01 has ended.
    st.tuples(st.just("day"), st.sampled_from(["1767225600", "1896134400"]), st.none()),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# In memory: builds keep what they parsed in a dict between them, as the preview does.
@given(steps=st.lists(st.lists(OPERATIONS, min_size=1, max_size=3), min_size=1, max_size=4), in_memory=st.booleans())
def test_any_edits_then_incremental_build_equal_a_clean_build(tmp_path_factory, steps, in_memory):
    tmp = tmp_path_factory.mktemp("incremental")
    root = write_site(tmp / "site", {"a.md": practice_text(), "b.md": practice_text(title="B")}, site=SITE)
    memory = {} if in_memory else None
    day = os.environ.pop("SOURCE_DATE_EPOCH", None)  # the steps set their own
    try:
        build(root, workers=1, memory=memory)
        check_edits(root, root / "content/practices", tmp, steps, memory)
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
        if day is not None:
            os.environ["SOURCE_DATE_EPOCH"] = day


OVERRIDES = {"template": "partials/card.html", "theme template": "theme.html", "region template": "region.html"}


def check_edits(root: Path, practices: Path, tmp: Path, steps: list, memory: dict | None) -> None:
    for batch in steps:
        for kind, name, value in batch:
            path = practices / name
            if kind == "write":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(value)
            elif kind == "delete" and len(list(practices.rglob("*.md"))) > 1:
                path.unlink(missing_ok=True)
            elif kind == "rename" and path.exists() and not (practices / value).exists():
                (practices / value).parent.mkdir(parents=True, exist_ok=True)
                path.rename(practices / value)
            elif kind == "rewrite unchanged" and path.exists():
                path.write_bytes(path.read_bytes())
            elif kind in OVERRIDES:
                override = root / "templates" / OVERRIDES[kind]
                if name:
                    override.parent.mkdir(parents=True, exist_ok=True)
                    override.write_text(name)
                else:
                    override.unlink(missing_ok=True)
            elif kind == "forget cache":
                shutil.rmtree(root / ".s3site-cache", ignore_errors=True)
            elif kind == "day":
                os.environ["SOURCE_DATE_EPOCH"] = name
            elif kind in ("page", "file", "static"):
                target = {"page": root / "content/pages" / name, "file": root / name,
                          "static": root / "content/static" / name}[kind]
                if value is None:
                    target.unlink(missing_ok=True)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(value if isinstance(value, bytes) else value.encode())
        build(root, workers=1, memory=memory)
        assert tree(root / "output") == clean_build(root, tmp)


def test_retitling_a_practice_renders_again_only_the_list_pages_that_show_it(make_site, monkeypatch, tmp_path):
    from s3site import builder

    practices = {f"p{i}.md": practice_text(title=f"P{i}", start=f"201{i}-01") for i in range(1, 6)}
    # Sharing no place or theme with the others, p0 is none's related practice: its
    # edit leaves their records as they were (a record lists its related practices).
    elsewhere = {"location": "{country: ES}", "themes": "[energy]"}
    practices["p0.md"] = practice_text(title="P0", start="2010-01", **elsewhere)
    root = make_site(practices, site=SITE)  # two practices a page: three pages a list
    build(root, workers=1)
    lists = [path for path in tree(root / "output")
             if path.startswith(("themes/social-economy/", "regions/fi1d/")) and path.endswith(".html")]
    showing = {path for path in lists if "P2" in (root / "output" / path).read_text()}
    assert len(lists) == 6 and len(showing) == 2
    rendered = []
    real = builder.render_output
    monkeypatch.setattr(builder, "render_output", lambda output, *rest: rendered.append(output.path)
                        or real(output, *rest))
    (root / "content/practices/p2.md").write_text(practice_text(title="Renamed", start="2012-01"))
    build(root, workers=1)
    assert {path for path in lists if path in rendered} == showing
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_a_template_that_lists_a_terms_practices_is_made_again_when_one_changes(make_site, tmp_path):
    practices = {f"p{i}.md": practice_text(title=f"P{i}", start=f"201{i}-01") for i in range(6)}
    # The first page lists the newest two, and names the oldest.
    root = make_site(practices, site=SITE, templates={"theme.html": THEME_NAMING_THE_OLDEST})
    build(root, workers=1)
    first_page = root / "output/themes/social-economy/index.html"
    assert "Oldest: P0" in first_page.read_text()
    (root / "content/practices/p0.md").write_text(practice_text(title="Renamed", start="2010-01"))
    build(root, workers=1)
    assert "Oldest: Renamed" in first_page.read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_a_template_that_counts_a_terms_practices_is_made_again_when_a_list_grows(make_site, tmp_path):
    region = "{% extends 'base.html' %}{% block main %}<h1>{{ meta.title }}</h1><p>Involved: {{ term.involvement }}</p>{% endblock %}"
    root = make_site({"p.md": practice_text(title="P")}, site=SITE, templates={"region.html": region})
    build(root, workers=1)
    page = root / "output/regions/fi1d/index.html"
    assert "Involved: 1" in page.read_text()
    # Located elsewhere: FI1D's list of practices located there is the same, its count of involvement not.
    (root / "content/practices/q.md").write_text(practice_text(
        title="Q", location="{country: ES, region: ES22}", participating_regions="[FI1D]"))
    build(root, workers=1)
    assert "Involved: 2" in page.read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def located(region: str) -> str:
    return f"{{country: {region[:2]}, region: {region}}}"


# Each: an override, the practices (newest last), and an edit after which a page shows
# another region's list differently while the page's own term lists the same practices.
REACHING_OTHER_REGIONS = {
    "a subregion's list, through the children": (
        "region.html", REGION_NAMING_EACH_SUBREGIONS_NEWEST, ["FI1B", "FI1D", "FI1D"],
        ("p0.md", practice_text(title="Renamed", start="2010-01", location=located("FI1B")))),
    "a subregion's subregions, through the package's region tree": (
        "region.html", PAGE_HEAD + "{% with nodes = term.children, top = True %}"
        "{% include 'partials/region_tree.html' %}{% endwith %}{% endblock %}", ["FI1D", "FI1D", "FI1D"],
        ("p0.md", practice_text(title="P0", start="2010-01", location=located("FI1B")))),
    "the country's list, through the chain": (
        "region.html", REGION_NAMING_ITS_COUNTRYS_OLDEST, ["FI1B", "FI1D", "FI1D"],
        ("p0.md", practice_text(title="Renamed", start="2010-01", location=located("FI1B")))),
    "its own list, through the chain's last": (
        "region.html", PAGE_HEAD + "{% set here = term.chain | last %}<p>{{ here.located[-1].title }}</p>"
        "{% endblock %}", ["FI1D", "FI1D", "FI1D"],
        ("p0.md", practice_text(title="Renamed", start="2010-01", location=located("FI1D")))),
    "the ancestors' counts, through the chain": (
        "region.html", PAGE_HEAD + "{% for t in term.chain %}<p>{{ t.code }} {{ t.count }}</p>{% endfor %}"
        "{% endblock %}", ["FI1D"], ("q.md", practice_text(title="Q", location=located("FI1B")))),
    "its own list, looked up by code": (
        "region.html", PAGE_HEAD + "{% set here = term.code | region_term %}<p>{{ here.located[-1].title }}</p>"
        "{% endblock %}", ["FI1D", "FI1D", "FI1D"],
        ("p0.md", practice_text(title="Renamed", start="2010-01", location=located("FI1D")))),
    "another region's count, looked up on a type's page": (
        "region_type.html", PAGE_HEAD + "{% for region in term.regions %}{% with t = region.code | region_term %}"
        "<p>{{ region.code }} {{ t.count }}</p>{% endwith %}{% endfor %}{% endblock %}",
        ["FI1B1", "FI200", "FI1B1", "FI200"],
        ("p0.md", practice_text(title="P0", start="2010-01", location=located("FI200")))),
    "the regions, read from the site by key": (
        "region.html", PAGE_HEAD + "{{ site['regions']['FI'].count }}{% endblock %}", ["FI1D"],
        ("q.md", practice_text(title="Q", location=located("FI1B")))),
    "its own list, in code after a string that looks like the code's end": (
        "region.html", PAGE_HEAD + "{{ '}}' ~ term.located[-1].title }}{% endblock %}", ["FI1D", "FI1D", "FI1D"],
        ("p0.md", practice_text(title="Renamed", start="2010-01", location=located("FI1D")))),
}


@pytest.mark.parametrize("case", REACHING_OTHER_REGIONS.values(), ids=REACHING_OTHER_REGIONS.keys())
def test_a_page_reaching_other_regions_is_made_again_when_they_change(make_site, tmp_path, case):
    template, override, places, (name, text) = case
    practices = {f"p{i}.md": practice_text(title=f"P{i}", start=f"201{i}-01", location=located(place))
                 for i, place in enumerate(places)}
    root = make_site(practices, site=SITE, templates={template: override})
    build(root, workers=1)
    (root / "content/practices" / name).write_text(text)
    build(root, workers=1)
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_practice_and_region_pages_link_other_regions_without_depending_on_their_lists(make_site, monkeypatch,
                                                                                       tmp_path):
    from s3site import builder

    practices = {"p0.md": practice_text(title="P0", location=located("FI1D7")),
                 "p1.md": practice_text(title="P1", location=located("FI1B"), participating_regions="[ES22]"),
                 "p2.md": practice_text(title="P2", location=located("FI1D7"))}  # p0's one related practice
    root = make_site(practices, site=SITE + "related: 1\n")
    build(root, workers=1)
    practice_page = root / "output/practices/p0/index.html"
    region_page = root / "output/regions/fi1d7/index.html"
    html = practice_page.read_text()
    assert 'href="/sub/regions/fi1d/"' in html and 'href="/sub/regions/fi/"' in html
    assert 'href="/sub/regions/fi1/"' in region_page.read_text()
    country = (root / "output/regions/fi/index.html").read_text()
    assert 'href="/sub/regions/fi1/">Manner-Suomi</a> <span class="count">3</span>' in country
    rendered = []
    real = builder.render_output
    monkeypatch.setattr(builder, "render_output", lambda output, *rest: rendered.append(output.path)
                        or real(output, *rest))
    # Retitled, in the same country: p0's page and its region's do not show p1, only link its regions.
    (root / "content/practices/p1.md").write_text(
        practice_text(title="Renamed", location=located("FI1B"), participating_regions="[ES22]"))
    build(root, workers=1)
    assert "practices/p1/index.html" in rendered
    assert "practices/p0/index.html" not in rendered and "regions/fi1d7/index.html" not in rendered
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("card", [
    "<li>{{ item.title }} (one of {{ site.practices | length }})</li>\n",
    "<li>{{ item.title }} <script type='application/ld+json'>{{ item | jsonld }}</script></li>\n",
], ids=["reading the site", "with schema.org data"])
def test_lists_are_made_again_when_what_their_cards_read_changes(make_site, tmp_path, card):
    practices = {"far.md": practice_text(title="Far", location=located("ES22"), themes="[energy]")}
    root = make_site(practices, site=SITE, templates={"partials/card.html": card})
    build(root, workers=1)
    # Elsewhere, or the same practice with other keywords: ES22's list of practices is the same.
    (root / "content/practices/near.md").write_text(practice_text(title="Near"))
    (root / "content/practices/far.md").write_text(
        practice_text(title="Far", location=located("ES22"), themes="[energy]", keywords="[wind]"))
    build(root, workers=1)
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("override", [
    PAGE_HEAD + "{% for t in term.located %}<p>{{ t.main_institution }}</p>{% endfor %}{% endblock %}",
    PAGE_HEAD + "<p>{{ term.located[0].main_institution }}</p>{% endblock %}",
    PAGE_HEAD + "<p>{{ (term.located | first)['main_institution'] }}</p>{% endblock %}",
    PAGE_HEAD + "<p>{{ term.located | map(attribute='main_institution') | join }}</p>{% endblock %}",
    PAGE_HEAD + "<p>{{ term.located | selectattr('main_institution', 'eq', 'Other') | list | length }}</p>"
    "{% endblock %}",
    PAGE_HEAD + '{% for p in pager.items %}{% for f in ["title", "main_institution"] %}<td>{{ p[f] }}</td>'
    '{% endfor %}{% endfor %}{% endblock %}',
    PAGE_HEAD + '{{ pager.items | map("attr", "main_institution") | join }}{% endblock %}',
    PAGE_HEAD + '{% set f = "main_institution" %}{{ pager.items | map(attribute=f) | join }}{% endblock %}',
    PAGE_HEAD + "{% for term in pager.items %}<p>{{ term.main_institution }}</p>{% endfor %}{% endblock %}",
    PAGE_HEAD + "{% macro row(meta) %}<p>{{ meta.main_institution }}</p>{% endmacro %}"
    "{% for p in pager.items %}{{ row(p) }}{% endfor %}{% endblock %}",
    PAGE_HEAD + "{% for p in pager.items %}<p>{{ loop.cycle(p, p).main_institution }}</p>{% endfor %}{% endblock %}",
    PAGE_HEAD + "{% for p in pager.items %}{% if not loop.first %}<p>{{ loop.previtem.main_institution }}</p>"
    "{% endif %}{% endfor %}{% endblock %}",
    # Printed whole: every field shows.
    PAGE_HEAD + "{% for p in pager.items %}<!-- {{ p }} -->{% endfor %}{% endblock %}",
    PAGE_HEAD + "<!-- {{ pager.items | first | pprint }} -->{% endblock %}",
    PAGE_HEAD + "<!-- {{ term.located | join(' ') }} -->{% endblock %}",
    PAGE_HEAD + "{% for region in term.chain %}<!-- {{ region ~ '' }} -->{% endfor %}{% endblock %}",
], ids=["a loop variable", "indexed", "by key", "mapped", "selected", "by a variable key", "mapped through attr",
        "mapped by a variable", "a loop variable named term", "a macro argument named meta", "cycled",
        "the loop's previous item", "printed whole", "pretty-printed", "a list joined", "a region printed whole"])
def test_lists_are_made_again_when_a_field_they_show_beyond_the_card_changes(make_site, tmp_path, override):
    practices = {"a.md": practice_text(title="A", start="2010-01"), "b.md": practice_text(title="B", start="2011-01")}
    root = make_site(practices, site=SITE, templates={"region.html": override})
    build(root, workers=1)
    (root / "content/practices/b.md").write_text(  # the newest: the first listed
        practice_text(title="B", start="2011-01", main_institution="Other"))
    build(root, workers=1)
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_a_page_showing_a_free_pages_text_is_made_again_when_it_changes(make_site, tmp_path):
    override = PAGE_HEAD + "{% for p in site.pages %}{{ p.html | safe }}{% endfor %}{% endblock %}"
    root = make_site({"a.md": practice_text()}, site=SITE, templates={"theme.html": override},
                     pages={"about.md": "---\ntitle: About\nmenu: 1\n---\n\nOld words.\n"})
    build(root, workers=1)
    (root / "content/pages/about.md").write_text("---\ntitle: About\nmenu: 1\n---\n\nNew words.\n")
    build(root, workers=1)
    assert "New words." in (root / "output/themes/social-economy/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_a_link_to_a_region_without_practices_is_the_same_in_every_build(make_site, tmp_path):
    override = PAGE_HEAD + '<a href="{{ ("SE" | region_link).url }}">{{ ("SE" | region_link).name }}</a>{% endblock %}'
    practices = {"a.md": practice_text(title="A"), "b.md": practice_text(title="B", location=located("SE124"))}
    root = make_site(practices, site=SITE, templates={"region.html": override})
    build(root, workers=1)
    (root / "content/practices/b.md").unlink()  # Sweden has no page any more
    build(root, workers=1)
    assert 'href="/sub/regions/se/">Sweden</a>' in (root / "output/regions/fi/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("include", ['"partials/extra.html" ignore missing',
                                     '["partials/extra.html", "partials/pager.html"]'])
def test_a_template_including_one_that_may_be_missing_builds(make_site, include):
    override = PAGE_HEAD + "{% include " + include + " %}{% endblock %}"
    root = make_site({"a.md": practice_text()}, site=SITE, templates={"region.html": override})
    build(root, workers=1)
    assert "<h1>Finland</h1>" in (root / "output/regions/fi/index.html").read_text()


def test_lists_showing_related_practices_are_made_again_when_one_is_retitled(make_site, tmp_path):
    card = "<li>{{ item.title }}, like {{ item.related | map(attribute='title') | join(', ') }}</li>\n"
    practices = {"far.md": practice_text(title="Far", location=located("ES22"), themes="[energy]"),
                 "near.md": practice_text(title="Near", themes="[energy]")}  # Far's related practice
    root = make_site(practices, site=SITE, templates={"partials/card.html": card})
    build(root, workers=1)
    (root / "content/practices/near.md").write_text(practice_text(title="Renamed", themes="[energy]"))
    build(root, workers=1)
    assert "Far, like Renamed" in (root / "output/regions/es22/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_lists_showing_more_of_related_practices_than_cards_are_made_again(make_site, tmp_path):
    override = (PAGE_HEAD + "{% for p in pager.items %}{% for r in p.related %}<p>{{ r.main_institution }}</p>"
                "{% endfor %}{% endfor %}{% endblock %}")
    practices = {"a.md": practice_text(title="A", start="2010-01"),  # FI1D's only practice
                 "b.md": practice_text(title="B", start="2011-01", location=located("SE124"))}  # A's related one
    root = make_site(practices, site=SITE, templates={"region.html": override})
    build(root, workers=1)
    (root / "content/practices/b.md").write_text(
        practice_text(title="B", start="2011-01", location=located("SE124"), main_institution="Other"))
    build(root, workers=1)
    assert "<p>Other</p>" in (root / "output/regions/fi1d/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_a_page_showing_related_practices_of_related_ones_is_made_again_when_one_changes(make_site, tmp_path):
    practices = {"a.md": practice_text(title="A", start="2010-01", themes="[energy]"),
                 "b.md": practice_text(title="B", start="2011-01", location=located("SE124"),
                                       themes="[energy, social-economy]"),
                 "c.md": practice_text(title="C", start="2012-01", location=located("EL421"))}
    override = (PAGE_HEAD + "{% for r in practice.related %}{% for rr in r.related %}<p>{{ rr.main_institution }}"
                "</p>{% endfor %}{% endfor %}{% endblock %}")
    root = make_site(practices, site=SITE + "related: 1\n", templates={"practice.html": override})
    build(root, workers=1)
    # C's related practice is B, whose related practice is A.
    (root / "content/practices/a.md").write_text(
        practice_text(title="A", start="2010-01", themes="[energy]", main_institution="Other"))
    build(root, workers=1)
    assert "<p>Other</p>" in (root / "output/practices/c/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_a_page_showing_the_day_of_the_build_is_made_again_the_next_day(make_site, monkeypatch, tmp_path):
    override = PAGE_HEAD + "<p>As of {{ site.build_date }}</p>{% endblock %}"
    root = make_site({"a.md": practice_text()}, site=SITE, templates={"theme.html": override})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    build(root, workers=1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767312000")
    build(root, workers=1)
    assert "As of 2026-01-02" in (root / "output/themes/social-economy/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_edit_rerenders_only_what_shows_the_practice(make_site):
    practices = {f"p{i}.md": practice_text(title=f"P{i}", location="{country: FI, region: FI1D}")
                 for i in range(6)}
    practices["far.md"] = practice_text(title="Far", location="{country: ES, region: ES22}", themes="[energy]")
    root = make_site(practices, site=SITE)
    build(root, workers=1)
    far_page = root / "output/practices/far/index.html"
    far_region = root / "output/regions/es22/index.html"
    stamps = (far_page.stat().st_mtime_ns, far_region.stat().st_mtime_ns)
    (root / "content/practices/p0.md").write_text(
        practice_text(title="P0", location="{country: FI, region: FI1D}", body="A new description.\n"))
    result = build(root, workers=1)
    assert result.rendered < result.files / 2
    assert "A new description." in (root / "output/practices/p0/index.html").read_text()
    assert (far_page.stat().st_mtime_ns, far_region.stat().st_mtime_ns) == stamps


def test_a_template_edit_makes_again_only_the_pages_made_with_it(make_site, tmp_path):
    from s3site.render import PACKAGE_TEMPLATES

    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(4)}, site=SITE)
    build(root, workers=1)
    templates = root / "templates"
    (templates / "partials").mkdir(parents=True)
    (templates / "unused.html").write_text("<p>{{ meta.title }}</p>\n")  # part of no page
    assert build(root, workers=1).rendered == 0
    practice_page = (PACKAGE_TEMPLATES / "practice.html").read_text()
    for version in (1, 2):
        (templates / "practice.html").write_text(practice_page.replace(
            "{% block main %}", f"{{% block main %}}<!-- version {version} -->", 1))
        stamps = {path: path.stat().st_mtime_ns for path in (root / "output").rglob("*.*ml")}
        result = build(root, workers=1)
        changed = {path.relative_to(root / "output").as_posix() for path, stamp in stamps.items()
                   if path.stat().st_mtime_ns != stamp}
        assert changed == {f"practices/p{i}/index.html" for i in range(4)}
        assert f"<!-- version {version} -->" in (root / "output/practices/p2/index.html").read_text()
    # The second edit rendered those four pages alone; the first override rendered every
    # list too (their keys then cover more of each practice than its card: see
    # lists_show_only_cards), though they came out the same.
    assert result.rendered == 4
    # A template a page includes is part of it too: the card, shown by every list (and the
    # related practices).
    (templates / "partials/card.html").write_text(
        (PACKAGE_TEMPLATES / "partials/card.html").read_text() + "<!-- card -->\n")
    build(root, workers=1)
    assert "<!-- card -->" in (root / "output/themes/social-economy/index.html").read_text()
    assert "<!-- card -->" in (root / "output/practices/p2/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_macros_imported_without_context_see_each_builds_site_in_the_preview(make_site):
    from s3site.render import PACKAGE_TEMPLATES

    page = (PACKAGE_TEMPLATES / "page.html").read_text().replace(
        "{% block main %}", '{% block main %}{% import "macros.html" as m %}{{ m.site_title() }}', 1)
    root = make_site({"p0.md": practice_text()}, site=SITE, pages={"about.md": "---\ntitle: About\n---\nHi\n"},
                     templates={"page.html": page,
                                "macros.html": "{% macro site_title() %}[{{ settings.title }}]{% endmacro %}"})
    memory: dict = {}  # as the preview keeps them: the templates too
    build(root, workers=1, memory=memory)
    (root / "content/site.yaml").write_text(SITE.replace("title: T", "title: New title"))
    build(root, workers=1, memory=memory)
    assert "[New title]" in (root / "output/about/index.html").read_text()


def test_templates_kept_by_the_preview_render_with_each_builds_globals(make_site):
    # Each loaded template holds its globals in a dict of its own (render._Environment): the
    # renderer of every build must load them again, or pages show the first build's site.
    root = make_site({"p0.md": practice_text(title="P0")}, site=SITE)
    memory: dict = {}
    build(root, workers=1, memory=memory)
    (root / "content/site.yaml").write_text(SITE.replace("title: T", "title: New title"))
    build(root, workers=1, memory=memory)
    page = (root / "output/practices/p0/index.html").read_text()
    assert "<title>P0 · New title</title>" in page
    assert (root / "output/index.html").read_text().count("New title") >= 2


def test_files_of_one_folder_made_by_a_worker_are_counted(make_site):
    # Kept together, they are one chunk of work: done in this process, not lost in a worker's count.
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(3)}, site=SITE)
    build(root, workers=2)
    static = root / "content/static/docs"
    static.mkdir(parents=True)
    for i in range(70):
        (static / f"f{i}.txt").write_text(f"file {i}\n")
    result = build(root, workers=2)
    assert result.written == 70
    assert {f"docs/f{i}.txt" for i in range(70)} <= set(result.changed)


def test_what_the_templates_were_found_to_read_is_kept_until_they_change(make_site, monkeypatch, tmp_path):
    readings = []
    read = fingerprint.lists_show_only_cards
    monkeypatch.setattr(fingerprint, "lists_show_only_cards", lambda templates: readings.append(1) or read(templates))
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(4)}, site=SITE)
    build(root, workers=1)
    (root / "content/practices/p0.md").write_text(practice_text(title="P0", body="New words.\n"))
    build(root, workers=1)
    assert len(readings) == 1  # the second build took what the first found
    card = root / "templates/partials/card.html"
    card.parent.mkdir(parents=True)
    card.write_text("<li>{{ item.title }}: {{ item.description_html }}</li>\n")
    build(root, workers=1)
    (root / "content/practices/p1.md").write_text(practice_text(title="P1", body="Other words.\n"))
    build(root, workers=1)
    assert len(readings) == 2  # read again for the new card, once
    assert "Other words." in (root / "output/practices/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("threads_from", [1, 10**9], ids=["threads", "one by one"])
def test_first_build_after_a_cold_one_links_the_unchanged_files(make_site, tmp_path, monkeypatch, threads_from):
    monkeypatch.setattr(output_module, "MIN_LINKS_FOR_THREADS", threads_from)
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(8)}, site=SITE)
    build(root, workers=1)  # a cold build: no spare folder to bring up to date next time
    published = root / "output"
    before = {p.relative_to(published): p.stat() for p in published.rglob("*") if p.is_file()}
    (root / "content/practices/p0.md").write_text(practice_text(title="P0", body="New words.\n"))
    result = build(root, workers=1)
    after = {p.relative_to(published): p.stat() for p in published.rglob("*") if p.is_file()}
    linked = [path for path, stat in after.items()
              if path in before and (stat.st_ino, stat.st_mtime_ns) == (before[path].st_ino, before[path].st_mtime_ns)]
    assert Path("practices/p5/index.html") in linked
    assert Path("practices/p0/index.html") not in linked
    assert len(linked) >= result.unchanged > len(after) / 2
    assert result.rendered < len(after) / 2  # kept by their keys, not found alike once rendered
    assert tree(published) == clean_build(root, tmp_path)


def test_a_spare_folder_whose_keys_are_lost_is_brought_up_to_date_not_deleted(make_site, tmp_path, monkeypatch):
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(8)}, site=SITE)
    published, spare = root / "output", root / ".output.s3site-spare"
    deleted: list[Path] = []
    rmtree = shutil.rmtree
    monkeypatch.setattr(output_module.shutil, "rmtree", lambda path, **kw: deleted.append(Path(path)) or rmtree(path, **kw))
    build(root, workers=1)
    (root / "content/practices/p0.md").write_text(practice_text(title="P0", body="New words.\n"))
    build(root, workers=1)
    for step in range(2):  # the cache deleted (as a new s3site would ignore it), then an edit
        if step == 0:
            shutil.rmtree(root / ".s3site-cache")
            # Changed again: the spare's page of p0 is no longer the published one.
            (root / "content/practices/p0.md").write_text(practice_text(title="P0", body="Newer words.\n"))
        else:
            (root / "content/practices/p1.md").write_text(practice_text(title="P1", body="Other words.\n"))
        folder = spare.stat().st_ino
        before = {p.relative_to(published): p.stat() for p in published.rglob("*") if p.is_file()}
        result = build(root, workers=1)
        assert spare not in deleted
        assert published.stat().st_ino == folder  # the spare, brought up to date and swapped in
        after = {p.relative_to(published): p.stat() for p in published.rglob("*") if p.is_file()}
        kept = [path for path, stat in after.items()
                if path in before and (stat.st_ino, stat.st_mtime_ns) == (before[path].st_ino, before[path].st_mtime_ns)]
        assert Path("practices/p5/index.html") in kept
        assert Path("practices/p1/index.html") not in kept or step == 0
        assert tree(published) == clean_build(root, tmp_path)
    assert result.rendered < len(after) / 2  # its unchanged files known by the published keys


def test_nothing_changed_is_reported_up_to_date(make_site, run):
    root = make_site(site=SITE)
    assert run("build", "--root", root)[0] == 0
    status, out, err = run("build", "--root", root)
    assert status == 0 and out.startswith("Up to date: 1 practices")


def test_deleted_practice_pages_disappear(make_site):
    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="B", aliases="[/old-b/]")}, site=SITE)
    build(root)
    assert (root / "output/practices/b/index.html").exists()
    (root / "content/practices/b.md").unlink()
    build(root)
    assert not (root / "output/practices/b").exists()
    assert not (root / "output/old-b").exists()
    build(root)  # the spare folder, brought up to date, must lose them too
    assert not (root / "output/practices/b").exists()


def test_corrupt_or_foreign_cache_is_rebuilt_not_trusted(make_site, tmp_path):
    import sqlite3

    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="B")}, site=SITE)
    build(root)
    expected = tree(root / "output")
    cache = root / ".s3site-cache"
    # Entries that are not ours: a bad checksum, then a good checksum of garbage.
    with sqlite3.connect(cache / "parse.sqlite") as db:
        db.execute("UPDATE parsed SET entry = ?", (MAGIC + b"\0" * CHECKSUM_SIZE + b"not a pickle",))
    (cache / "outputs.pickle").write_bytes(encode({"salt": "someone else", "builds": {}}))
    shutil.rmtree(root / "output")
    assert build(root).written == len(expected) - 1  # all but the marker file, made anew
    assert tree(root / "output") == expected
    # A file that is not a database at all, and a manifest with a bad checksum.
    (cache / "parse.sqlite").write_bytes(b"garbage" * 100)
    (cache / "outputs.pickle").write_bytes(MAGIC + b"\0" * CHECKSUM_SIZE + b"not a pickle")
    (root / "content/practices/a.md").write_text(practice_text(title="A changed"))
    build(root)
    assert "A changed" in (root / "output/practices/a/index.html").read_text()
    (root / "content/practices/a.md").write_text(practice_text())
    build(root)
    assert tree(root / "output") == expected
    with sqlite3.connect(cache / "parse.sqlite") as db:  # rebuilt, and in use again
        assert db.execute("SELECT count(*) FROM parsed").fetchone()[0] >= 2


@settings(max_examples=200, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text() | st.binary(),
                          lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=20),
       where=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_a_cache_entry_with_any_byte_changed_is_not_trusted(value, where, flip):
    entry = encode(value)
    assert decode(entry) == value
    position = where % len(entry)
    spoilt = entry[:position] + bytes([entry[position] ^ flip]) + entry[position + 1:]
    assert decode(spoilt) is None
    assert decode(entry[:position]) is None  # cut short
    assert decode(b"s3site-cache-1\n" + entry[len(MAGIC):]) is None  # of another format


def test_parallel_build_is_identical_to_one_process(make_site, tmp_path, monkeypatch):
    from s3site import builder

    monkeypatch.setattr(parallel, "MIN_ITEMS_FOR_WORKERS", 1)
    monkeypatch.setattr(builder, "MIN_OUTPUTS_FOR_TWO_PROCESSES", 1)
    practices = {f"p{i}.md": practice_text(title=f"P{i}", themes="[energy]" if i % 2 else "[social-economy]")
                 for i in range(12)}
    root = make_site(practices, site=SITE)
    build(root, output=tmp_path / "one", workers=1, use_cache=False)
    build(root, output=tmp_path / "two", workers=2, use_cache=False)
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


@pytest.mark.parametrize("engine", ["python-markdown", "markdown-it"])
def test_both_markdown_engines_build(make_site, engine):
    root = make_site({"a.md": practice_text(body="Intro[^1] \"quoted\".\n\n[^1]: A note.\n")},
                     site=SITE + f"markdown: {engine}\n")
    build(root)
    html = (root / "output/practices/a/index.html").read_text()
    assert "\u201cquoted\u201d" in html and "A note." in html


def _scan_twice(root: Path, change=None) -> tuple[FileDigests, dict[str, str], dict[str, str]]:
    first = FileDigests(root / ".s3site-cache/files.pickle")
    before = scan(root, first).files
    first.save()
    if change:
        change()
    second = FileDigests(root / ".s3site-cache/files.pickle")
    return second, before, scan(root, second).files


def test_unchanged_files_are_not_read_again(make_site, monkeypatch):
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(3)}, site=SITE)
    monkeypatch.setattr(FileDigests, "MARGIN_NS", 0)
    second, before, after = _scan_twice(root)
    assert second.read == 0 and after == before and len(after) == 5


def test_a_change_that_keeps_size_and_time_is_still_seen(make_site, monkeypatch):
    root = make_site({"a.md": practice_text(title="Alpha")}, site=SITE)
    path = root / "content/practices/a.md"
    monkeypatch.setattr(FileDigests, "MARGIN_NS", 0)

    def same_size_same_mtime() -> None:
        stamp = path.stat().st_mtime_ns
        path.write_text(practice_text(title="Gamma"))
        os.utime(path, ns=(stamp, stamp))

    second, before, after = _scan_twice(root, same_size_same_mtime)
    assert second.read == 1 and after["content/practices/a.md"] != before["content/practices/a.md"]


def test_a_file_changed_as_it_was_scanned_is_read_again(make_site):
    # Written within the file system's clock tick of the last scan, its times
    # cannot prove it unchanged (git's "racy clean" files).
    root = make_site({"a.md": practice_text()}, site=SITE)
    second, _, after = _scan_twice(root)
    assert second.read == len(after) == 3


def test_a_corrupt_file_digest_record_is_ignored(make_site, monkeypatch):
    root = make_site(site=SITE)
    monkeypatch.setattr(FileDigests, "MARGIN_NS", 0)
    build(root)
    site_yaml = (root / "content/site.yaml").stat()
    truncated = {"salt": CODE_SALT, "scanned": 2**62, "files": {"content/site.yaml": [
        site_yaml.st_size, site_yaml.st_mtime_ns, site_yaml.st_ctime_ns, site_yaml.st_ino]}}
    for garbage in (b"not a pickle", encode({"salt": "other", "scanned": 1, "files": {}}),
                    encode({"files": {"x": 1}}), encode(truncated), encode(truncated)[:-5]):
        (root / ".s3site-cache/files.pickle").write_bytes(garbage)
        digests = FileDigests(root / ".s3site-cache/files.pickle")
        assert scan(root, digests).files and digests.read == len(digests.new)
    (root / "content/practices/lapland.md").write_text(practice_text(title="Renamed"))
    (root / ".s3site-cache/files.pickle").write_bytes(encode([]))
    build(root)
    assert "Renamed" in (root / "output/practices/lapland/index.html").read_text()


def test_related_practices_are_computed_again_only_when_what_they_read_changes(make_site, monkeypatch, tmp_path):
    from s3site import related

    calls = []
    compute = related.related_positions
    monkeypatch.setattr(related, "related_positions", lambda *args: calls.append(1) or compute(*args))
    practices = {f"p{i}.md": practice_text(title=f"P{i}", themes="[energy]", location=f"{{country: {c}}}")
                 for i, c in enumerate(["FI", "FI", "ES", "ES"])}
    root = make_site(practices, site=SITE)
    build(root)
    path = root / "content/practices/p0.md"
    path.write_text(practice_text(title="P0", themes="[energy]", location="{country: FI}", body="New text.\n"))
    build(root)
    assert len(calls) == 1
    path.write_text(practice_text(title="P0", themes="[social-economy]", location="{country: ES}"))
    build(root)
    assert len(calls) == 2
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_the_key_of_the_related_practices_takes_what_they_read_of_each_practice_from_the_cache(
        make_site, monkeypatch, tmp_path):
    from s3site import related, sources

    practices = {f"p{i}.md": practice_text(title=f"P{i}", themes="[energy]", location=f"{{country: {c}}}")
                 for i, c in enumerate(["FI", "FI", "ES", "ES"])}
    root = make_site(practices, site=SITE)
    build(root)
    worked_out = []
    features_digest = related.features_digest
    counting = lambda practice: worked_out.append(practice.slug) or features_digest(practice)  # noqa: E731
    monkeypatch.setattr(related, "features_digest", counting)
    monkeypatch.setattr(sources, "features_digest", counting)
    (root / "content/practices/p1.md").write_text(
        practice_text(title="P1", themes="[energy]", location="{country: FI}", body="New text.\n"))
    build(root)
    assert worked_out == ["p1"]  # resolved again; the three others' come with them from the cache
    worked_out.clear()
    (root / "content/practices/p2.md").write_text(
        practice_text(title="P2, retitled", themes="[energy]", location="{country: ES}"))
    build(root)
    assert worked_out == ["p2"]
    assert tree(root / "output") == clean_build(root, tmp_path)
    assert "P2, retitled" in (root / "output/practices/p3/index.html").read_text()  # related to P3


def test_output_keys_read_each_template_once(make_site, monkeypatch):
    from collections import Counter

    from s3site.builder import load
    from s3site.plan import plan_outputs
    from s3site.render import TemplateSet

    page = '{% extends "base.html" %}{% block main %}{% include "partials/none.html" ignore missing %}' \
           '{{ practice.title }}{% endblock %}'
    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="B")}, site=SITE,
                     templates={"practice.html": page})
    site = load(root).site
    templates = TemplateSet(root / "templates", None)
    loader, reads = templates.environment.loader, Counter()
    get_source = loader.get_source
    monkeypatch.setattr(loader, "get_source", lambda env, name: reads.update([name]) or get_source(env, name))
    keys = fingerprint.Fingerprinter(site, templates, templates.digest(), "everything global")
    outputs, _ = plan_outputs(site)
    assert len({keys.key(output) for output in outputs}) == len(outputs)
    assert {"practice.html", "base.html", "partials/none.html"} <= set(reads)
    assert set(reads.values()) == {1}, reads


def test_cached_models_load_equal_to_what_was_stored(tmp_path):
    import pickle

    from s3site.content import parse_practice

    text = practice_text(author="{name: A, organisation: B}", followers="[{name: C}]", end="2030-01",
                         keywords="[a, b]", image="{src: /x.png, alt: An image}",
                         body="Text.\n\n## Resources needed\n\nMoney.\n\n## Other things\n\nMore.\n")
    parsed = parse_practice("content/practices/p.md", text.encode(), trust_html=False, engine="python-markdown")
    assert parsed.model is not None and parsed.model.author and parsed.model.extra_sections
    loaded = pickle.loads(pickle.dumps(parsed))
    assert loaded == parsed and loaded.model.positions == parsed.model.positions
    with pytest.raises(AttributeError):
        loaded.model.title = "changed"  # still frozen


def test_every_file_is_counted_once_whichever_process_made_it(make_site):
    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="B")}, site=SITE)
    first = build(root, workers=2)
    (root / "content/practices/a.md").write_text(practice_text(body="Changed.\n"))
    second = build(root, workers=2)
    assert first.written == first.files
    assert second.written + second.unchanged == second.files and 0 < second.written < second.files


def test_work_goes_to_worker_processes_only_when_it_can_be_split():
    here = os.getpid()
    assert parallel.map_chunks(lambda items: os.getpid(), [1], workers=2, force=True) == [here]
    pids = parallel.map_chunks(lambda items: os.getpid(), [1, 2], workers=2, force=True)
    assert len(pids) == 2 and here not in pids


def test_open_data_records_are_copied_from_the_published_files(make_site, monkeypatch, tmp_path):
    from s3site import opendata

    practices = {f"p{i}.md": practice_text(title=f"P{i}") for i in range(5)}
    root = make_site(practices, site=SITE)
    build(root, workers=1)
    rows: list[str] = []
    records: list[str] = []
    make_row, make_record = opendata._csv_cells, opendata.practice_record
    monkeypatch.setattr(opendata, "_csv_cells", lambda p, origin: rows.append(p.slug) or make_row(p, origin))
    monkeypatch.setattr(opendata, "practice_record", lambda p, site: records.append(p.slug) or make_record(p, site))
    (root / "content/practices/p3.md").write_text(practice_text(title="P3", body="A new text.\n"))
    build(root, workers=1)
    # Only the edited practice's index.json and CSV row were made; every other
    # record came from the published practices.json and practices.csv.
    assert rows == ["p3"] and records == ["p3"]
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_open_data_files_made_in_two_processes_are_counted_and_noted(make_site, monkeypatch, tmp_path):
    from s3site import builder, opendata

    monkeypatch.setattr(builder, "MIN_OUTPUTS_FOR_TWO_PROCESSES", 0)
    split: list[list[str]] = []
    real = builder.in_two_processes
    monkeypatch.setattr(builder, "in_two_processes", lambda task, items: split.append(items) or real(task, items))
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(5)}, site=SITE)
    result = build(root, workers=2)
    assert len(split[-1]) == 2  # practices.json here, practices.csv in the forked process
    made = {path for path in tree(root / "output") if not path.startswith(".")}  # not the folder's marker
    assert result.written == result.files == len(made) and set(result.changed) == made
    assert tree(root / "output") == clean_build(root, tmp_path)
    rows: list[str] = []
    make_row = opendata._csv_cells
    monkeypatch.setattr(opendata, "_csv_cells", lambda p, origin: rows.append(p.slug) or make_row(p, origin))
    (root / "content/practices/p3.md").write_text(practice_text(title="P3", body="A new text.\n"))
    build(root, workers=1)
    assert rows == ["p3"]  # the notes of the CSV made in the other process were kept
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_unchanged_records_are_copied_in_runs_of_what_stood_together(tmp_path):
    from s3site.records import FileRecords

    # A published file "[A,B,C,D,E]": each record's key is its letter.
    published = tmp_path / "data.json"
    published.write_bytes(b"[A1,B22,C333,D4,E55]")
    spans = {"A": (1, 3), "B": (4, 7), "C": (8, 12), "D": (13, 15), "E": (16, 19)}
    records = FileRecords(published, spans, lambda item: item if item in spans else None)
    # In the new file D moved before B, and X is new: runs end where the old order breaks.
    items = ["A", "D", "B", "C", "X", "E"]
    assert records.copy_run(items, 0, 100, b",", 1000) == (1, b"A1")
    assert records.copy_run(items, 1, 200, b",", 1000) == (1, b"D4")
    assert records.copy_run(items, 2, 300, b",", 1000) == (2, b"B22,C333")
    assert records.copy_run(items, 4, 400, b",", 1000) == (0, b"")  # X is to be made
    assert records.copy_run(items, 5, 500, b",", 1000) == (1, b"E55")
    # Each copied record is noted where it lands: B at 300, C after B and the separator.
    assert records.new == {"A": (100, 102), "D": (200, 202), "B": (300, 303), "C": (304, 308), "E": (500, 503)}
    # A run stops once it holds `limit` bytes; without the separator nothing stands together.
    assert records.copy_run(["A", "B", "C"], 0, 0, b",", 5) == (2, b"A1,B22")
    assert records.copy_run(["A", "B"], 0, 0, b"", 1000) == (1, b"A1")
    records.close()
    # A published file shorter than its notes say gives nothing: the records are made.
    published.write_bytes(b"[A1,B2")
    shortened = FileRecords(published, spans, lambda item: item)
    assert shortened.copy_run(["A", "B"], 0, 0, b",", 1000) == (0, b"")
    shortened.close()
    assert FileRecords(None, spans, lambda item: item).copy_run(["A"], 0, 0, b",", 1000) == (0, b"")


def test_a_run_of_records_reads_only_its_own_items(tmp_path):
    from collections.abc import Sequence

    from s3site.records import FileRecords

    class Watched(Sequence):
        """A list that tells which of its items were read."""

        def __init__(self, items: list[str]) -> None:
            self.items, self.read = items, []

        def __len__(self) -> int:
            return len(self.items)

        def __getitem__(self, index):  # type: ignore[override]
            self.read.append(index)
            return self.items[index]

        def __iter__(self):
            raise AssertionError("walked from the start")

    published = tmp_path / "data.csv"
    published.write_bytes(b"".join(f"r{i}\n".encode() for i in range(1000)))
    spans: dict[str, tuple[int, int]] = {}
    offset = 0
    for i in range(1000):  # each record "r<i>\n" as written one after another
        spans[f"k{i}"] = (offset, offset + len(f"r{i}\n"))
        offset += len(f"r{i}\n")
    items = Watched([f"k{i}" for i in range(1000)] + ["new"])
    records = FileRecords(published, spans, lambda item: item if item in spans else None)
    # Late in a long file, as each record after an edit is: only the run's own items are
    # read, and the one that ends it, never those before (a whole file's copying would
    # then take time growing with the square of its records).
    assert records.copy_run(items, 995, 0, b"", 1 << 20) == (5, b"r995\nr996\nr997\nr998\nr999\n")
    assert items.read == [995, 996, 997, 998, 999, 1000]
    records.close()


def test_open_data_records_of_reordered_practices_are_copied(make_site, monkeypatch, tmp_path):
    from s3site import opendata

    practices = {f"p{i}.md": practice_text(title=f"P{i}", start=f"201{i}-01") for i in range(1, 6)}
    # Sharing no place or theme with the others, p0 is none's related practice: its
    # edit leaves their records as they were (a record lists its related practices).
    elsewhere = {"location": "{country: ES}", "themes": "[energy]"}
    practices["p0.md"] = practice_text(title="P0", start="2010-01", **elsewhere)
    root = make_site(practices, site=SITE)
    build(root, workers=1)
    rows: list[str] = []
    make_row = opendata._csv_cells
    monkeypatch.setattr(opendata, "_csv_cells", lambda p, origin: rows.append(p.slug) or make_row(p, origin))
    # The oldest practice becomes the newest: it moves to the top of every list and file.
    (root / "content/practices/p0.md").write_text(practice_text(title="P0", start="2019-01", body="New.\n", **elsewhere))
    build(root, workers=1)
    assert rows == ["p0"]
    assert tree(root / "output") == clean_build(root, tmp_path)
    # The notes the moved records left are right: the next edit copies them again.
    rows.clear()  # of the clean build's
    (root / "content/practices/p3.md").write_text(practice_text(title="P3", start="2013-01", body="Other.\n"))
    build(root, workers=1)
    assert rows == ["p3"]
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("spoil", ["notes", "published"])
def test_record_notes_are_trusted_only_for_the_file_they_describe(make_site, tmp_path, spoil):
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(4)}, site=SITE)
    build(root, workers=1)
    if spoil == "notes":  # a corrupt notes file
        (root / ".s3site-cache/records.pickle").write_bytes(MAGIC + b"\0" * 40)
    else:  # a published file changed by hand: same size, other bytes
        for name in ("practices.json", "practices.csv"):
            published = root / "output" / name
            data = published.read_bytes()
            published.unlink()  # a new inode, as an editor saving the file makes
            published.write_bytes(data.replace(b"P1", b"Q1"))
    # A new text only: every other practice's record keeps its key.
    (root / "content/practices/p0.md").write_text(practice_text(title="P0", body="Changed.\n"))
    build(root, workers=1)
    assert tree(root / "output") == clean_build(root, tmp_path)


def record_resolved(monkeypatch) -> list[str]:
    """The slugs of the practices resolved from now on, in order."""
    resolved: list[str] = []
    resolve = Resolver.resolve
    monkeypatch.setattr(Resolver, "resolve", lambda self, p, problems: resolved.append(p.slug) or resolve(self, p, problems))
    return resolved


def test_unchanged_practices_come_resolved_from_the_cache(make_site, monkeypatch, tmp_path):
    from s3site import builder
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}", location="{country: FI, region: FI1D7}")
                      for i in range(4)}, site=SITE)
    build(root, workers=1)
    resolved = record_resolved(monkeypatch)
    (root / "content/practices/p2.md").write_text(practice_text(title="P2", body="New.\n",
                                                                location="{country: FI, region: FI1D7}"))
    build(root, workers=1)
    assert resolved == ["p2"]
    assert tree(root / "output") == clean_build(root, tmp_path)
    # Loaded from the cache, a practice's regions and themes are this build's own objects.
    loaded = builder.load(root, cache=builder.ParseCache(root / ".s3site-cache"))
    registry, themes = loaded.registry, {term.theme.id: term.theme for term in loaded.site.themes}
    for practice in loaded.site.practices:
        assert all(region is registry.exactly(region.code) for region in practice.location_chain)
        assert all(theme is themes[theme.id] for theme in practice.theme_objects)


def test_a_new_day_resolves_no_practice_again_and_ends_those_that_ended(make_site, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    root = make_site({"ends.md": practice_text(title="Ends", end="2026-06"),
                      "goes-on.md": practice_text(title="Goes on", end="2030-01")}, site=SITE)
    build(root, workers=1)
    resolved = record_resolved(monkeypatch)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798761600")  # 2027-01-01: one of them has ended
    build(root, workers=1)
    assert resolved == []
    assert 'status-completed" data-pagefind-filter' in (root / "output/practices/ends/index.html").read_text()
    assert 'status-ongoing" data-pagefind-filter' in (root / "output/practices/goes-on/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def record_parsed(monkeypatch) -> list[str]:
    """The practice files parsed from now on (in this process: builds with one worker)."""
    from s3site import builder
    parsed: list[str] = []
    parse = builder.parse_practice
    monkeypatch.setattr(builder, "parse_practice", lambda source, *a, **k: parsed.append(source) or parse(source, *a, **k))
    return parsed


def add_theme(root: Path, theme_id: str) -> None:
    themes = root / "content/themes.yaml"
    themes.write_text(themes.read_text() + f"- id: {theme_id}\n  title: {theme_id.title()}\n")


CONTEXT_CHANGES = {
    "a theme added": lambda root: add_theme(root, "added"),
    "the regions": lambda root: (root / "content/regions.yaml").write_text(
        "regions:\n  - code: fi1d7-rovaniemi\n    name: Rovaniemi\n    parent: FI1D7\n", encoding="utf-8"),
    "the address": lambda root: (root / "content/site.yaml").write_text(
        SITE.replace("https://example.org/sub/", "https://example.net/other/path/")),
}


@pytest.mark.parametrize("kept", ["on disk", "in memory"])  # in memory: the preview's
@pytest.mark.parametrize("change", CONTEXT_CHANGES)
def test_practices_resolved_again_are_not_parsed_again(make_site, monkeypatch, tmp_path, kept, change):
    # Their parse results are kept as the fields resolving changed and the key of what it made.
    files = {f"p{i}.md": practice_text(title=f"P{i}", body=f"Text [link](/docs/{i}.pdf) and ![i](/i.png).\n")
             for i in range(3)}
    files["p3.md"] = practice_text(title="P3", colour="blue", participating_regions="[FI1D7, SE33]")
    root = make_site(files, site=SITE)
    memory = {} if kept == "in memory" else None
    build(root, workers=1, memory=memory)
    parsed, resolved = record_parsed(monkeypatch), record_resolved(monkeypatch)
    CONTEXT_CHANGES[change](root)
    result = build(root, workers=1, memory=memory)
    assert sorted(resolved) == ["p0", "p1", "p2", "p3"] and parsed == []
    assert [d.message for d in result.warnings] == ["unknown field 'colour'"]
    assert tree(root / "output") == clean_build(root, tmp_path)
    if kept == "on disk":  # once more, with the resolved practices their parse results name gone
        db = sqlite3.connect(root / ".s3site-cache/parse.sqlite")
        with db:
            for key, entry in db.execute("SELECT key, entry FROM parsed").fetchall():
                if isinstance(decode(entry, lambda name: None), Resolved):
                    db.execute("DELETE FROM parsed WHERE key = ?", (key,))
        db.close()
        add_theme(root, "another")
        parsed.clear()
        build(root, workers=1)
        assert sorted(parsed) == [f"content/practices/p{i}.md" for i in range(4)]
        assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("kept", ["on disk", "in memory"])  # in memory: the preview's
def test_a_theme_retitled_resolves_no_practice_again(make_site, monkeypatch, tmp_path, kept):
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(3)}, site=SITE)
    memory = {} if kept == "in memory" else None
    build(root, workers=1, memory=memory)
    resolved = record_resolved(monkeypatch)
    themes = root / "content/themes.yaml"
    themes.write_text(themes.read_text().replace("Social economy", "Economía social"))
    build(root, workers=1, memory=memory)
    assert resolved == []
    assert "Economía social" in (root / "output/practices/p1/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)
    resolved.clear()
    themes.write_text(themes.read_text().replace("- id: energy", "- id: renewable-energy"))  # no practice's
    build(root, workers=1, memory=memory)
    assert resolved == ["p0", "p1", "p2"]  # which themes exist matters: a practice may name one that is gone
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_practices_kept_in_memory_are_used_as_they_are_while_the_themes_are_the_same(make_site):
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(3)}, site=SITE)
    memory: dict = {}
    first = build(root, workers=1, memory=memory).site
    (root / "content/practices/p0.md").write_text(practice_text(title="P0", summary="Edited."))
    second = build(root, workers=1, memory=memory).site
    before = {p.slug: p for p in first.practices}
    assert sorted(p.slug for p in second.practices if p is before[p.slug]) == ["p1", "p2"]  # not copies


def test_a_changed_static_file_resolves_again_only_the_practices_with_local_images(make_site, monkeypatch,
                                                                                  tmp_path):
    root = make_site({"pic.md": practice_text(title="Pic", body="![A map](/img/map.png)\n"),
                      "later.md": practice_text(title="Later", body="![A plan](/img/plan.png)\n"),
                      "plain.md": practice_text(title="Plain")},
                     files={"content/static/img/map.png": png(640, 480)}, site=SITE)
    build(root, workers=1)
    resolved = record_resolved(monkeypatch)
    (root / "content/static/img/plan.png").write_bytes(png(300, 100))  # the image the text awaited
    (root / "content/static/img/map.png").write_bytes(png(320, 200))  # a new size
    build(root, workers=1)
    assert sorted(resolved) == ["later", "pic"]
    assert 'width="300" height="100"' in (root / "output/practices/later/index.html").read_text()
    assert 'width="320" height="200"' in (root / "output/practices/pic/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)
    resolved.clear()
    (root / "content/static/docs").mkdir()
    (root / "content/static/docs/report.pdf").write_bytes(b"%PDF-1.4\n")
    build(root, workers=1)
    assert "plain" not in resolved
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("change", ["theme title", "day", "image"])
def test_what_resolving_reads_is_part_of_the_cache_key(make_site, monkeypatch, tmp_path, change):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    root = make_site({"p.md": practice_text(end="2026-06", body="![A map](/img/map.png)\n")},
                     files={"content/static/img/map.png": png(640, 480)}, site=SITE)
    build(root, workers=1)
    if change == "theme title":
        themes = root / "content/themes.yaml"
        themes.write_text(themes.read_text().replace("Social economy", "Economía social"))
    elif change == "day":
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798761600")  # 2027-01-01: the practice has ended
    else:
        (root / "content/static/img/map.png").write_bytes(png(320, 200))
    build(root, workers=1)
    page = (root / "output/practices/p/index.html").read_text()
    expected = {"theme title": "Economía social", "day": "Completed", "image": 'width="320" height="200"'}
    assert expected[change] in page
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_an_entry_naming_a_region_that_is_gone_is_not_trusted():
    from s3site.cache import decode, encode
    from s3site.regions import load_registry
    from s3site.sources import _REFERENCES

    registry = load_registry()
    finland = registry.exactly("FI")
    entry = encode(("kept", finland), _REFERENCES)
    assert finland.name.encode() not in entry  # stored by its code alone
    assert finland.name.encode() in encode(("kept", finland))
    kept, region = decode(entry, lambda reference: registry.exactly(reference[1]))
    assert kept == "kept" and region is finland
    assert decode(entry, lambda reference: {}[reference[1]]) is None  # a registry without it
    assert decode(entry) is None  # asked for without a way to find regions


def test_work_in_two_processes_equals_one_and_survives_the_other_failing():
    parent = os.getpid()

    def double(items):
        return [2 * item for item in items]

    def fails_when_forked(items):
        if os.getpid() != parent:
            raise RuntimeError("the forked process fails")
        return double(items)

    def exits_when_forked(items):
        if os.getpid() != parent:
            os._exit(3)
        return double(items)

    for task in (double, fails_when_forked, exits_when_forked):
        assert parallel.in_two_processes(task, list(range(11))) == [2 * i for i in range(11)]
    assert parallel.in_two_processes(double, [5]) == [10]


def test_work_in_two_processes_is_done_here_when_no_process_can_be_made(monkeypatch):
    def no_fork() -> int:
        raise BlockingIOError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert parallel.in_two_processes(lambda items: [i + 1 for i in items], [1, 2, 3]) == [2, 3, 4]


# Run in a process of its own: it sets a signal handler, its processor and os.fork.
SIGTERM_AT_BIRTH = """
import os, signal, time
from s3site import parallel
from s3site.server import _interrupt

owner = os.getpid()
signal.signal(signal.SIGTERM, _interrupt)  # the preview's: Python code, which forked workers inherit
ended = []
fork = os.fork

def fork_and_end_the_first():
    # The first process forked waits until SIGTERM has been sent to it: it comes before the
    # process has run any of its own code, as Pool.terminate()'s does to a worker that never
    # got work. (Sent any later, it could end a worker holding the pool's queue, which no
    # pool survives.)
    if ended:
        return fork()
    sent, tell = os.pipe()
    pid = fork()
    if pid == 0:
        os.close(tell)
        os.read(sent, 1)
        os.close(sent)
        return 0
    os.close(sent)
    os.kill(pid, signal.SIGTERM)
    ended.append(pid)
    os.write(tell, b"sent")
    os.close(tell)
    return pid

os.fork = fork_and_end_the_first

def pids(items):
    time.sleep(0.1)  # long enough for both workers to take work
    return [os.getpid() for _ in items]

done_by = {pid for chunk in parallel.map_chunks(pids, [1, 2, 3, 4], workers=2, force=True) for pid in chunk}
print("pool worker ended:", ended[0] not in done_by)
ended.clear()
done_by = set(parallel.in_two_processes(pids, [1, 2, 3, 4]))
print("forked process ended:", done_by == {owner})
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_worker_sent_sigterm_before_it_has_run_ends_even_under_a_python_handler():
    """The preview's first build hung now and then: Pool.terminate() sent SIGTERM to a worker
    that had not run yet, Python's start-up after fork forgot it, and both waited forever."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", SIGTERM_AT_BIRTH], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["pool worker ended: True", "forked process ended: True"]


INTERRUPTED_AT_BIRTH = """
import os
from s3site import parallel

owner = os.getpid()

def interrupted():
    raise KeyboardInterrupt  # a Ctrl-C reaching the forked process as it starts

parallel._as_worker = interrupted
print(parallel.in_two_processes(lambda items: [(os.getpid() == owner, i) for i in items], [1, 2]))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_process_interrupted_as_it_starts_never_goes_on_as_its_parent():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", INTERRUPTED_AT_BIRTH], capture_output=True, text=True,
                            timeout=60, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert result.stdout.splitlines() == ["[(True, 1), (True, 2)]"]  # both halves done by the parent


def test_each_chunks_result_reaches_the_caller_before_the_last_chunk_is_done(tmp_path):
    """So the parent holds one chunk of encoded practices at a time, not all of them."""
    import time

    signal = tmp_path / "first result received"

    def task(items):
        if 0 in items:
            return "first"
        deadline = time.monotonic() + 20
        while not signal.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return "after the first" if signal.exists() else "before the first"

    results = []
    for result in parallel.iter_chunks(task, list(range(100)), workers=2):
        results.append(result)
        signal.touch()
    assert results[0] == "first" and len(results) == 8
    assert set(results[1:]) == {"after the first"}


def test_no_chunk_of_work_is_larger_than_asked_and_every_item_is_done_once():
    items = list(range(1207))
    chunks = parallel.map_chunks(list, items, workers=2, max_items=100)
    assert max(map(len, chunks)) <= 100 and len(chunks) == 13
    assert sorted(item for chunk in chunks for item in chunk) == items
    assert len(parallel.map_chunks(list, items, workers=2)) == 8  # four a worker
    assert len(parallel.map_chunks(list, items, workers=2, per_worker=16)) == 32


def test_items_kept_together_fall_in_one_chunk_and_every_item_is_done_once():
    items = list(range(300))
    chunks = parallel.map_chunks(list, items, workers=2, together=lambda item: item // 3)
    assert len(chunks) == 8 and sorted(item for chunk in chunks for item in chunk) == items
    assert all(len({item // 3 for item in chunk}) * 3 == len(chunk) for chunk in chunks)
    # Far fewer groups than chunks asked for: one chunk each.
    assert sorted(map(sorted, parallel.map_chunks(list, items, workers=2, together=lambda item: item % 2,
                                                  force=True))) == [items[::2], items[1::2]]


def test_a_file_written_a_few_bytes_at_a_time_is_written_whole(tmp_path, monkeypatch):
    from s3site import output

    real = os.write
    monkeypatch.setattr(output.os, "write", lambda descriptor, data: real(descriptor, bytes(data[:3])))
    output._write_file(str(tmp_path / "page.html"), b"<p>eleven</p>")
    assert (tmp_path / "page.html").read_bytes() == b"<p>eleven</p>"


def test_rendering_is_split_into_many_chunks_a_worker(make_site, monkeypatch):
    from s3site import builder
    asked = []
    real = builder.map_chunks

    def spy(task, items, **options):
        asked.append(options.get("per_worker"))
        return real(task, items, **options)

    monkeypatch.setattr(builder, "map_chunks", spy)
    builder.build(make_site(), workers=2)
    assert asked == [builder.RENDER_CHUNKS_PER_WORKER] and builder.RENDER_CHUNKS_PER_WORKER >= 8


def test_related_practices_come_by_shared_places_then_themes_then_title(make_site):
    from s3site.builder import load

    practices = {
        "alpha.md": practice_text(title="Alpha", location="{country: FI, region: FI1B}"),
        "zeta.md": practice_text(title="Zeta", location="{country: FI, region: FI1B}"),  # same region
        "yotta.md": practice_text(title="Yotta", location="{country: FI, region: FI19}"),  # same country
        "beta.md": practice_text(title="Beta", location="{country: ES, region: ES51}"),  # theme only
        "gamma.md": practice_text(title="Gamma", location="{country: ES, region: ES51}", themes="[energy]"),
    }
    site = load(make_site(practices, site=SITE + "related: 3\n")).site
    related = {p.title: [r.title for r in p.related] for p in site.practices}
    assert related["Alpha"] == ["Zeta", "Yotta", "Beta"]  # Gamma shares nothing with Alpha
    assert related["Gamma"] == ["Beta"]


def test_related_practices_found_in_two_processes_are_those_found_in_one(make_site, monkeypatch):
    from s3site import related
    from s3site.builder import load

    countries = ["FI", "FI", "ES", "ES", "FI", "ES", "FI"]
    themes = ["[energy]", "[energy, social-economy]", "[social-economy]"]
    practices = {f"p{i}.md": practice_text(title=f"P{i}", themes=themes[i % 3], location=f"{{country: {c}}}")
                 for i, c in enumerate(countries)}
    site = load(make_site(practices, site=SITE)).site
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    monkeypatch.setattr(related, "MIN_PRACTICES_FOR_TWO_PROCESSES", 2)
    features = related.features_of(site.practices)
    one, _ = related.related_positions(features, 3, workers=1)
    assert not forks
    two, _ = related.related_positions(features, 3, workers=2)
    assert forks == [1] and two == one and any(one)


# Few places and themes, short titles that tie but for case, and one or two related
# practices, so that groups hold more practices than give candidates (count * 3, twice
# that for a region) and an edit can move one in or out of them.
CHAINS = [("FI",), ("FI", "FI1"), ("FI", "FI1", "FI1B"), ("FI", "FI1", "FI19"), ("ES", "ES5", "ES51"), ("ES",)]
FEATURES = st.tuples(st.sampled_from(["A", "a", "B", "Cc", "cC"]),
                     st.lists(st.sampled_from(["energy", "health", "water"]), min_size=1, max_size=2, unique=True),
                     st.sampled_from(CHAINS))
RELATED_EDITS = st.lists(st.one_of(
    st.tuples(st.just("change"), st.integers(0, 99), FEATURES),
    st.tuples(st.just("move"), st.integers(0, 99), st.integers(0, 99)),  # another date
    st.tuples(st.just("delete"), st.integers(0, 99), st.none()),
    st.tuples(st.just("add"), st.integers(0, 99), FEATURES),
), max_size=4)


@settings(max_examples=200, deadline=None)
@given(start=st.lists(FEATURES, min_size=12, max_size=60), rounds=st.lists(RELATED_EDITS, min_size=1, max_size=3),
       count=st.integers(1, 2))
def test_related_practices_updated_after_edits_equal_those_computed_afresh(start, rounds, count):
    from s3site import related
    from s3site.related import Features, related_positions

    made = iter(range(10**6))

    def practice(title, themes, places):
        return Features(f"p{next(made)}", title, tuple(themes), places)

    practices = [practice(*f) for f in start]
    _, state = related_positions(practices, count)
    for edits in rounds:
        for kind, at, value in edits:
            at %= len(practices)
            if kind == "change":
                practices[at] = practices[at]._replace(title=value[0], themes=tuple(value[1]), places=value[2])
            elif kind == "move":
                practices.insert(value % len(practices), practices.pop(at))
            elif kind == "delete" and len(practices) > 1:
                practices.pop(at)
            elif kind == "add":
                practices.insert(at, practice(*value))
        with pytest.MonkeyPatch.context() as patch:  # however many changed, none computed afresh
            patch.setattr(related, "MAX_SHARE_TO_UPDATE", 1.0)
            updated, state = related_positions(practices, count, previous=state)
        afresh, fresh_state = related_positions(practices, count)
        assert updated == afresh
        assert state == fresh_state


def test_editing_a_title_computes_again_only_the_related_practices_that_may_change(caplog):
    import logging

    from s3site.related import Features, related_positions

    chains = [("FI", "FI1", "FI1B"), ("FI", "FI1", "FI19"), ("ES", "ES5", "ES51"), ("SE", "SE1", "SE11")]
    practices = [Features(f"p{i}", f"P{i}", (["energy", "health", "water"][i % 3],), chains[i % 4])
                 for i in range(400)]
    _, state = related_positions(practices, 2)
    for at, computed in ((300, "1 of 400"), (1, "199 of 400")):
        # p300 is among the newest of none of its groups: no other practice sees it. p1 is
        # among the newest of all three: their members see it (FI19 and health: 100 + 133 - 34).
        practices[at] = practices[at]._replace(title="Renamed")
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="s3site.related"):
            updated, state = related_positions(practices, 2, previous=state)
        assert f"related practices: {computed} computed" in caplog.text
        assert updated == related_positions(practices, 2)[0]


def test_a_first_build_reads_each_practice_once_and_records_its_digest(make_site, monkeypatch):
    names = [f"p{i}.md" for i in range(70)]  # enough to be parsed by forked workers
    root = make_site({name: practice_text(title=f"P{i}") for i, name in enumerate(names)}, site=SITE)
    monkeypatch.setattr(FileDigests, "MARGIN_NS", 0)
    opened: list[str] = []
    original = FileDigests.of

    def of(self, path, relative, **kwargs):
        before = self.read
        found = original(self, path, relative, **kwargs)
        if self.read > before and relative.startswith("content/practices/"):
            opened.append(relative)
        return found

    monkeypatch.setattr(FileDigests, "of", of)
    build(root)
    assert opened == []  # left to the workers that parse them
    record = decode((root / ".s3site-cache/files.pickle").read_bytes())
    for name in names:
        content = (root / "content/practices" / name).read_bytes()
        assert record["files"][f"content/practices/{name}"][4] == digest(content)
    assert build(root).up_to_date  # the digests the workers told make the next build's inputs
    (root / "content/practices/p3.md").write_text(practice_text(title="Renamed"))
    result = build(root)
    assert not result.up_to_date and result.rendered < result.files
    assert "Renamed" in (root / "output/practices/p3/index.html").read_text()
    assert opened == ["content/practices/p3.md"]  # its times had changed: read by the scan


def test_practices_are_read_by_the_scan_when_the_cache_may_hold_them(make_site):
    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(3)}, site=SITE)
    build(root)
    (root / ".s3site-cache/files.pickle").unlink()  # the parse cache stays
    result = build(root)
    assert result.up_to_date  # which needs every digest before anything is parsed
    digests = FileDigests(root / ".s3site-cache/files.pickle")
    digests.defer = ParseCache(root / ".s3site-cache").is_empty()
    assert not digests.defer and None not in scan(root, digests).files.values()


def _fetched_keys(monkeypatch) -> list[list[str]]:
    """The keys each read of the cache's database asks for, from now on."""
    asked: list[list[str]] = []
    fetch = ParseCache._fetch
    monkeypatch.setattr(ParseCache, "_fetch", lambda self, keys: asked.append(list(keys)) or fetch(self, keys))
    return asked


def _site_with_bundle(make_site, count: int) -> tuple[Path, Path]:
    """A site of `count` practices, built, then built again after an edit: the second build
    took the others from the database one by one, and made the bundle. Its root, and the
    bundle's path."""
    from s3site.sources import RESOLVED_BUNDLE

    root = make_site({f"p{i}.md": practice_text(title=f"P{i}") for i in range(count)}, site=SITE)
    bundle = root / ".s3site-cache" / f"{RESOLVED_BUNDLE}.bundle"
    build(root, workers=1)
    assert not bundle.exists()  # a first build does not pay for it
    (root / "content/practices/p0.md").write_text(practice_text(title="P0", body="Edited.\n"))
    build(root, workers=1)
    return root, bundle


def test_a_rebuild_takes_unchanged_practices_from_the_bundle_not_one_by_one(make_site, monkeypatch, tmp_path):
    from s3site.cache import BUNDLE_HEADER

    root, bundle = _site_with_bundle(make_site, 5)
    assert bundle.read_bytes().startswith(BUNDLE_HEADER)
    (root / "content/practices/p1.md").write_text(practice_text(title="P1", body="Edited.\n"))
    asked = _fetched_keys(monkeypatch)
    build(root, workers=1)
    assert len(asked[0]) == 1  # the edited practice's resolved key alone; four came from the bundle
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("bad", ["garbage", "other version", "truncated"])
def test_a_bundle_that_is_corrupt_or_from_another_s3site_is_ignored_and_made_again(make_site, tmp_path, bad):
    from s3site.cache import BUNDLE_HEADER

    root, bundle = _site_with_bundle(make_site, 3)
    good = bundle.read_bytes()
    bundle.write_bytes({"garbage": b"\x00not a pickle" * 50,
                        "other version": b"s3site-bundle 0123\n" + good[len(BUNDLE_HEADER):],
                        "truncated": good[: len(good) // 2]}[bad])
    (root / "content/practices/p1.md").write_text(practice_text(title="P1 new"))
    build(root, workers=1)
    assert "P1 new" in (root / "output/practices/p1/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)
    assert bundle.read_bytes().startswith(BUNDLE_HEADER) and bundle.read_bytes() != good


def test_a_bundle_is_made_again_once_more_than_one_practice_in_a_hundred_is_not_its_own(tmp_path):
    from s3site.cache import Bundle

    bundle = Bundle(tmp_path, "b")
    entries = {f"k{i}": (i,) for i in range(300)}
    bundle.save(entries)
    loaded = Bundle(tmp_path, "b")
    kept = loaded.load()
    assert kept == entries
    assert not loaded.behind(dict(kept))
    assert not loaded.behind({**kept, "k0": (0,), "k1": (1,), "k2": (2,)})  # three made again: 1 %
    assert loaded.behind({**kept, "k0": (0,), "k1": (1,), "k2": (2,), "k3": (3,)})  # equal, but not the same
    assert loaded.behind({**kept, **{f"new{i}": () for i in range(4)}})
    assert not loaded.behind({key: kept[key] for key in list(kept)[2:]})  # two of 298 deleted
    assert loaded.behind({key: kept[key] for key in list(kept)[3:]})
    assert Bundle(None, "b").load() == {}


def test_a_bundle_fallen_a_little_behind_is_kept_and_builds_stay_correct(make_site, monkeypatch, tmp_path):
    root, bundle = _site_with_bundle(make_site, 120)
    written = bundle.read_bytes()
    asked = _fetched_keys(monkeypatch)
    for title in ("P1 once", "P1 twice"):  # one practice in 120 is not the bundle's: it is kept
        (root / "content/practices/p1.md").write_text(practice_text(title=title))
        asked.clear()
        build(root, workers=1)
        assert bundle.read_bytes() == written
        assert len(asked[0]) == 1  # the edited practice's resolved key alone
    assert tree(root / "output") == clean_build(root, tmp_path)
    (root / "content/practices/p2.md").write_text(practice_text(title="P2 too"))
    build(root, workers=1)  # two in 120: written again
    assert bundle.read_bytes() != written


def test_the_preview_neither_reads_nor_weighs_a_bundle_after_its_first_build(make_site, monkeypatch, tmp_path):
    from s3site.cache import Bundle

    root, bundle = _site_with_bundle(make_site, 5)
    memory: dict = {}
    (root / "content/practices/p2.md").write_text(practice_text(title="P2", body="Edited.\n"))
    build(root, workers=1, memory=memory)  # the preview's first build: from the bundle
    written = bundle.read_bytes()
    weighed = []
    behind = Bundle.behind
    monkeypatch.setattr(Bundle, "behind", lambda self, entries: weighed.append(1) or behind(self, entries))
    for title in ("P1 once", "P1 twice", "P1 three times"):
        (root / "content/practices/p1.md").write_text(practice_text(title=title))
        build(root, workers=1, memory=memory)
    assert weighed == [] and bundle.read_bytes() == written
    assert "P1 three times" in (root / "output/practices/p1/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)
