"""Search: the Pagefind index made by the build, and the search page in real Chromium.

The index tests read Pagefind's own output (gzipped fragments, one per
indexed page, each with its URL, metadata, filters and text). The browser
tests build the example site (content/) and drive the search page in Debian's
Chromium; see tests/browser.py for the fixtures and when they skip.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, SITE_YAML, practice_text

from s3site import search
from s3site.builder import load

pytest_plugins = ["browser"]

TWO = {"a.md": practice_text(), "b.md": practice_text(title="Beta", themes="[energy]")}
SEED_TITLE = "Establishment of Social Economy Smart Specialisation Platform (S3)"


def build(run, root: Path, *args: str | Path) -> Path:
    """Build with the CLI; return the output folder (--output's, if given)."""
    status, out, err = run("build", "--root", root, *args)
    assert status == 0, err
    return Path(args[args.index("--output") + 1]) if "--output" in args else root / "output"


def fragments(output: Path) -> dict[str, dict]:
    """Pagefind's record of every indexed page, by URL."""
    found = {}
    for path in sorted((output / "pagefind" / "fragment").glob("*.pf_fragment")):
        raw = gzip.decompress(path.read_bytes())
        assert raw.startswith(b"pagefind_dcd")
        record = json.loads(raw[len(b"pagefind_dcd"):])
        found[record["url"]] = record
    return found


def bundle_files(output: Path) -> dict[str, bytes]:
    folder = output / "pagefind"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# --- The index ---------------------------------------------------------------------------------


def test_index_holds_every_practice_and_free_page_and_no_list_page(run, tmp_path):
    output = build(run, REPO, "--output", tmp_path / "out")
    site = load(REPO).site
    expected = {p.url for p in site.practices} | {p.url for p in site.pages}
    indexed = fragments(output)
    assert set(indexed) == expected
    assert len([u for u in indexed if u.startswith("/practices/")]) == len(site.practices) == 14
    for url in ("/", "/practices/", "/themes/", "/themes/social-economy/", "/regions/",
                "/regions/fi/", "/search/"):
        assert url not in indexed
    entry = json.loads((output / "pagefind" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == len(expected)
    # Only what search.js uses is published: no Pagefind UI bundles.
    assert not list((output / "pagefind").glob("pagefind-*ui*"))


def test_practice_records_carry_metadata_filters_and_only_the_main_content(run, tmp_path):
    output = build(run, REPO, "--output", tmp_path / "out")
    seed = fragments(output)["/practices/establishment-of-social-economy-s3-platform/"]
    assert seed["meta"]["title"] == SEED_TITLE
    assert seed["meta"]["summary"].startswith("Five European regions, led by Navarra")
    assert seed["meta"]["location"] == "Pohjois- ja Itä-Suomi, Finland"
    assert seed["filters"] == {"theme": ["Social economy", "Smart specialisation"],
                               "country": ["Finland"], "region": ["Pohjois- ja Itä-Suomi"],
                               "status": ["Ongoing"], "year": ["2018"]}
    text = seed["content"]
    # Main institution and keywords are searchable...
    assert "Regional Council of Lapland" in text and "interregional cooperation" in text
    # ...but not the header, footer, related practices or the labels of the facts.
    assert "Regional Good Practices" not in text and "Built with s3site" not in text
    assert "Related practices" not in text and "Main institution" not in text
    about = fragments(output)["/about/"]
    assert about["meta"]["title"] == "About this collection"
    assert about["filters"] == {}


def test_practice_page_marks_the_pagefind_body_and_filters(make_site, run):
    root = make_site({"p.md": practice_text(location="{country: FI, region: FI1D7}",
                                            start="2019-03", keywords="[reindeer herding]")})
    html = (build(run, root) / "practices/p/index.html").read_text()
    assert html.count("data-pagefind-body") == 1
    assert re.search(r'<article class="practice" data-pagefind-body', html)
    assert 'data-pagefind-filter="year:2019"' in html
    assert 'data-region="Pohjois- ja Itä-Suomi"' in html  # the NUTS 2 above FI1D7
    record = fragments(root / "output")["/practices/p/"]
    assert record["filters"]["region"] == ["Pohjois- ja Itä-Suomi"]
    assert record["filters"]["country"] == ["Finland"]
    assert "reindeer herding" in record["content"]


def test_a_practice_without_a_nuts2_region_has_no_region_filter(make_site, run):
    root = make_site({"p.md": practice_text(location="{country: ES}")})
    record = fragments(build(run, root))["/practices/p/"]
    assert "region" not in record["filters"]
    assert record["filters"]["country"] == ["Spain"]


def test_search_page_works_without_javascript_by_linking_the_lists(make_site, run):
    root = make_site()
    output = build(run, root, "--base-url", "https://example.org/sub/")
    html = (output / "search/index.html").read_text()
    nojs = html.split('id="search-nojs"')[1].split("</div>")[0]
    assert "Search needs JavaScript" in nojs
    for href in ("/sub/themes/", "/sub/regions/", "/sub/practices/"):
        assert f'href="{href}"' in nojs
    assert 'data-pagefind="/sub/pagefind/pagefind.js"' in html and 'data-base="/sub/"' in html
    assert '<script src="/sub/assets/search.js" defer></script>' in html
    assert '<label for="search-q">' in html and 'aria-live="polite"' in html
    # No other page loads a script.
    for page in (root / "output").rglob("*.html"):
        if page.parent.name != "search":
            assert "<script src" not in page.read_text(), page


def test_search_off_builds_no_index_no_page_and_no_box(make_site, run):
    root = make_site(site=SITE_YAML + "search: false\n")
    output = build(run, root)
    assert not (output / "pagefind").exists()
    assert not (output / "search").exists()
    assert not (output / "assets/search.js").exists()
    for page in output.rglob("*.html"):
        assert "header-search" not in page.read_text(), page
        assert "/search/" not in page.read_text(), page


def test_unchanged_pages_reuse_the_previous_index(make_site, run, caplog):
    root = make_site(TWO)
    output = build(run, root)
    before = {p.relative_to(output): p.stat().st_ino for p in (output / "pagefind").rglob("*")
              if p.is_file()}
    # A change outside the indexed pages (a theme description) is not a reason to index again.
    themes = root / "content/themes.yaml"
    themes.write_text(themes.read_text().replace("Cooperatives and social", "Co-ops and social"))
    with caplog.at_level(logging.INFO, logger="s3site.search"):
        output = build(run, root)
    assert "unchanged, reused" in caplog.text
    after = {p.relative_to(output): p.stat().st_ino for p in (output / "pagefind").rglob("*")
             if p.is_file()}
    assert after == before  # the same files, hard-linked


def test_a_changed_or_removed_practice_is_indexed_again(make_site, run, caplog):
    root = make_site(TWO)
    output = build(run, root)
    (root / "content/practices/a.md").write_text(practice_text(title="Renamed practice"))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="s3site.search"):
        output = build(run, root)
    assert "2 pages indexed" in caplog.text
    assert fragments(output)["/practices/a/"]["meta"]["title"] == "Renamed practice"
    (root / "content/practices/b.md").unlink()
    output = build(run, root)
    assert set(fragments(output)) == {"/practices/a/"}


def slow_pagefind(folder: Path) -> Path:
    """A Pagefind that tells its version at once but never finishes indexing."""
    script = folder / "slow-pagefind"
    script.write_text(f'#!/bin/sh\n[ "$1" = --version ] && exec "{search.pagefind_executable()}" "$@"\n'
                      "exec sleep 30\n")
    script.chmod(0o755)
    return script


def test_indexing_given_up_keeps_the_last_index_until_the_next_build(make_site, monkeypatch, tmp_path):
    import time

    from s3site.builder import build as build_site

    root = make_site(TWO)
    build_site(root)
    before = bundle_files(root / "output")
    (root / "content/practices/a.md").write_text(practice_text(title="Renamed practice"))
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(slow_pagefind(tmp_path)))
    started = time.monotonic()
    result = build_site(root, give_up_search=lambda: time.monotonic() - started > 0.5)
    assert result.search_given_up and time.monotonic() - started < 20
    assert "search index left for a later build" in result.summary()
    assert "Renamed practice" in (root / "output/practices/a/index.html").read_text()
    after = bundle_files(root / "output")
    assert after.pop(".s3site-index") == b"out of date\n" and before.pop(".s3site-index") != b"out of date\n"
    assert after == before  # the last index, whole, with the new pages
    assert fragments(root / "output")["/practices/a/"]["meta"]["title"] != "Renamed practice"

    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    result = build_site(root)  # no file changed since: the index alone is out of date
    assert not result.up_to_date and not result.search_given_up and result.search_seconds > 0
    assert fragments(root / "output")["/practices/a/"]["meta"]["title"] == "Renamed practice"


def test_a_build_not_asked_to_give_up_waits_for_pagefind(make_site, monkeypatch, tmp_path):
    from s3site.builder import build as build_site

    root = make_site(TWO)
    build_site(root)
    (root / "content/practices/a.md").write_text(practice_text(title="Renamed practice"))
    result = build_site(root, give_up_search=lambda: False)
    assert not result.search_given_up
    assert fragments(root / "output")["/practices/a/"]["meta"]["title"] == "Renamed practice"


def test_the_index_is_the_same_on_every_build(run, tmp_path):
    # Pagefind writes its filter files in hash-map order; s3site sorts them.
    first = build(run, REPO, "--output", tmp_path / "one")
    files = bundle_files(first)
    for name in ("two", "three"):
        assert bundle_files(build(run, REPO, "--output", tmp_path / name)) == files


def test_the_build_reports_the_indexing_time(run, tmp_path):
    from s3site.builder import build as build_site

    result = build_site(REPO, output=tmp_path / "out")
    assert result.search_seconds > 0


def test_a_missing_pagefind_stops_the_build_with_a_hint(make_site, run, monkeypatch, tmp_path):
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-such-pagefind"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    status, out, err = run("build", "--root", make_site())
    assert status == 1
    assert "pip install 'pagefind[bin]'" in err and "search: false" in err


def test_canonical_order_survives_a_cbor_round_trip():
    value = ["theme", [["b", [3, 300, 70000]], ["a", [1]], ["ä", [-2]]], True, None, b"\x00"]
    encoded = search._cbor_encode(value)
    assert search._cbor_decode(encoded, 0) == (value, len(encoded))


# --- In the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_url(static_server, example_output):
    return static_server(example_output)


def open_search(page, url: str):
    page.goto(url)
    status = page.locator("#search-status")
    page.wait_for_function(
        "document.getElementById('search-status').textContent.match(/practice|result/)")
    return status


def result_titles(page) -> list[str]:
    return page.locator("#search-list .card-title").all_text_contents()


def practices_with_theme(theme_id: str) -> int:
    return sum(1 for p in load(REPO).site.practices if theme_id in p.themes)


def facet_box(page, legend: str, value: str):
    return page.get_by_role("group", name=legend).get_by_role("checkbox", name=re.compile(
        "^" + re.escape(value) + r" \(\d+\)$"))


@pytest.mark.browser
def test_a_phrase_from_the_seed_practice_finds_it_first(browser_page, site_url):
    from playwright.sync_api import expect

    page = browser_page
    open_search(page, site_url + "search/")
    page.get_by_label("Words to look for").fill("social economy smart specialisation platform")
    page.keyboard.press("Enter")
    expect(page.locator("#search-status")).to_contain_text("for “social economy smart")
    assert result_titles(page)[0] == SEED_TITLE
    first = page.locator("#search-list > li").first
    expect(first).to_contain_text("Pohjois- ja Itä-Suomi, Finland")  # location
    expect(first).to_contain_text("Social economy · Smart specialisation")  # themes
    expect(first).to_contain_text("Five European regions, led by Navarra")  # summary
    assert "q=social+economy+smart+specialisation+platform" in page.url
    first.get_by_role("link").click()
    page.wait_for_url("**/practices/establishment-of-social-economy-s3-platform/")
    assert page.errors == []


@pytest.mark.browser
def test_a_theme_filter_narrows_the_results_and_its_count_is_right(browser_page, site_url):
    from playwright.sync_api import expect

    page = browser_page
    status = open_search(page, site_url + "search/")
    expect(status).to_contain_text("All 14 practices")
    expected = practices_with_theme("social-economy")
    box = facet_box(page, "Theme", "Social economy")
    expect(box).to_have_accessible_name(f"Social economy ({expected})")
    box.check()
    expect(status).to_have_text(f"{expected} practices filtered by theme: Social economy.")
    assert page.locator("#search-list > li").count() == expected < 14
    assert "theme=Social+economy" in page.url
    # Another theme's count is what ticking it too would add (OR within a filter).
    energy = practices_with_theme("low-carbon-economy")
    facet_box(page, "Theme", "Low-carbon economy").check()
    both = sum(1 for p in load(REPO).site.practices
               if {"social-economy", "low-carbon-economy"} & set(p.themes))
    expect(status).to_contain_text(f"{both} practices")
    assert energy > 0
    # A country narrows across filters (AND), and the back button undoes it.
    facet_box(page, "Country", "Denmark").check()
    expect(status).to_have_text("1 practice filtered by theme: Low-carbon economy or "
                                "Social economy; country: Denmark.")
    page.go_back()
    expect(status).to_contain_text(f"{both} practices")
    expect(facet_box(page, "Country", "Denmark")).not_to_be_checked()
    assert page.errors == []


@pytest.mark.browser
def test_a_query_with_no_hits_says_so(browser_page, site_url):
    from playwright.sync_api import expect

    page = browser_page
    open_search(page, site_url + "search/?q=zyxwvutsrq")
    expect(page.locator("#search-status")).to_contain_text("No results for “zyxwvutsrq”")
    assert page.locator("#search-list > li").count() == 0
    expect(page.get_by_role("link", name="practices by theme")).to_be_visible()
    page.get_by_label("Words to look for").fill("tilos")
    expect(page.locator("#search-status")).to_contain_text("1 result for “tilos”")
    expect(page.get_by_role("link", name="practices by theme")).to_be_hidden()


@pytest.mark.browser
def test_the_query_and_filters_survive_a_reload(browser_page, site_url):
    from playwright.sync_api import expect

    page = browser_page
    status = open_search(page, site_url + "search/")
    page.get_by_label("Words to look for").fill("cooperatives")
    page.get_by_role("button", name="Search", exact=True).last.click()
    expect(status).to_contain_text("for “cooperatives”")
    facet_box(page, "Status", "Ongoing").check()
    expect(status).to_contain_text("filtered by status: Ongoing")
    titles = result_titles(page)
    page.reload()
    expect(status).to_contain_text("for “cooperatives”, filtered by status: Ongoing")
    expect(page.get_by_label("Words to look for")).to_have_value("cooperatives")
    expect(facet_box(page, "Status", "Ongoing")).to_be_checked()
    assert result_titles(page) == titles
    assert page.url.endswith("/search/?q=cooperatives&status=Ongoing")


@pytest.mark.browser
def test_the_header_box_on_a_practice_page_lands_on_results(browser_page, site_url):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(site_url + "practices/middelgrunden-wind-cooperative/")
    page.get_by_role("search").get_by_label("Search practices").fill("biorefinery")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=biorefinery")
    expect(page.locator("#search-status")).to_contain_text("for “biorefinery”")
    assert result_titles(page)[0] == "Processum, the forest biorefinery cluster of Örnsköldsvik"


@pytest.mark.browser
def test_main_institution_and_keywords_are_searchable(browser_page, site_url):
    from playwright.sync_api import expect

    page = browser_page
    open_search(page, site_url + "search/?q=interoperability")  # a keyword of X-Road only
    expect(page.locator("#search-status")).to_contain_text("1 result for")
    assert result_titles(page) == [
        "X-Road: Estonia's secure data exchange layer for public services"]
    open_search(page, site_url + "search/?q=Vindm%C3%B8llelaug")  # only in a main institution
    expect(page.locator("#search-status")).to_contain_text("1 result for")


@pytest.mark.browser
def test_search_is_usable_with_the_keyboard_alone(browser_page, site_url):
    from playwright.sync_api import expect

    page = browser_page
    status = open_search(page, site_url + "search/")
    page.locator("#search-q").focus()
    page.keyboard.type("energy")
    page.keyboard.press("Enter")
    expect(status).to_contain_text("for “energy”")
    page.keyboard.press("Tab")  # the Search button
    page.keyboard.press("Tab")  # the first value of the first filter
    focused = page.evaluate("""() => {
        const el = document.activeElement;
        return [el.type, el.closest('fieldset').querySelector('legend').textContent, el.value];
    }""")
    assert focused[:2] == ["checkbox", "Theme"]
    page.keyboard.press("Space")
    expect(status).to_contain_text(f"filtered by theme: {focused[2]}")
    expect(page.locator("#search-facets input:focus")).to_be_checked()  # focus stayed put
    for _ in range(40):  # on to the first result
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#search-list') !== null"):
            break
    else:
        pytest.fail("no result link reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/practices/*/")


@pytest.mark.browser
def test_search_page_without_javascript_points_to_the_lists(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site_url + "search/")
        assert page.get_by_text("Search needs JavaScript").is_visible()
        for name in ("Practices by theme", "Practices by region", "All practices"):
            assert page.get_by_role("main").get_by_role("link", name=name).is_visible()
        assert not page.locator("#search-q").is_visible()
    finally:
        context.close()


@pytest.mark.browser
def test_search_works_under_a_sub_path(browser_page, static_server, example_output_sub):
    from playwright.sync_api import expect

    page = browser_page
    url = static_server(example_output_sub, "/practices/")
    page.goto(url)
    page.get_by_role("search").get_by_label("Search practices").fill("cooperatives")
    page.keyboard.press("Enter")
    page.wait_for_url("**/practices/search/?q=cooperatives")
    expect(page.locator("#search-status")).to_contain_text("results for “cooperatives”")
    facet_box(page, "Theme", "Social economy").check()
    expect(page.locator("#search-status")).to_contain_text("filtered by theme: Social economy")
    link = page.locator("#search-list a").first
    assert link.get_attribute("href").startswith("/practices/practices/")
    link.click()
    page.wait_for_url(re.compile(r"/practices/practices/[a-z0-9-]+/$"))
    assert page.errors == []


def test_a_missing_browser_skips_or_fails_as_the_environment_asks(monkeypatch, tmp_path):
    import browser

    monkeypatch.setenv("S3SITE_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("S3SITE_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        browser.require_browser()
    monkeypatch.setenv("S3SITE_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="S3SITE_REQUIRE_BROWSER=1"):
        browser.require_browser()
