"""Resolve parsed practices against the whole site.

Parsing checked each file on its own; here each practice is checked against
what the site declares (themes.yaml, the region registry, other practices'
slugs) and given what is derived from it: its regions, its theme objects,
its status and its URL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

from .cache import digest
from .errors import Diagnostic, did_you_mean, error
from .imagesize import image_size
from .model import Page, Positions, Practice, Theme
from .pickling import evolve
from .regions import Region, RegionLookupError, RegionRegistry

# Paths that generated pages use at the top of the site; a free page or an
# alias may not take them.
RESERVED_PATHS = frozenset(
    {"practices", "themes", "regions", "search", "stats", "assets", "pagefind", "types"}
)
# A resolved practice has no use for positions but its slug's (messages are worded before).
NO_POSITIONS = Positions()


class Resolver:
    """Checks practices one at a time against the site and fills in what is derived.

    What a practice resolves to depends on it and on this object's inputs
    alone (the themes, the regions, the base path, the day and the static
    files), so a build can keep resolved practices between builds. Of all
    that, the day changes most often and changes least: only the status of
    a practice whose end has passed (see status_of).
    """

    def __init__(self, themes: tuple[Theme, ...], registry: RegionRegistry, *, base_path: str,
                 today: dt.date, static_root: Path | None = None) -> None:
        self.theme_by_id = {theme.id: theme for theme in themes}
        self.registry = registry
        self.base_path = base_path
        self.today = today
        self.static_root = static_root
        self._regions_of: dict[tuple, tuple[tuple[Region, ...], Region | None, tuple[Region, ...]]] = {}

    def resolve(self, practice: Practice, problems: list[Diagnostic]) -> Practice | None:
        """The practice resolved, or None with its problems added to `problems`."""
        before = len(problems)
        theme_objects = []
        for number, theme_id in enumerate(practice.themes, 1):
            if theme_id in self.theme_by_id:
                theme_objects.append(self.theme_by_id[theme_id])
            else:
                line, column = _position(practice, "themes", number)
                hint = did_you_mean(theme_id, self.theme_by_id)
                problems.append(
                    error(practice.source, f"unknown theme '{theme_id}'{hint}", line, column)
                )
        # Many practices name the same places: each combination is looked up once.
        places = (practice.country, practice.region, practice.leading_region, practice.participating_regions)
        found = self._regions_of.get(places)
        if found is None:
            ahead = len(problems)
            found = _resolve_regions(practice, self.registry, problems)
            if len(problems) == ahead:  # a failed lookup is looked up again, for its own message
                self._regions_of[places] = found
        chain, leading, participants = found
        if len(problems) > before:
            return None
        return evolve(
            practice,
            theme_objects=tuple(theme_objects),
            location=chain[-1],
            location_chain=chain,
            leading=leading,
            participants=participants,
            status=self.status_of(practice),
            url=f"{self.base_path}practices/{practice.slug}/",
            # Only needed for messages: those above, and the slug's, should another
            # practice take it later (which a cached practice may meet too).
            positions=Positions({"slug": practice.positions["slug"]}) if "slug" in practice.positions
            else NO_POSITIONS,
            **_local_files(practice, self.base_path, self.static_root),
        )

    def status_of(self, practice: Practice) -> str:
        """Whether a practice is ongoing or completed on the day of the build."""
        end = practice.end
        return "ongoing" if end is None or end.last_day >= self.today else "completed"


def slug_clash(practice: Practice, first_source_of_slug: dict[str, str]) -> Diagnostic | None:
    """An error if another practice (met before, in source order) has this one's slug."""
    first = first_source_of_slug.setdefault(practice.slug, practice.source)
    if first == practice.source:
        return None
    return error(practice.source, f"slug '{practice.slug}' is already used by {first}; rename the file or set slug:",
                 *practice.positions.get("slug", (1, 0)))


def _resolve_regions(
    practice: Practice, registry: RegionRegistry, problems: list[Diagnostic]
) -> tuple[tuple[Region, ...], Region | None, tuple[Region, ...]]:
    source = practice.source
    country = registry.country(practice.country)
    if country is None:
        line, column = _position(practice, "location.country")
        problems.append(
            error(source, f"location.country: unknown country '{practice.country}'; "
                  "use a two-letter code such as FI or ES", line, column)
        )
        return (), None, ()
    chain: tuple[Region, ...] = (country,)
    if practice.region:
        try:
            chain = registry.chain(registry.resolve(practice.region, country.code).code)
        except RegionLookupError as exc:
            line, column = _position(practice, "location.region")
            problems.append(error(source, f"location.region: {exc}", line, column))
    leading = None
    if practice.leading_region:
        try:
            leading = registry.resolve(practice.leading_region)
        except RegionLookupError as exc:
            line, column = _position(practice, "leading_region")
            problems.append(error(source, f"leading_region: {exc}", line, column))
    participants: list[Region] = []
    for number, name in enumerate(practice.participating_regions, 1):
        try:
            region = registry.resolve(name)
        except RegionLookupError as exc:
            line, column = _position(practice, "participating_regions", number)
            problems.append(error(source, f"participating_regions: {exc}", line, column))
            continue
        if region not in participants:
            participants.append(region)
    return chain, leading, tuple(participants)


def _position(practice: Practice, key: str, item: int = 0) -> tuple[int, int]:
    """Where a field (or its n-th list item) was written, falling back to the field, then line 1."""
    positions = practice.positions
    if item and f"{key}.{item}" in positions:
        return positions[f"{key}.{item}"]
    return positions.get(key) or positions.get(key.split(".")[0]) or (1, 0)


IMG_RE = re.compile(r"<img\b[^>]*>")
SRC_RE = re.compile(r'\bsrc="(/[^"]*)"')


def _local_files(practice: Practice, base_path: str, static_root: Path | None) -> dict[str, object]:
    """Make links to the site's own files work: sizes for local images, the base path.

    Root-relative links in the text ("/docs/x.pdf") are prefixed with the base
    path, so they work under a sub-path; images from content/static/ get
    their width and height, so that pages do not jump while they load.
    """
    sizes: list[str] = []

    def size_image(tag: re.Match) -> str:
        text = tag.group(0)
        src = SRC_RE.search(text)
        if static_root is None or src is None or " width=" in text:
            return text
        size = _static_image_size(static_root, unquote(src.group(1)))
        if size is None:
            return text
        sizes.append(f"{src.group(1)}={size}")
        return text[:4] + f' width="{size[0]}" height="{size[1]}"' + text[4:]

    def local(html: str) -> str:
        if "<img" in html:
            html = IMG_RE.sub(size_image, html)
        return rebase_links(html, base_path)

    changes: dict[str, object] = {}
    if base_path == "/" and not reads_static_files(practice):
        return changes  # nothing to size or rebase: most practices
    text_changes: dict[str, object] = {}
    for name in ("description_html", "resources_needed_html", "evidence_of_success_html",
                 "potential_for_transfer_html", "expert_opinion_html"):
        html = getattr(practice, name)
        if (changed := local(html)) != html:
            text_changes[name] = changed
    if any(local(s.html) != s.html for s in practice.extra_sections):
        text_changes["extra_sections"] = tuple(replace(s, html=local(s.html)) for s in practice.extra_sections)
    if text_changes:
        changes["text"] = practice.text.replace(**text_changes)
    image = practice.image
    if image and image.src.startswith("/") and static_root is not None and not (image.width and image.height):
        size = _static_image_size(static_root, image.src)
        if size:
            changes["image"] = replace(image, width=size[0], height=size[1])
            sizes.append(f"{image.src}={size}")
    if sizes:
        # The sizes come from files the digest of the practice's text does not
        # cover; a replaced image must still re-render the page.
        changes["digest"] = digest(practice.digest, *sizes)
    return changes


def reads_static_files(practice: Practice) -> bool:
    """Whether resolving a practice reads content/static/: for the sizes of its local images."""
    return "<img" in "".join(_section_html(practice)) or bool(practice.image and practice.image.src.startswith("/"))


def _section_html(practice: Practice) -> list[str]:
    return [
        practice.description_html, practice.resources_needed_html, practice.evidence_of_success_html,
        practice.potential_for_transfer_html, practice.expert_opinion_html,
        *(section.html for section in practice.extra_sections),
    ]


def _static_image_size(static_root: Path, src: str) -> tuple[int, int] | None:
    """The size of an image in content/static/, never looking outside it."""
    path = (static_root / src.lstrip("/")).resolve()
    if static_root.resolve() not in path.parents:
        return None
    return image_size(path)


def rebase_links(html: str, base_path: str) -> str:
    """Prefix root-relative href and src values with the site's base path."""
    if base_path == "/":
        return html
    return html.replace('href="/', f'href="{base_path}').replace('src="/', f'src="{base_path}')


def resolve_pages(pages: Iterable[Page], *, base_path: str) -> tuple[list[Page], list[Diagnostic]]:
    """Give free pages their URLs and refuse ones that would hide a generated page."""
    resolved: list[Page] = []
    problems: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for page in sorted(pages, key=lambda p: p.source):
        if page.slug in RESERVED_PATHS or page.slug == "index":
            problems.append(
                error(page.source, f"the page name '{page.slug}' is used by the site itself; "
                      "rename the file or set slug:", 1)
            )
            continue
        if page.slug in seen:
            problems.append(error(page.source, f"slug '{page.slug}' is already used by {seen[page.slug]}", 1))
            continue
        seen[page.slug] = page.source
        html = rebase_links(page.html, base_path)
        resolved.append(replace(page, url=f"{base_path}{page.slug}/", html=html))
    return resolved, problems
