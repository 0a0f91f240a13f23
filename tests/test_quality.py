"""The quality gate: the tools auditors use, run on the built example site.

Every page type (home, the practice list and its second page, a practice,
themes and a theme, regions, a country, a NUTS 2 and a NUTS 3 region, types of
region, statistics and the lists its bars link to, search, a free page, 404)
goes through

- the Nu Html Checker (npm `vnu-jar`, run with Java): no error, on every HTML
  file of the site;
- axe-core (npm `axe-core`) in Debian's Chromium, WCAG 2.0 and 2.1 A and AA
  rules, in the light and the dark colour scheme: no violation;
- a 360 px wide screen: no horizontal scrolling, and axe's WCAG 2.2 target
  size rule (tap targets of at least 24 px, or spaced as if they were);
- screenshots at 360 and 1280 px into tests/screenshots/, for people to look at.

Without a browser: a crawl from the home page (every internal link and asset
answers 200; the sitemap lists exactly the HTML pages that do not say
noindex), every Atom feed parsed by feedparser (each entry links to a page
that exists), the weight of practice pages and the size and lazy loading of
images. Each check is also shown catching a defect planted on purpose.

The validators are installed by `make quality-tools` (npm ci into
tools/quality/node_modules); Java by `apt-get install default-jre-headless`,
Chromium by `apt-get install chromium`. Without them these tests are skipped
with that hint, unless S3SITE_REQUIRE_BROWSER=1 (as .ci/run sets): then a
missing tool fails. The counts are printed at the end of the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO, add_summary, practice_text

from s3site.builder import load
from s3site.links import page_links
from s3site.stats import status_url, year_url

pytest_plugins = ["browser"]

QUALITY_TOOLS = REPO / "tools" / "quality" / "node_modules"
VNU_JAR = QUALITY_TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = QUALITY_TOOLS / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "tests" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TOOLS_HINT = "install them with `make quality-tools` (npm ci --prefix tools/quality)"
PRACTICE_BUDGET = 40 * 1024  # bytes of HTML and CSS a practice page may weigh
SECTION = "quality gate"


def require(what: str, present: bool, hint: str) -> None:
    """Skip (or, under S3SITE_REQUIRE_BROWSER=1, fail) when a tool is missing."""
    if present:
        return
    message = f"the quality gate needs {what}: {hint}"
    if os.environ.get("S3SITE_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; S3SITE_REQUIRE_BROWSER=1 makes a missing tool a failure",
                    pytrace=False)
    pytest.skip(message)


def java() -> str:
    found = shutil.which("java")
    require("Java", found is not None, "install it with `apt-get install default-jre-headless`")
    require("the Nu Html Checker", VNU_JAR.is_file(), TOOLS_HINT)
    assert found is not None
    return found


def axe_script() -> Path:
    require("axe-core", AXE_JS.is_file(), TOOLS_HINT)
    return AXE_JS


# --- The page types ------------------------------------------------------------------------------


def page_types(output: Path) -> dict[str, str]:
    """One URL path of each page type of the example site, by name."""
    site = load(REPO).site
    base = site.settings.base_path

    def region(level: int) -> str:
        return next(t.url for t in site.regions.values() if t.region.level == level and t.count)

    practices = sorted(site.practices,
                       key=lambda p: -local_file(output, p.url).stat().st_size)
    assert len(site.practices) > site.settings.per_page, "the example needs a second list page"
    first_year = min(p.start.year for p in site.practices)
    return {
        "home": base,
        "practices": f"{base}practices/",
        "practices-page-2": f"{base}practices/page/2/",
        "practice": practices[0].url,  # the largest
        "themes": f"{base}themes/",
        "theme": next(t.url for t in site.themes if t.count),
        "regions": f"{base}regions/",
        "country": next(t.url for t in site.countries if t.count),
        "nuts2": region(2),
        "nuts3": region(3),
        "region-types": f"{base}regions/types/",
        "region-type": site.region_types[0].url,
        "stats": f"{base}stats/",
        "started": year_url(base, first_year),
        "status": status_url(base, "ongoing"),
        "search": f"{base}search/",
        "page": site.pages[0].url,
        "404": f"{base}404.html",
    }


def local_file(output: Path, path: str) -> Path:
    relative = urllib.parse.unquote(path).lstrip("/")
    if relative.endswith("/") or not relative:
        relative += "index.html"
    return output / relative


@pytest.fixture(scope="module")
def pages(example_output) -> dict[str, str]:
    return page_types(example_output)


@pytest.fixture(scope="module")
def served(example_output, static_server) -> str:
    """The example site on 127.0.0.1, without the trailing slash."""
    return static_server(example_output).rstrip("/")


def test_every_page_type_is_built(example_output, pages):
    assert len(pages) == 18
    for name, path in pages.items():
        assert local_file(example_output, path).is_file(), name


# --- The Nu Html Checker -------------------------------------------------------------------------


def run_vnu(files: list[Path]) -> list[dict]:
    """The checker's errors for these files (an empty list: all valid)."""
    result = subprocess.run(
        [java(), "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    report = result.stderr.strip() or result.stdout.strip()
    messages = json.loads(report)["messages"]
    assert result.returncode == (1 if messages else 0), report[:2000]
    return [m for m in messages if m.get("type") in ("error", "non-document-error", "fatal")]


def describe(messages: list[dict]) -> str:
    return "\n".join(f"{m.get('url', '')}:{m.get('lastLine', '')}: {m.get('message', '')}"
                     f" [{m.get('extract', '').strip()[:80]}]" for m in messages[:40])


def test_nu_html_checker_finds_no_error_in_any_page(example_output, pages, request):
    files = sorted(example_output.rglob("*.html"))
    for path in pages.values():
        assert local_file(example_output, path) in files
    errors = run_vnu(files)
    add_summary(request.config, SECTION,
                f"Nu Html Checker: {len(files)} pages checked, errors: {len(errors)}")
    assert errors == [], describe(errors)


# --- axe-core in Chromium, and what a reader sees ------------------------------------------------


def open_page(page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None
    if url.endswith("/search/"):
        # The search page shows its form once Pagefind has loaded.
        page.wait_for_selector("#search:not([hidden])")
        page.wait_for_load_state("networkidle")


def run_axe(page, tags: list[str] = WCAG_TAGS) -> list[dict]:
    """axe-core's violations on the page open in `page`."""
    page.add_script_tag(path=str(axe_script()))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})", tags)
    return result["violations"]


def describe_violations(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            targets = [n["target"] for n in v["nodes"][:3]]
            lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)


def screenshot(page, name: str, width: int, scheme: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}-{scheme}.png"), full_page=True)


def axe_version() -> str:
    return json.loads((QUALITY_TOOLS / "axe-core" / "package.json").read_text())["version"]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_in_any_page_type(browser_page, served, pages, scheme, request):
    axe_script()
    page = browser_page
    page.emulate_media(color_scheme=scheme)
    found: dict[str, list[dict]] = {}
    for name, path in pages.items():
        open_page(page, served + path)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(21, 23, 27)" if scheme == "dark" else "rgb(255, 255, 255)"), name
        found[name] = run_axe(page)
        screenshot(page, name, 1280, scheme)
    assert page.errors == []
    count = sum(len(v) for v in found.values())
    add_summary(request.config, SECTION,
                f"axe-core {axe_version()} (WCAG 2.0/2.1 A, AA), {scheme} scheme at 1280 px: "
                f"{len(pages)} pages checked, violations: {count}")
    assert count == 0, describe_violations(found)


# Targets people tap: links, buttons and fields (WCAG 2.5.8 exempts links inside sentences,
# which axe's target-size rule knows).
OVERFLOW_JS = """() => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > document.documentElement.clientWidth + 0.5
        && getComputedStyle(el).position !== 'absolute') wide.push(el.tagName + '.' + el.className);
  }
  return {scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 5)};
}"""


@pytest.mark.browser
def test_small_screen_has_no_horizontal_scroll_and_big_enough_targets(browser_page, served, pages,
                                                                       request):
    axe_script()
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    overflowing: dict[str, dict] = {}
    found: dict[str, list[dict]] = {}
    for name, path in pages.items():
        open_page(page, served + path)
        measured = page.evaluate(OVERFLOW_JS)
        if measured["scrollWidth"] > 360:
            overflowing[name] = measured
        found[name] = run_axe(page, WCAG_TAGS + ["wcag22aa"])
        screenshot(page, name, 360, "light")
        page.emulate_media(color_scheme="dark")
        screenshot(page, name, 360, "dark")
        page.emulate_media(color_scheme="light")
    count = sum(len(v) for v in found.values())
    add_summary(request.config, SECTION,
                f"360 px: {len(pages)} pages checked, horizontal scroll: {len(overflowing)}, "
                f"violations (with WCAG 2.2 target size): {count}")
    add_summary(request.config, SECTION,
                f"screenshots: {len(list(SCREENSHOTS.glob('*.png')))} in "
                f"{SCREENSHOTS.relative_to(REPO)}/"
                " (each page type at 360 px light and dark, 1280 px light and dark)")
    assert overflowing == {}
    assert count == 0, describe_violations(found)


@pytest.mark.browser
def test_print_hides_navigation_and_shows_link_addresses(browser_page, served, pages):
    page = browser_page
    open_page(page, served + pages["practice"])
    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['.site-header', '.site-nav', '.site-footer', '.skip-link',
        '.header-search'].map(s => document.querySelector(s))
        .filter(el => el && getComputedStyle(el).display !== 'none').map(el => el.className)""")
    assert hidden == []
    after = page.evaluate("""() => {
        const link = document.querySelector('main a[href^="http"]');
        return link ? [link.getAttribute('href'), getComputedStyle(link, '::after').content]
                    : null; }""")
    assert after is not None, "the practice should have an external link"
    assert after[1] == f'" ({after[0]})"'
    colours = page.evaluate("[getComputedStyle(document.body).color,"
                            " getComputedStyle(document.body).backgroundColor]")
    assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    page.emulate_media(media="screen")


# --- The crawl, the sitemap and the feeds ------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is not a 200
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET, redirects not followed."""
    try:
        with _OPENER.open(url, timeout=30) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", b""


@dataclass
class Crawl:
    pages: set[str] = field(default_factory=set)  # HTML pages reached, as URL paths
    noindex: set[str] = field(default_factory=set)  # of those, the ones that say noindex
    status: dict[str, int] = field(default_factory=dict)  # every internal URL path fetched
    broken: list[tuple[str, str, int]] = field(default_factory=list)  # (page, link, status)
    links: int = 0  # internal links followed, counting repeats


NOINDEX_RE = re.compile(r'<meta name="robots" content="[^"]*noindex', re.I)


def crawl(root_url: str, start: str = "/") -> Crawl:
    """Follow every internal href, src and form action from `start`; GET each URL once."""
    origin = urllib.parse.urlsplit(root_url)
    found = Crawl()
    queue = deque([start])
    seen = {start}
    linked: list[tuple[str, str, str]] = []  # (page, link as written, target path)
    while queue:
        path = queue.popleft()
        status, kind, body = fetch(f"{origin.scheme}://{origin.netloc}{path}")
        found.status[path] = status
        if status != 200 or kind != "text/html":
            continue
        html = body.decode("utf-8")
        found.pages.add(path)
        if NOINDEX_RE.search(html):
            found.noindex.add(path)
        for link in page_links(html):
            target = urllib.parse.urlsplit(urllib.parse.urljoin(f"{root_url}{path}", link))
            if target.scheme not in ("http", "https") or target.netloc != origin.netloc:
                continue  # mailto:, another host, or the published address in canonical links
            linked.append((path, link, target.path))
            if target.path not in seen:
                seen.add(target.path)
                queue.append(target.path)
    found.links = len(linked)
    found.broken = sorted({(page, link, found.status[target]) for page, link, target in linked
                           if found.status[target] != 200})
    return found


def sitemap_paths(output: Path, origin: str) -> set[str]:
    tree = ET.parse(output / "sitemap.xml")
    locs = [e.text or "" for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert all(loc.startswith(origin) for loc in locs)
    return {loc[len(origin) - 1:] for loc in locs}


def html_pages(output: Path) -> tuple[set[str], set[str]]:
    """(every HTML file as a URL path, those that say noindex)."""
    everything, noindex = set(), set()
    for path in output.rglob("*.html"):
        url = "/" + path.relative_to(output).as_posix().removesuffix("index.html")
        everything.add(url)
        if NOINDEX_RE.search(path.read_text(encoding="utf-8")):
            noindex.add(url)
    return everything, noindex


def check_sitemap(output: Path, found: Crawl, origin: str) -> list[str]:
    """What is wrong with the sitemap: pages missing, pages that should not be there, dead URLs."""
    listed = sitemap_paths(output, origin)
    everything, noindex = html_pages(output)
    problems = [f"not in the sitemap: {p}" for p in sorted(everything - noindex - listed)]
    problems += [f"in the sitemap but not an indexable page: {p}"
                 for p in sorted(listed - (everything - noindex))]
    problems += [f"in the sitemap but not reached from the home page: {p}"
                 for p in sorted(listed - found.pages)]
    return problems


def check_feeds(output: Path, root_url: str, origin: str) -> tuple[int, int, list[str]]:
    """(feeds parsed, entries, problems) for every Atom feed of the site."""
    import feedparser

    problems = []
    feeds = entries = 0
    for path in sorted(output.rglob("feed.xml")):
        feeds += 1
        parsed = feedparser.parse(path.read_bytes())
        where = path.relative_to(output).as_posix()
        if parsed.bozo:
            problems.append(f"{where}: {parsed.bozo_exception}")
        if parsed.version != "atom10":
            problems.append(f"{where}: not Atom 1.0 ({parsed.version!r})")
        for entry in parsed.entries:
            entries += 1
            link = entry.get("link", "")
            if not link.startswith(origin):
                problems.append(f"{where}: entry link {link!r} is not on the site")
                continue
            status, kind, _ = fetch(root_url + link[len(origin) - 1:])
            if status != 200 or kind != "text/html":
                problems.append(f"{where}: entry {entry.get('title')!r} links to {link} ({status})")
    return feeds, entries, problems


@pytest.fixture(scope="module")
def origin() -> str:
    """Where the example site says it is published (its sitemap and feeds use it)."""
    return load(REPO).site.settings.origin + "/"


def test_crawl_from_home_finds_no_broken_link_and_the_sitemap_lists_every_page(
        example_output, served, pages, origin, request):
    found = crawl(served)
    add_summary(request.config, SECTION,
                f"crawl from the home page: {len(found.pages)} pages, {len(found.status)} URLs "
                f"fetched, {found.links} links followed, broken links: {len(found.broken)}")
    assert found.broken == []
    assert set(found.status.values()) == {200}
    for name, path in pages.items():
        if name != "404":
            assert path in found.pages, name
    problems = check_sitemap(example_output, found, origin)
    listed = sitemap_paths(example_output, origin)
    noindex = html_pages(example_output)[1]
    add_summary(request.config, SECTION,
                f"sitemap: {len(listed)} URLs, every HTML page but the {len(noindex)} that say "
                f"noindex ({', '.join(sorted(noindex))}), problems: {len(problems)}")
    assert problems == []
    assert {pages["404"], pages["search"]} <= html_pages(example_output)[1]


def test_every_feed_parses_and_its_entries_link_to_pages(example_output, served, origin, request):
    feeds, entries, problems = check_feeds(example_output, served, origin)
    add_summary(request.config, SECTION,
                f"Atom feeds (feedparser): {feeds} parsed, {entries} entries, "
                f"problems: {len(problems)}")
    assert feeds > 10 and entries > 20
    assert problems == []


# --- Weight and images -------------------------------------------------------------------------


STYLESHEET_RE = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def page_weight(output: Path, html_file: Path) -> int:
    """Bytes of a page's HTML and of the stylesheets it links to, uncompressed."""
    html = html_file.read_text(encoding="utf-8")
    css = [local_file(output, href) for href in STYLESHEET_RE.findall(html)]
    assert css and all(c.is_file() for c in css)
    return html_file.stat().st_size + sum(c.stat().st_size for c in css)


def test_practice_pages_weigh_under_40_kb_of_html_and_css(example_output, request):
    site = load(REPO).site
    weights = {p.slug: page_weight(example_output, local_file(example_output, p.url))
               for p in site.practices}
    heaviest = max(weights, key=weights.get)
    add_summary(request.config, SECTION,
                f"weight: heaviest practice page {weights[heaviest] / 1024:.1f} KB of HTML + CSS "
                f"({heaviest}; limit 40 KB), no web fonts, no script")
    assert weights[heaviest] < PRACTICE_BUDGET, weights
    html = local_file(example_output, site.practices[0].url).read_text(encoding="utf-8")
    assert "@font-face" not in (example_output / "assets/s3site.css").read_text()
    assert "<script src" not in html


IMG_RE = re.compile(r"<img\b[^>]*>")


def image_problems(output: Path) -> list[str]:
    problems = []
    for path in output.rglob("*.html"):
        for tag in IMG_RE.findall(path.read_text(encoding="utf-8")):
            for needed in (" width=", " height=", ' loading="lazy"', " alt="):
                if needed not in tag:
                    problems.append(f"{path.relative_to(output)}: {tag} lacks{needed.rstrip('=')}")
    return problems


def test_images_have_width_height_and_lazy_loading(make_site, run, example_output):
    assert image_problems(example_output) == []
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
    root = make_site(
        {"pictured.md": practice_text(
            image="{src: /img/photo.png, alt: A wind farm at sea, width: 640, height: 480}",
            body="The description.\n\n![A map](/img/photo.png)\n")},
        files={"content/static/img/photo.png": png},
    )
    status, _, err = run("build", "--root", root)
    assert status == 0, err
    html = (root / "output/practices/pictured/index.html").read_text(encoding="utf-8")
    assert re.search(r'<img [^>]*src="/img/photo.png" alt="A wind farm at sea" width="640" '
                     r'height="480" loading="lazy">', html)
    # Markdown images are lazy too; their size is the editor's to give (see docs/quality.md).
    assert all(' loading="lazy"' in tag for tag in IMG_RE.findall(html))
    assert [p for p in image_problems(root / "output") if "photo.png\" alt=\"A wind" in p] == []


# --- The gate catches what it is for ------------------------------------------------------------


def planted_copy(example_output: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(example_output, copy)
    return copy


def plant(output: Path, path: str, markup: str) -> None:
    """Put markup at the start of a page's <main>."""
    page = local_file(output, path)
    html = page.read_text(encoding="utf-8")
    assert html.count('tabindex="-1">\n') == 1
    html = html.replace('tabindex="-1">\n', f'tabindex="-1">\n{markup}\n')
    page.write_text(html, encoding="utf-8")


def test_nu_html_checker_catches_an_invalid_element(example_output, pages, tmp_path):
    java()
    copy = planted_copy(example_output, tmp_path)
    page = local_file(copy, pages["practice"])
    assert run_vnu([page]) == []
    plant(copy, pages["practice"], "<blink>New!</blink><ul><p>Not a list item</p></ul>")
    errors = run_vnu([page])
    text = describe(errors)
    assert len(errors) >= 2, text
    assert "blink" in text and "“p” not allowed as child of element “ul”" in text


@pytest.mark.browser
def test_axe_catches_an_image_without_alt_and_low_contrast(browser_page, static_server,
                                                            example_output, pages, tmp_path):
    axe_script()
    copy = planted_copy(example_output, tmp_path)
    plant(copy, pages["home"], '<img src="/assets/favicon.svg" width="32" height="32">'
          '<p style="color:#bbb;background:#fff">Faint text</p>')
    url = static_server(copy).rstrip("/")
    open_page(browser_page, url + pages["home"])
    ids = {v["id"] for v in run_axe(browser_page)}
    assert {"image-alt", "color-contrast"} <= ids
    open_page(browser_page, url + pages["theme"])
    assert run_axe(browser_page) == []


@pytest.mark.browser
def test_small_screen_check_catches_a_wide_element_and_a_tiny_target(
        browser_page, static_server, example_output, pages, tmp_path):
    axe_script()
    copy = planted_copy(example_output, tmp_path)
    plant(copy, pages["page"],
          '<div style="width:900px">Too wide</div>'
          '<p><a href="/">A</a><a href="/themes/" style="font-size:8px">B</a></p>')
    browser_page.set_viewport_size({"width": 360, "height": 740})
    open_page(browser_page, static_server(copy).rstrip("/") + pages["page"])
    assert browser_page.evaluate(OVERFLOW_JS)["scrollWidth"] > 360
    assert "target-size" in {v["id"] for v in run_axe(browser_page, WCAG_TAGS + ["wcag22aa"])}


def test_crawl_catches_a_broken_link_a_missing_asset_and_a_sitemap_gap(
        example_output, static_server, pages, origin, tmp_path):
    copy = planted_copy(example_output, tmp_path)
    plant(copy, pages["page"], '<a href="/no-such-page/">Gone</a><a href="/themes">No slash</a>')
    (copy / "assets" / "favicon.svg").unlink()
    shutil.rmtree(copy / pages["nuts3"].strip("/"))  # linked from its parent region
    sitemap = (copy / "sitemap.xml").read_text(encoding="utf-8")
    stats = f"<url><loc>{origin}stats/</loc></url>"
    assert stats in sitemap
    (copy / "sitemap.xml").write_text(sitemap.replace(stats, ""), encoding="utf-8")
    found = crawl(static_server(copy).rstrip("/"))
    broken = {(link, status) for _, link, status in found.broken}
    assert ("/no-such-page/", 404) in broken
    assert ("/themes", 301) in broken  # a redirect is not an answer
    assert ("/assets/favicon.svg", 404) in broken
    assert (pages["nuts3"], 404) in broken
    problems = check_sitemap(copy, found, origin)
    assert "not in the sitemap: /stats/" in problems
    assert f"in the sitemap but not an indexable page: {pages['nuts3']}" in problems


def test_feed_check_catches_a_malformed_feed_and_an_entry_without_a_page(
        example_output, static_server, origin, tmp_path):
    copy = planted_copy(example_output, tmp_path)
    site = load(REPO).site
    newest = site.practices[0]
    shutil.rmtree(copy / newest.url.strip("/"))
    theme_feed = copy / "themes" / site.themes[0].id / "feed.xml"
    theme_feed.write_text(theme_feed.read_text(encoding="utf-8").replace("</feed>", "<entry>"),
                          encoding="utf-8")
    _, _, problems = check_feeds(copy, static_server(copy).rstrip("/"), origin)
    assert any(p.startswith("feed.xml: entry") and newest.url in p for p in problems), problems
    bad = [p for p in problems if p.startswith(f"themes/{site.themes[0].id}/feed.xml: ")]
    assert bad and "links to" not in bad[0], problems
