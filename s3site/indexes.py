"""Group resolved practices into the site's indexes.

Themes, regions (with countries as level-0 regions), types of region and
related practices (related.py) are computed here once, as term objects that
hold their practices in a fixed order; templates never group or sort on their
own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from .cache import ParseCache
from .config import Settings
from .model import Page, Practice, RegionTerm, Site, Theme, ThemeTerm, TypeTerm
from .regions import TYPOLOGY_LABELS, Region, RegionRegistry
from .related import with_related


def newest_first(practices: Iterable[Practice]) -> tuple[Practice, ...]:
    """The order of every practice list: newest first, then by title, then slug."""
    ordered = sorted(practices, key=lambda p: (p.title.casefold(), p.slug))
    return tuple(sorted(ordered, key=lambda p: p.date, reverse=True))


def build_site(
    settings: Settings,
    practices: list[Practice],
    pages: list[Page],
    themes: tuple[Theme, ...],
    registry: RegionRegistry,
    *,
    build_date: dt.date,
    cache: ParseCache | None = None,
    workers: int = 1,
    related_digests: dict[int, str] | None = None,
) -> Site:
    """Build every index of the site from resolved practices (`related_digests`: see with_related)."""
    base = settings.base_path
    ordered = newest_first(practices)
    with_related(ordered, settings.related, cache, workers, related_digests)
    theme_terms = _theme_terms(ordered, themes, base)
    regions = _region_terms(ordered, registry, base)
    countries = tuple(
        sorted((t for t in regions.values() if t.region.level == 0), key=lambda t: t.name.casefold())
    )
    return Site(
        settings=settings,
        practices=ordered,
        pages=tuple(sorted(pages, key=lambda p: p.slug)),
        themes=theme_terms,
        regions=regions,
        countries=countries,
        region_types=_type_terms(ordered, base),
        build_date=build_date,
    )


def _theme_terms(practices: tuple[Practice, ...], themes: tuple[Theme, ...], base: str) -> tuple[ThemeTerm, ...]:
    by_theme: dict[str, list[Practice]] = defaultdict(list)
    for practice in practices:
        for theme_id in practice.themes:
            by_theme[theme_id].append(practice)
    return tuple(
        ThemeTerm(theme, f"{base}themes/{theme.id}/", tuple(by_theme.get(theme.id, ())))
        for theme in themes
    )


def region_url(base: str, code: str) -> str:
    """The address of a region's page."""
    return f"{base}regions/{code.lower()}/"


def _region_terms(
    practices: tuple[Practice, ...], registry: RegionRegistry, base: str
) -> dict[str, RegionTerm]:
    located: dict[str, list[Practice]] = defaultdict(list)
    leads: dict[str, list[Practice]] = defaultdict(list)
    joins: dict[str, list[Practice]] = defaultdict(list)
    involved: set[str] = set()
    for practice in practices:  # already newest first, so every list below is too
        for region in practice.location_chain:
            located[region.code].append(practice)
        involved.add(practice.location_chain[-1].code)
        if practice.leading:
            leads[practice.leading.code].append(practice)
            involved.add(practice.leading.code)
        for region in practice.participants:
            joins[region.code].append(practice)
            involved.add(region.code)
    # Every ancestor of an involved region gets a page too, so that breadcrumbs
    # and the hierarchy on the regions index never link to a missing page.
    codes = {r.code for code in involved for r in registry.chain(code)}
    terms = {
        code: RegionTerm(
            region=registry.get(code),
            url=region_url(base, code),
            located=tuple(located.get(code, ())),
            leads=tuple(leads.get(code, ())),
            joins=tuple(joins.get(code, ())),
        )
        for code in sorted(codes)
    }
    for code, term in terms.items():
        term.chain = tuple(terms[r.code] for r in registry.chain(code))
        if term.region.parent and term.region.parent in terms:
            terms[term.region.parent].children.append(term)
    for term in terms.values():
        term.children.sort(key=lambda t: t.code)
    return terms


def _type_terms(practices: tuple[Practice, ...], base: str) -> tuple[TypeTerm, ...]:
    """Practices by the types of the region they are located in (island, border...)."""
    by_type: dict[str, list[Practice]] = defaultdict(list)
    regions_by_type: dict[str, dict[str, Region]] = defaultdict(dict)
    for practice in practices:
        types: set[str] = set()
        for region in practice.location_chain:
            for type_id in region.types:
                types.add(type_id)
                regions_by_type[type_id][region.code] = region
        for type_id in sorted(types):
            by_type[type_id].append(practice)
    return tuple(
        TypeTerm(
            id=type_id,
            title=label,
            url=f"{base}regions/types/{type_id}/",
            practices=tuple(by_type[type_id]),
            regions=tuple(regions_by_type[type_id][c] for c in sorted(regions_by_type[type_id])),
        )
        for type_id, label in TYPOLOGY_LABELS.items()
        if by_type.get(type_id)
    )
