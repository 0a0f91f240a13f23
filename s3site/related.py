"""Related practices: for each practice, the few that share most of its themes and places.

Scoring every pair would be quadratic. Candidates come instead from the
groups a practice belongs to (its region; its country with each of its
themes; each theme), the newest few of each group, and are scored by what
they share, then ordered by title.

An edit to a practice's text changes nothing this reads, so the whole result
is cached by a digest of what it reads. An edit to a title, a theme or a place
does change it, but only for the practices that see the edited one among their
candidates: the result is kept with what it was computed from (RelatedState),
and the next computation does again only the practices whose groups changed.
"""

from __future__ import annotations

import heapq
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .cache import CODE_SALT, ParseCache, digest
from .model import Practice
from .parallel import in_two_processes

log = logging.getLogger(__name__)

# From this many practices to compute on, they are computed in two processes (when there are two).
MIN_PRACTICES_FOR_TWO_PROCESSES = 2000
# Beyond this share of practices to compute again, computing all of them costs no more.
MAX_SHARE_TO_UPDATE = 0.5


class Features(NamedTuple):
    """What related practices read of a practice."""

    slug: str
    title: str
    themes: tuple[str, ...]
    places: tuple[str, ...]  # the codes of its location chain, country first


# A group of candidates: ("region", code), ("country", code, theme) or ("theme", theme).
Group = tuple[str, ...]


@dataclass(frozen=True)
class RelatedState:
    """One computation's result, with what it read: the features of every practice and the
    newest members of every group (the candidates they gave).

    By position in the site's order, as the result is computed: after most edits the order
    is the same, and the last result is then kept as it is, with no slug looked up."""

    count: int
    slugs: tuple[str, ...]  # the practices, in the site's order
    features: list[tuple]  # tuple(Features) of each: plain tuples load faster
    candidates: dict[Group, tuple[str, ...]]
    found: list[list[int]]  # the positions of each one's related practices


def with_related(practices: tuple[Practice, ...], count: int, cache: ParseCache | None = None,
                 workers: int = 1, digests: dict[int, str] | None = None) -> None:
    """Give each practice (in the site's order, newest first) the `count` related ones.

    `digests` holds features_digest() of practices known beforehand (kept with them in the
    build cache), by id(), so that only the others are worked out again."""
    if count <= 0:
        return
    known = digests or {}
    key = digest("related", CODE_SALT, str(count),
                 *[known.get(id(practice)) or features_digest(practice) for practice in practices])
    state_key = digest("related state", CODE_SALT)
    found = cache.get_many([key]).get(key) if cache else None
    if cache and isinstance(found, list) and len(found) == len(practices):
        cache.keep([state_key])  # for the next edit that changes what this reads
    else:
        features = features_of(practices)
        previous = cache.get_many([state_key]).get(state_key) if cache else None
        found, state = related_positions(features, count, workers,
                                         previous if isinstance(previous, RelatedState) else None)
        if cache:
            cache.store(key, found)
            cache.store(state_key, state)
    for practice, related in zip(practices, found, strict=True):
        # The practices were made or loaded for this build, and nothing has
        # seen them yet: filling in the one field that needs all of them is
        # safe, and a tenth of the cost of copying each. (The cache stored
        # them before, without it; a later build sets it again.)
        object.__setattr__(practice, "related", tuple(practices[j] for j in related))


def features_of(practices: Sequence[Practice]) -> list[Features]:
    return [Features(p.slug, p.title, p.themes, tuple(r.code for r in p.location_chain)) for p in practices]


def features_digest(practice: Practice) -> str:
    """A digest of what related practices read of a practice (its Features)."""
    return digest(practice.slug, practice.title, ",".join(practice.themes),
                  ",".join(r.code for r in practice.location_chain))


def related_positions(features: Sequence[Features], count: int, workers: int = 1,
                      previous: RelatedState | None = None) -> tuple[list[list[int]], RelatedState]:
    """For each practice, the positions of its related ones; and the state to pass as
    `previous` next time, when only the practices whose candidates changed are computed."""
    window = count * 3
    members: dict[Group, list[int]] = defaultdict(list)
    groups_of: list[list[Group]] = []
    for i, practice in enumerate(features):
        groups = _groups(practice)
        groups_of.append(groups)
        for group in groups:
            members[group].append(i)
    # The practices come newest first, so each group's first members are its newest.
    newest = {group: listed[: window * 2 if group[0] == "region" else window]
              for group, listed in members.items()}
    candidates = {group: tuple(features[j].slug for j in listed) for group, listed in newest.items()}

    # Every practice, unless the last result holds for most: a practice keeps it when
    # neither its own features nor any candidate its groups give has changed.
    todo: Sequence[int] = range(len(features))
    kept: list[list[int]] | None = None
    slugs = tuple(f.slug for f in features)
    if previous is not None and previous.count == count:
        before = {slug: i for i, slug in enumerate(previous.slugs)}
        changed = {f.slug for f in features if (i := before.get(f.slug)) is None or previous.features[i] != f}
        stale = {group for group, newest_slugs in candidates.items()
                 if previous.candidates.get(group) != newest_slugs or not changed.isdisjoint(newest_slugs)}
        again = [i for i, f in enumerate(features) if f.slug in changed or not stale.isdisjoint(groups_of[i])]
        if len(again) <= MAX_SHARE_TO_UPDATE * len(features):
            todo, again_set = again, set(again)
            if slugs == previous.slugs:
                kept = [[] if i in again_set else found for i, found in enumerate(previous.found)]
            else:
                # A practice kept keeps its related ones, none of them deleted: a deleted one
                # changes its groups' candidates, and all in those groups are done again.
                position = {slug: i for i, slug in enumerate(slugs)}
                now = [position.get(slug, -1) for slug in previous.slugs]
                kept = [[] if i in again_set else [now[j] for j in previous.found[before[slug]]]
                        for i, slug in enumerate(slugs)]

    # Themes as bits, so that counting shared themes is one AND and a popcount. Places
    # as sets of codes: a chain is its last region's ancestors, so the codes two chains
    # share are a common prefix (country first), and counting them is one intersection.
    # Only for the practices computed and their candidates, when those are few.
    bit = {theme: 1 << i for i, theme in enumerate(sorted({t for f in features for t in f.themes}))}
    themes, places, order = [0] * len(features), [frozenset()] * len(features), [("", "")] * len(features)
    scored = todo if kept is None else {j for i in todo for group in groups_of[i] for j in newest[group]} | set(todo)
    for j in scored:
        practice = features[j]
        themes[j] = sum(bit[t] for t in set(practice.themes))
        places[j] = frozenset(practice.places)
        order[j] = (practice.title.casefold(), practice.slug)

    def related_to(i: int) -> list[int]:
        seen: set[int] = set()
        for group in groups_of[i]:
            seen.update(newest[group])
        seen.discard(i)
        own_themes, own_places = themes[i], places[i]
        scored = [(-shared, order[j], j) for j in seen
                  if (shared := 2 * (own_themes & themes[j]).bit_count() + len(own_places & places[j]))]
        return [j for *_, j in heapq.nsmallest(count, scored)]

    def related_of(indices: Sequence[int]) -> list[list[int]]:
        return [related_to(i) for i in indices]

    log.debug("related practices: %d of %d computed", len(todo), len(features))
    if workers > 1 and len(todo) >= MIN_PRACTICES_FOR_TWO_PROCESSES:
        computed = in_two_processes(related_of, todo)
    else:
        computed = related_of(todo)
    if kept is None:
        found = computed
    else:
        found = kept
        for i, related in zip(todo, computed, strict=True):
            found[i] = related
    return found, RelatedState(count, slugs, [tuple(f) for f in features], candidates, found)


def _groups(practice: Features) -> list[Group]:
    places = practice.places
    groups: list[Group] = []
    if len(places) > 1:  # the most precise of its country's level-1 and level-2 regions
        groups.append(("region", places[min(2, len(places) - 1)]))
    for theme in practice.themes:
        groups.append(("country", places[0], theme))
        groups.append(("theme", theme))
    return groups
