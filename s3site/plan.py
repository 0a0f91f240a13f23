"""Every file the site will have, decided before anything is written.

`plan_outputs` lists each output path with the template (or the function)
that makes it. Listing first means clashes between two sources wanting the
same path are found and reported before a single file is written, and
parallel workers can split the same list between them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import opendata, stats
from .errors import Diagnostic, error
from .mapsvg import MAP_CSS
from .model import Practice, RegionLink, Site, Subregion
from .render import Meta, paginate

PACKAGE_STATIC = Path(__file__).parent / "static"


# Not frozen, though nothing changes one: a build makes one for every file,
# and a frozen dataclass takes six times as long to make.
@dataclass(slots=True)
class Output:
    """One file of the built site."""

    path: str  # relative to the output folder, with "/" separators
    source: str  # what asked for it, for clash messages
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    # Makes the file's bytes. A late file's is given a function reading files made before it
    # and the records.RecordNotes of the published data files.
    make: Callable[..., bytes | Iterable[bytes]] | None = None
    copy_from: Path | None = None
    in_sitemap: bool = False  # an HTML page readers and search engines should find
    site_wide: bool = False  # shows every practice: made again whenever any changes
    late: bool = False  # made after every other file: the open-data files, in part copied from them


def _html(url_path: str) -> str:
    """The file behind a pretty URL path: "practices/x/" -> "practices/x/index.html"."""
    return url_path + "index.html" if url_path.endswith("/") or not url_path else url_path


def _site_path(site: Site, url: str) -> str:
    """A root-relative URL made relative to the output folder."""
    return url[len(site.settings.base_path) :]


def _page(site: Site, url: str, template: str, source: str, meta: Meta, sitemap: bool = True,
          **context: Any) -> Output:
    """An HTML page at a URL, made from a template with `meta` and `context`."""
    return Output(_html(_site_path(site, url)), source, template, {"meta": meta, **context},
                  in_sitemap=sitemap and not meta.noindex)


def practice_json_path(site: Site, practice: Practice) -> str:
    return _site_path(site, practice.url) + "index.json"


def practice_outputs(site: Site, practice: Practice) -> tuple[Output, Output]:
    """A practice's own page and its record (index.json)."""
    meta = Meta(practice.title, practice.url, "practice", practice.summary)
    return (
        _page(site, practice.url, "practice.html", practice.source, meta, practice=practice),
        Output(practice_json_path(site, practice), practice.source, context={"practice": practice},
               make=lambda: opendata.practice_json(practice, site)),
    )


def plan_outputs(site: Site, *, static_root: Path | None = None) -> tuple[list[Output], list[Diagnostic]]:
    """List every file of the site; report two sources that want one path."""
    outputs: list[Output] = []
    settings = site.settings
    base = settings.base_path

    def page(url: str, template: str, source: str, meta: Meta, sitemap: bool = True, **context: Any) -> None:
        outputs.append(_page(site, url, template, source, meta, sitemap, **context))

    def paginated(url: str, template: str, source: str, items: tuple, title: str, kind: str,
                  description: str = "", **context: Any) -> None:
        for pager in paginate(items, settings.per_page, url):
            page_title = title if pager.number == 1 else f"{title} (page {pager.number} of {pager.count})"
            meta = Meta(page_title, pager.urls[pager.number - 1], kind, description)
            page(meta.url, template, source, meta, pager=pager, **context)

    page(base, "home.html", "home page", Meta(settings.title, base, "home", settings.description))
    paginated(f"{base}practices/", "practices.html", "practice list", site.practices,
              "All practices", "practices", f"All {len(site.practices)} practices, newest first.")
    for practice in site.practices:
        outputs.extend(practice_outputs(site, practice))
        for alias in practice.aliases:
            outputs.append(
                Output(_html(alias), f"{practice.source} (alias)", "redirect.html",
                       {"meta": Meta(practice.title, base + alias, "redirect", noindex=True),
                        "target": practice.url})
            )

    # The statistics page gets its charts as context, so that it is made again only when a
    # count changes. Each bar links to a list, so the start years and the two statuses get
    # paginated lists of their own.
    page(f"{base}stats/", "stats.html", "statistics page",
         Meta("Statistics", f"{base}stats/", "stats", "The collection in numbers: practices per "
              "theme, country, start year and status, and the most connected regions."),
         charts=stats.site_charts(site), practice_count=len(site.practices))
    for year, items in stats.practices_by_year(site).items():
        paginated(stats.year_url(base, year), "practice_group.html", "statistics page", items,
                  f"Practices started in {year}", "started",
                  f"{len(items)} practice{'s' if len(items) != 1 else ''} started in {year}, "
                  "newest first.")
    by_status = stats.practices_by_status(site)
    for status, label in stats.STATUSES:
        if items := by_status[status]:
            paginated(stats.status_url(base, status), "practice_group.html", "statistics page",
                      items, f"{label} practices", "status",
                      f"{len(items)} {status} practice{'s' if len(items) != 1 else ''}, "
                      "newest first.")

    page(f"{base}themes/", "themes.html", "themes index", Meta("Themes", f"{base}themes/", "themes"))
    for term in site.themes:
        paginated(term.url, "theme.html", "content/themes.yaml", term.practices, term.title, "theme",
                  term.theme.description, term=term)
        outputs.append(Output(_site_path(site, term.url) + "feed.xml", "content/themes.yaml", "feed.xml",
                              {"title": f"{settings.title}: {term.title}", "url": term.url,
                               "practices": term.practices[: settings.feed_items]}))

    position = {id(practice): i for i, practice in enumerate(site.practices)}
    page(f"{base}regions/", "regions.html", "regions index", Meta("Regions", f"{base}regions/", "regions"))
    for term in site.regions.values():
        crumbs = tuple(RegionLink(t.code, t.name, t.url) for t in term.chain)
        subregions = tuple(Subregion(t.code, t.name, t.url, t.count, t.involvement)
                           for t in term.children if t.involvement)
        paginated(term.url, "region.html", "region index", term.located, term.name, "region",
                  f"Good practices in {term.name}", term=term, crumbs=crumbs, subregions=subregions)
        outputs.append(Output(_site_path(site, term.url) + "feed.xml", "region index", "feed.xml",
                              {"title": f"{settings.title}: {term.name}", "url": term.url,
                               "practices": _newest((term.located, term.leads, term.joins),
                                                    settings.feed_items, position)}))
    if site.region_types:
        types_url = f"{base}regions/types/"
        page(types_url, "region_types.html", "region types", Meta("Types of region", types_url, "types"))
        for type_term in site.region_types:
            paginated(type_term.url, "region_type.html", "region types", type_term.practices,
                      f"Practices from {type_term.title.lower()}", "type", term=type_term)

    for free_page in site.pages:
        page(free_page.url, "page.html", free_page.source,
             Meta(free_page.title, free_page.url, "page", free_page.description), page=free_page)

    if settings.search:
        page(f"{base}search/", "search.html", "search page",
             Meta("Search", f"{base}search/", "search", "Search the practices by word, theme, "
                  "country, region, status and start year.", noindex=True), sitemap=False)
    page(f"{base}404.html", "404.html", "not-found page",
         Meta("Page not found", f"{base}404.html", "404", noindex=True), sitemap=False)
    outputs.append(Output("feed.xml", "site feed", "feed.xml",
                          {"title": settings.title, "url": base,
                           "practices": site.practices[: settings.feed_items]}))

    def json_path(practice: Practice) -> str:
        return practice_json_path(site, practice)

    # Each record in them is what the practice's index.json shows: copied from there when
    # it has just been made, or from the published file when its key has not changed.
    outputs.append(Output(
        "practices.json", "open data", site_wide=True, late=True,
        make=lambda read, notes: opendata.practices_json(
            site, lambda p: read(json_path(p)), notes.records("practices.json", json_path)),
    ))
    outputs.append(Output(
        "practices.csv", "open data", site_wide=True, late=True,
        make=lambda _, notes: opendata.practices_csv(site, notes.records("practices.csv", json_path)),
    ))
    outputs.append(Output("robots.txt", "robots.txt", "robots.txt", {}))

    for asset in sorted(PACKAGE_STATIC.rglob("*")):
        if asset.is_file() and (settings.search or asset.name != "search.js"):
            outputs.append(Output("assets/" + asset.relative_to(PACKAGE_STATIC).as_posix(),
                                  "s3site assets", copy_from=asset))
    if settings.map:
        outputs.append(Output("assets/map.css", "s3site assets", make=lambda: MAP_CSS.encode()))
    if static_root is not None and static_root.is_dir():
        outputs.extend(_static_files(static_root))

    sitemap_urls = sorted(base + o.path.removesuffix("index.html") for o in outputs if o.in_sitemap)
    outputs.append(Output("sitemap.xml", "sitemap", "sitemap.xml", {"urls": sitemap_urls}))
    return outputs, _clashes(outputs)


def _newest(lists: Iterable[tuple[Practice, ...]], count: int, position: dict[int, int]) -> tuple[Practice, ...]:
    """The first `count` practices of several lists in the site's order (newest first), each
    once. `position` holds each practice's place in the site's order, by id(); every list
    is in that order already."""
    newest: dict[int, Practice] = {}
    # Merged, not sorted: a country's lists hold thousands of practices, its feed twenty.
    for practice in heapq.merge(*lists, key=lambda p: position[id(p)]):
        newest.setdefault(id(practice), practice)
        if len(newest) == count:
            break
    return tuple(newest.values())


def _static_files(static_root: Path) -> list[Output]:
    """content/static/ copied as it is, to the root of the site."""
    outputs = []
    root = static_root.resolve()
    for path in sorted(static_root.rglob("*")):
        relative = path.relative_to(static_root).as_posix()
        source = f"content/static/{relative}"
        if path.is_symlink() and root not in path.resolve().parents:
            continue  # never followed; the builder reports it
        if path.is_file():
            outputs.append(Output(relative, source, copy_from=path))
    return outputs


def _clashes(outputs: list[Output]) -> list[Diagnostic]:
    problems = []
    seen: dict[str, str] = {}
    for output in outputs:
        if output.path in seen and seen[output.path] != output.source:
            problems.append(
                error(output.source, f"writes {output.path}, which {seen[output.path]} writes too")
            )
        seen.setdefault(output.path, output.source)
    return problems
