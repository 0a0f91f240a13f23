"""The Jinja environment and the rendering of one output file.

Templates are looked up in the site's own `templates/` folder first, then in
the package's defaults, so a site overrides any template by giving a file
the same name. Every template gets the same small context:

- `site`: the Site (settings, practices, themes, regions, countries, pages;
  `menu` and `page_links`: links to the free pages, for the header and footer)
- `settings`: the site's Settings, for short
- `meta`: the page's title, description, canonical URL and kind
- plus what the page is about: `practice`, `term`, `pager`, `page`... (a
  region's page also gets its `crumbs` (RegionLink) and `subregions` (Subregion))

Helpers available in templates: `url(path)` (a site path under the base
path), `absolute(url)` (with the host, for feeds and canonical links) and the
filters `iso` (a date as YYYY-MM-DD), `jsonld` (schema.org data) and
`region_link` (a region or its code as `name` and `url` of its page).
`region_term` gives a region's whole index term (its lists, its neighbours):
a page using it is made again after any edit, as are pages reading `site`.
`card(practice)` renders partials/card.html (with the practice as `item`)
once per build; lists show practices through it. `europe_map(id)` and
`europe_map_legend()` draw the map of Europe. Charts (stats.py): `stats_charts()` gives the statistics page's charts by
key, and `chart_svg(chart, id, limit=0, title="")` draws one as inline SVG.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.compiler
from markupsafe import Markup, escape

try:  # markupsafe's own C escaping, without the Markup object escape() makes of its result
    from markupsafe._speedups import _escape_inner
except ImportError:  # without its C extension, or another version: its public escaping
    def _escape_inner(text: str, /) -> str:
        return str(escape(text))

from .cache import CODE_SALT, atomic_write, decode, digest, encode
from .errors import Diagnostic, error
from .indexes import region_url
from .mapsvg import render_legend, render_map
from .model import Practice, RegionLink, Site
from .regions import TYPOLOGY_LABELS, Region, RegionRegistry
from .stats import Chart, render_chart, site_charts

log = logging.getLogger(__name__)

# The language of official region names written in another script, by country
# (Greek, Cyrillic), for the lang attribute screen readers rely on.
NAME_LANGUAGES = {"EL": "el", "CY": "el", "BG": "bg", "UA": "uk", "RS": "sr", "MK": "mk",
                  "ME": "sr", "BA": "bs"}
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"


def escape_output(value: Any) -> str:
    """markupsafe.escape(value) as a plain string, for a value written into a page.

    Each `{{ value }}` of a template is escaped, a hundred times and more for
    a page listing practices; escape() makes a Markup of each, in Python,
    four fifths of its time. Written straight into the page, the value needs
    only its text.
    """
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):  # already HTML (Markup): as markupsafe takes it
        html = value.__html__()
        return html if isinstance(html, str) else str(html)
    return _escape_inner(str(value))


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's own, but writing escape_output(value) for `{{ value }}` where Jinja writes
    escape(value): what a template writes out is only ever joined into the page (a block,
    a macro or `{% set %}` makes a Markup of the whole), never used as a Markup."""

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        if not frame.eval_ctx.autoescape or frame.eval_ctx.volatile:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


class _Environment(jinja2.Environment):
    code_generator_class = _CodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.escape_output = escape_output  # on the object: looked up once per value written

    def make_globals(self, d: Any) -> dict[str, Any]:
        """A template's globals as one plain dict, where Jinja makes a ChainMap over the
        environment's: each render copies them into its context, 0.3 µs from a dict against
        11 µs from a ChainMap, whose keys Python code looks up one by one (24,000 renders at
        10,000 practices, the cards included). A template then keeps the environment's
        globals of when it was loaded; Renderer sets them before any template is loaded and
        empties the cache of loaded templates as it does."""
        return {**self.globals, **(d or {})}


@dataclass(frozen=True, slots=True)
class Meta:
    """What every page says about itself in its <head>."""

    title: str
    url: str  # root-relative, with the base path
    kind: str  # home, practice, practices, theme, themes, region, regions, page, stats, search...
    description: str = ""
    noindex: bool = False


@dataclass(frozen=True, slots=True)
class Pager:
    """One page of a paginated list."""

    number: int  # 1-based
    count: int  # how many pages in all
    items: tuple[Any, ...]
    urls: tuple[str, ...]  # the URL of each page, by number - 1
    total: int  # items across all pages
    start: int  # the 1-based position of the first item in the whole list

    @property
    def prev_url(self) -> str:
        return self.urls[self.number - 2] if self.number > 1 else ""

    @property
    def next_url(self) -> str:
        return self.urls[self.number] if self.number < self.count else ""

    @property
    def shown(self) -> tuple[tuple[int, str | None], ...]:
        """The pages a pager links to, as (number, URL): the first two, the last two and two
        either side of this one; (number, None) where the pages around are left out.

        Worked out here, not by looping over every URL in the template: a list
        of 500 pages would loop 250,000 times.
        """
        count, number = self.count, self.number
        linked = {n for n in (1, 2, count - 1, count, *range(number - 2, number + 3)) if 1 <= n <= count}
        gaps = {n for n in (3, count - 2) if 1 <= n <= count and n not in linked}
        return tuple((n, self.urls[n - 1] if n in linked else None) for n in sorted(linked | gaps))


def paginate(items: tuple[Any, ...], per_page: int, first_url: str) -> list[Pager]:
    """Cut a list into pages: first_url, then first_url + "page/2/", ..."""
    chunks = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [()]
    urls = tuple(first_url if n == 1 else f"{first_url}page/{n}/" for n in range(1, len(chunks) + 1))
    return [
        Pager(n, len(chunks), chunk, urls, len(items), (n - 1) * per_page + 1)
        for n, chunk in enumerate(chunks, 1)
    ]


@dataclass(slots=True)
class TemplateSet:
    """Where templates come from: the site's folder, then the package."""

    site_templates: Path | None
    bytecode_folder: Path | None = None  # compiled templates kept between builds
    environment: jinja2.Environment = field(init=False)
    search_path: list[str] = field(init=False)
    # What fingerprint.py finds by reading the templates: kept with them (and in the
    # cache, see read_findings), so a rebuild with the same templates does not read them again.
    findings: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.search_path = [str(PACKAGE_TEMPLATES)]
        if self.site_templates and self.site_templates.is_dir():
            self.search_path.insert(0, str(self.site_templates))
        bytecode_cache = None
        if self.bytecode_folder is not None:
            try:
                self.bytecode_folder.mkdir(parents=True, exist_ok=True)
                # Keyed by each template's source, so an edited template is
                # compiled again; compiling all of them costs a third of a second.
                # And by s3site's own code, which changes what they compile to
                # (see _CodeGenerator): one s3site never runs another's.
                bytecode_cache = jinja2.FileSystemBytecodeCache(
                    str(self.bytecode_folder), pattern=f"__s3site_{CODE_SALT[:16]}_%s.cache")
            except OSError:
                bytecode_cache = None
        self.environment = _Environment(
            loader=jinja2.FileSystemLoader(self.search_path),
            bytecode_cache=bytecode_cache,
            autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default_for_string=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Templates are read once per build; checking them for changes
            # on every render would cost a stat() per page.
            auto_reload=False,
        )

    def read_findings(self, path: Path, key: str) -> None:
        """Take the findings a build with the same templates (and code: `key`) saved in `path`."""
        try:
            saved = decode(path.read_bytes())
        except OSError:
            return
        if isinstance(saved, dict) and saved.get("key") == key and isinstance(saved.get("findings"), dict):
            self.findings.update(saved["findings"])

    def save_findings(self, path: Path, key: str) -> None:
        """Keep the findings for the next build: reading every template for them costs more
        than a twentieth of a second of each rebuild."""
        data = encode({"key": key, "findings": self.findings})
        try:
            if path.read_bytes() == data:
                return
        except OSError:
            pass
        try:
            atomic_write(path, data)
        except OSError as exc:
            log.debug("cannot keep the template findings: %s", exc)

    def digest(self) -> str:
        """One digest of every template file, in lookup order."""
        parts = []
        for folder in self.search_path:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    parts.append(f"{path.relative_to(folder)}:{digest(path.read_bytes())}")
        return digest(*parts)

    def resolved_path(self, name: str) -> str:
        """Which file a template name resolves to, for debug logs and cache keys."""
        for folder in self.environment.loader.searchpath:  # type: ignore[union-attr]
            candidate = Path(folder) / name
            if candidate.is_file():
                return str(candidate)
        return ""


class Renderer:
    """Renders templates for one site."""

    def __init__(self, site: Site, templates: TemplateSet, registry: RegionRegistry) -> None:
        self.site = site
        self.templates = templates
        self._announced: set[str] = set()
        self.env = templates.environment
        self._charts: dict[str, Chart] | None = None
        base = site.settings.base_path
        origin = site.settings.origin
        self.env.globals.update(
            site=site,
            settings=site.settings,
            url=lambda path="": base + str(path).lstrip("/"),
            absolute=lambda url: origin + url,
        )
        self.env.globals["card"] = self.card
        self._cards: dict[str, Markup] = {}
        self.env.globals["europe_map"] = self._europe_map
        self.env.globals["europe_map_legend"] = lambda: Markup(render_legend(self._country_counts()))
        self.env.globals["stats_charts"] = self._stats_charts
        self.env.globals["chart_svg"] = _chart_svg
        self.env.filters["name_lang"] = lambda country: NAME_LANGUAGES.get(country, country.lower())
        self.env.filters["iso"] = _iso
        self.env.filters["region_term"] = lambda code: site.regions[code]
        self.env.filters["region_link"] = _region_link(registry, base)
        self.env.filters["type_label"] = lambda type_id: TYPOLOGY_LABELS.get(type_id, type_id)
        self.env.filters["jsonld"] = lambda practice: practice_jsonld(practice, site)
        # A loaded template keeps the globals of when it was loaded (_Environment.make_globals),
        # and the preview keeps its templates from build to build: they are loaded again,
        # from the bytecode cache, with this build's.
        if self.env.cache is not None:
            self.env.cache.clear()

    def card(self, practice: Practice) -> Markup:
        """A practice as listed (partials/card.html, which gets `item`), rendered once per build.

        A practice appears in many lists (related practices, themes, every
        level of its region); its card is the same in each.
        """
        html = self._cards.get(practice.slug)
        if html is None:
            html = Markup(self.env.get_template("partials/card.html").render(item=practice).strip("\n"))
            self._cards[practice.slug] = html
        return html

    def _country_counts(self) -> dict[str, int]:
        return {term.code: term.count for term in self.site.countries}

    def _stats_charts(self) -> dict[str, Chart]:
        """The statistics page's charts by key (themes, countries, years, status, regions)."""
        if self._charts is None:
            self._charts = {chart.key: chart for chart in site_charts(self.site)}
        return self._charts

    def _europe_map(self, map_id: str) -> Markup:
        """The map of Europe, each country shaded by its practices and linked to its page."""
        countries = self.site.countries
        return Markup(
            render_map(
                self._country_counts(),
                {term.code: term.url for term in countries},
                {term.code: term.name for term in countries},
                title="Map of Europe: practices by country",
                id_prefix=map_id,
                legend=False,
            )
        )

    def render(self, template: str, **context: Any) -> str:
        """Render one template with the shared globals and this page's context."""
        if template not in self._announced:
            # Which file won, the site's override or the package's default.
            log.debug("template %s: %s", template, self.templates.resolved_path(template))
            self._announced.add(template)
        return self.env.get_template(template).render(**context)


def template_error(exc: Exception, root: Path) -> Diagnostic:
    """A template failure as a diagnostic naming the template file and line."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None) or 0
    if not filename:
        # Jinja rewrites tracebacks so that template frames carry the
        # template's file name and line; the innermost one is the culprit.
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename.endswith((".html", ".xml", ".txt", ".svg")):
                filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
            tb = tb.tb_next
    where = str(filename or "templates")
    try:
        where = Path(where).resolve().relative_to(root).as_posix()
    except ValueError:
        pass
    message = getattr(exc, "message", None) or str(exc)
    return error(where, f"template error: {message}", line)


def _chart_svg(chart: Chart, chart_id: str, limit: int = 0, title: str = "") -> Markup:
    """A chart of stats.py as inline SVG (see `stats.render_chart`)."""
    return Markup(render_chart(chart, id_prefix=chart_id, limit=limit, title=title))


def _region_link(registry: RegionRegistry, base: str) -> Callable[[Region | str], RegionLink]:
    """The `region_link` filter: a region (or its code) as its name and the address of its page.

    From the registry, not from the site's index terms, so that what a page shows depends
    on nothing the page's key does not cover (fingerprint.py). A region has a page when a
    practice involves it or a region below it.
    """
    links: dict[str, RegionLink] = {}

    def region_link(region: Region | str) -> RegionLink:
        code = region if isinstance(region, str) else region.code
        link = links.get(code)
        if link is None:
            found = registry.get(code)
            if found is None:
                raise jinja2.TemplateRuntimeError(f"region_link: no region has the code {code!r}")
            link = links[code] = RegionLink(found.code, found.display_name, region_url(base, found.code))
        return link

    return region_link


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def practice_jsonld(practice: Practice, site: Site) -> str:
    """schema.org data for a practice, safe inside a <script> element."""
    origin = site.settings.origin
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "CreativeWork",
        "name": practice.title,
        "abstract": practice.summary,
        "url": origin + practice.url,
        "dateCreated": str(practice.start),
        "keywords": list(practice.keywords) + [t.title for t in practice.theme_objects],
        "about": [t.title for t in practice.theme_objects],
        "spatialCoverage": {
            "@type": "Place",
            "name": ", ".join(r.name for r in reversed(practice.location_chain)),
        },
        "sourceOrganization": {"@type": "Organization", "name": practice.main_institution},
        "inLanguage": practice.lang or site.settings.language,
    }
    if practice.author:
        data["author"] = {"@type": "Person", "name": practice.author.name}
    if practice.published:
        data["datePublished"] = practice.published.isoformat()
    if practice.updated:
        data["dateModified"] = practice.updated.isoformat()
    if practice.website:
        data["sameAs"] = practice.website
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    # "</script>" or "<!--" inside a title must not end the element early.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
