"""Group resolved practices into the site's indexes.

Themes, regions (with countries as level-0 regions), types of region and
related practices are computed here once, as term objects that hold their
practices in a fixed order; templates never group or sort on their own.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence

from .cache import ParseCache, digest
from .config import Settings
from .model import Page, Practice, RegionTerm, Site, Theme, ThemeTerm, TypeTerm
from .parallel import in_two_processes
from .regions import TYPOLOGY_LABELS, Region, RegionRegistry


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
) -> Site:
    """Build every index of the site from resolved practices."""
    base = settings.base_path
    ordered = newest_first(practices)
    with_related(ordered, settings.related, cache, workers)
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
            url=f"{base}regions/{code.lower()}/",
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


def with_related(practices: tuple[Practice, ...], count: int, cache: ParseCache | None = None,
                 workers: int = 1) -> None:
    """Give each practice the ones that share most of its themes and places.

    An edit to a practice's text changes nothing this depends on, so the
    result is cached by a digest of what it reads of every practice.
    """
    if count <= 0:
        return
    features = digest("related", str(count), *(
        f"{p.slug}|{p.title}|{','.join(p.themes)}|{','.join(r.code for r in p.location_chain)}"
        for p in practices
    ))
    found = cache.get_many([features]).get(features) if cache else None
    if not isinstance(found, list) or len(found) != len(practices):
        found = _related_indices(practices, count, workers)
        if cache:
            cache.store(features, found)
    for practice, related in zip(practices, found, strict=True):
        # The practices were made or loaded for this build, and nothing has
        # seen them yet: filling in the one field that needs all of them is
        # safe, and a tenth of the cost of copying each. (The cache stored
        # them before, without it; a later build sets it again.)
        object.__setattr__(practice, "related", tuple(practices[j] for j in related))


# From this many practices on, related ones are found in two processes (when there are two).
MIN_PRACTICES_FOR_TWO_PROCESSES = 2000


def _related_indices(practices: tuple[Practice, ...], count: int, workers: int = 1) -> list[list[int]]:
    """For each practice, the positions of its related ones.

    Scoring every pair would be quadratic; candidates come instead from the
    same region, then the same country and theme, then the same theme, a
    bounded number from each, and are scored by what they share.
    """
    # Themes as bits, so that counting shared themes is one AND and a popcount. Places
    # as sets of codes: a chain is its last region's ancestors, so the codes two chains
    # share are a common prefix (country first), and counting them is one intersection.
    bit = {theme: 1 << i for i, theme in enumerate(sorted({t for p in practices for t in p.themes}))}
    themes = [sum(bit[t] for t in set(p.themes)) for p in practices]
    places = [frozenset(r.code for r in p.location_chain) for p in practices]
    order = [(p.title.casefold(), p.slug) for p in practices]
    by_region: dict[str, list[int]] = defaultdict(list)
    by_country_theme: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_theme: dict[str, list[int]] = defaultdict(list)
    for i, practice in enumerate(practices):
        chain = practice.location_chain
        if len(chain) > 1:
            by_region[chain[min(2, len(chain) - 1)].code].append(i)
        for theme in practice.themes:
            by_country_theme[(chain[0].code, theme)].append(i)
            by_theme[theme].append(i)
    window = count * 3

    def related_of(indices: Sequence[int]) -> list[list[int]]:
        return [related_to(i) for i in indices]

    def related_to(i: int) -> list[int]:
        chain = practices[i].location_chain
        candidates: set[int] = set()
        if len(chain) > 1:
            candidates.update(by_region[chain[min(2, len(chain) - 1)].code][: window * 2])
        for theme in practices[i].themes:
            candidates.update(by_country_theme[(chain[0].code, theme)][:window])
            candidates.update(by_theme[theme][:window])
        candidates.discard(i)
        own_themes, own_places = themes[i], places[i]
        scored = [(-shared, order[j], j) for j in candidates
                  if (shared := 2 * (own_themes & themes[j]).bit_count() + len(own_places & places[j]))]
        return [j for *_, j in heapq.nsmallest(count, scored)]

    everyone = range(len(practices))
    if workers > 1 and len(practices) >= MIN_PRACTICES_FOR_TWO_PROCESSES:
        return in_two_processes(related_of, everyone)
    return related_of(everyone)
