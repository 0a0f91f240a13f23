"""The content model: plain, immutable data with no I/O.

Parsing (`content.py`) fills in what an editor wrote; resolving
(`resolve.py`) fills in what is derived from it: regions, theme objects,
status and URLs. Templates read these objects and nothing else.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING

from .pickling import quick_pickle

if TYPE_CHECKING:
    from .config import Settings
    from .regions import Region

class Positions:
    """Where front-matter fields were written: field -> (line, column).

    Kept as one string, decoded on first use: the cache loads every practice
    for every build, and positions are only read to word an error message.
    """

    __slots__ = ("_encoded", "_decoded")

    def __init__(self, positions: dict[str, tuple[int, int]] | None = None) -> None:
        self._encoded = json.dumps(sorted([key, *where] for key, where in (positions or {}).items()))
        self._decoded: dict[str, tuple[int, int]] | None = None

    @classmethod
    def _from_encoded(cls, encoded: str) -> Positions:
        positions = cls.__new__(cls)
        positions._encoded, positions._decoded = encoded, None
        return positions

    def __reduce__(self) -> tuple:
        return (Positions._from_encoded, (self._encoded,))

    def _mapping(self) -> dict[str, tuple[int, int]]:
        if self._decoded is None:
            self._decoded = {key: (line, column) for key, line, column in json.loads(self._encoded)}
        return self._decoded

    def get(self, key: str, default: tuple[int, int] | None = None) -> tuple[int, int] | None:
        return self._mapping().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._mapping()

    def __getitem__(self, key: str) -> tuple[int, int]:
        return self._mapping()[key]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Positions) and self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        return f"Positions({self._mapping()!r})"


MONTHS = (
    "", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)


@quick_pickle
@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date known to the year, the month or the day (`2018`, `2018-06`, `2018-06-01`)."""

    year: int
    month: int = 0  # 0: unknown
    day: int = 0  # 0: unknown

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return text

    @property
    def display(self) -> str:
        """The date as a reader would say it: "June 2018", "3 June 2018", "2018"."""
        if not self.month:
            return str(self.year)
        if not self.day:
            return f"{MONTHS[self.month]} {self.year}"
        return f"{self.day} {MONTHS[self.month]} {self.year}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> dt.date:
        """The last day the date can mean, so "ends 2024" is ongoing during all of 2024."""
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return dt.date(self.year, month, day)

    def __reduce__(self) -> tuple:
        return (_partial_date, (self.year, self.month, self.day))


# Loading the cache makes one PartialDate per date of every practice, by default in Python
# code of the dataclasses module; from here, one per distinct date, shared (they are frozen),
# and each later one without a line of Python.
@functools.lru_cache(maxsize=4096)
def _partial_date(year: int, month: int, day: int) -> PartialDate:
    return PartialDate(year, month, day)


@quick_pickle
@dataclass(frozen=True, slots=True)
class Person:
    """An author or a follower of a practice."""

    name: str
    organisation: str = ""
    email: str = ""


@quick_pickle
@dataclass(frozen=True, slots=True)
class Link:
    """A titled link: a project, an attachment."""

    title: str
    url: str


@quick_pickle
@dataclass(frozen=True, slots=True)
class Image:
    """An illustration of a practice."""

    src: str
    alt: str
    width: int = 0
    height: int = 0


@quick_pickle
@dataclass(frozen=True, slots=True)
class Section:
    """A second-level section of a practice's text, rendered to HTML."""

    title: str
    anchor: str
    html: str


TEXT_FIELDS = ("description_html", "resources_needed_html", "evidence_of_success_html",
               "potential_for_transfer_html", "expert_opinion_html", "extra_sections", "footnotes_html")


class PracticeText:
    """A practice's text, as HTML: its sections, the expert opinion, the footnotes.

    Kept apart from the rest of the practice because it is most of its size
    and only read where the practice is shown whole (its page, its open data):
    the build cache stores it as an entry of its own, which a rebuild fetches
    only for the pages it makes again (texts.CachedText). Not changed once
    made, but for `key`, the name of its cache entry once it has one.
    """

    __slots__ = (*TEXT_FIELDS, "key")

    def __init__(
        self,
        description_html: str = "",
        resources_needed_html: str = "",
        evidence_of_success_html: str = "",
        potential_for_transfer_html: str = "",
        expert_opinion_html: str = "",
        extra_sections: tuple[Section, ...] = (),
        footnotes_html: str = "",
    ) -> None:
        self.description_html = description_html
        self.resources_needed_html = resources_needed_html
        self.evidence_of_success_html = evidence_of_success_html
        self.potential_for_transfer_html = potential_for_transfer_html
        self.expert_opinion_html = expert_opinion_html
        self.extra_sections = extra_sections
        self.footnotes_html = footnotes_html
        self.key = ""

    def values(self) -> tuple:
        """The fields, in TEXT_FIELDS order."""
        return _text_values(self)

    def replace(self, **changes: object) -> PracticeText:
        values = dict(zip(TEXT_FIELDS, self.values(), strict=True))
        values.update(changes)
        return PracticeText(**values)  # type: ignore[arg-type]

    def __reduce__(self) -> tuple:
        return (PracticeText, self.values())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PracticeText) and self.values() == other.values()

    def __hash__(self) -> int:
        return hash(self.values())

    def __repr__(self) -> str:
        return f"PracticeText({', '.join(f'{n}={v!r}' for n, v in zip(TEXT_FIELDS, self.values(), strict=True))})"


_text_values = attrgetter(*TEXT_FIELDS)


@quick_pickle
@dataclass(frozen=True, slots=True)
class Theme:
    """One topic of the theme taxonomy, declared in themes.yaml."""

    id: str
    title: str
    description: str = ""
    line: int = 0  # where it is declared, for error messages


@quick_pickle
@dataclass(frozen=True, slots=True)
class Practice:
    """One good practice, as written by an editor and then resolved."""

    source: str  # path relative to the site root, e.g. "content/practices/foo.md"
    slug: str
    title: str
    summary: str
    themes: tuple[str, ...]
    country: str
    main_institution: str
    start: PartialDate
    text: PracticeText
    region: str = ""  # as written: a code or a name
    city: str = ""
    leading_region: str = ""
    participating_regions: tuple[str, ...] = ()
    end: PartialDate | None = None
    author: Person | None = None
    followers: tuple[Person, ...] = ()
    keywords: tuple[str, ...] = ()
    website: str = ""
    published: dt.date | None = None
    updated: dt.date | None = None
    implementation_level: str = ""
    project: Link | None = None
    image: Image | None = None
    attachments: tuple[Link, ...] = ()
    aliases: tuple[str, ...] = ()
    lang: str = ""
    draft: bool = False
    # Where each front-matter field was written, for errors found after
    # parsing (unknown theme, unknown region).
    positions: Positions = field(default_factory=Positions, compare=False)

    digest: str = field(default="", compare=False)  # of the source file and what parsed it

    # Derived by resolve.py.
    status: str = ""  # "ongoing" or "completed"
    url: str = ""  # root-relative, with the base path: "/practices/foo/"
    location: Region | None = None  # the deepest region known: region, else the country
    location_chain: tuple[Region, ...] = ()  # country first
    leading: Region | None = None
    participants: tuple[Region, ...] = ()
    theme_objects: tuple[Theme, ...] = ()
    related: tuple[Practice, ...] = field(default=(), compare=False, repr=False)

    # The text, read through the practice as templates always have.
    @property
    def description_html(self) -> str:
        return self.text.description_html

    @property
    def resources_needed_html(self) -> str:
        return self.text.resources_needed_html

    @property
    def evidence_of_success_html(self) -> str:
        return self.text.evidence_of_success_html

    @property
    def potential_for_transfer_html(self) -> str:
        return self.text.potential_for_transfer_html

    @property
    def expert_opinion_html(self) -> str:
        return self.text.expert_opinion_html

    @property
    def extra_sections(self) -> tuple[Section, ...]:
        return self.text.extra_sections

    @property
    def footnotes_html(self) -> str:
        return self.text.footnotes_html

    @property
    def country_region(self) -> Region | None:
        return self.location_chain[0] if self.location_chain else None

    @property
    def place(self) -> str:
        """Where it is, for lists: "Lappi, Pohjois- ja Itä-Suomi, Finland" without repeats."""
        names: list[str] = []
        for region in reversed(self.location_chain):
            if region.display_name not in names:
                names.append(region.display_name)
        if len(names) > 2:
            names = [names[0], names[-1]]
        return ", ".join(names)

    @property
    def date(self) -> dt.date:
        """The date feeds and "latest" lists sort by."""
        return self.updated or self.published or self.start.first_day

    @property
    def sections(self) -> tuple[Section, ...]:
        """The well-known sections that are present, then the others, in reading order."""
        known = (
            Section("Resources needed", "resources-needed", self.resources_needed_html),
            Section("Evidence of success", "evidence-of-success", self.evidence_of_success_html),
            Section(
                "Potential for learning or transfer",
                "potential-for-learning-or-transfer",
                self.potential_for_transfer_html,
            ),
        )
        return tuple(s for s in known if s.html) + self.extra_sections


@quick_pickle
@dataclass(frozen=True, slots=True)
class Page:
    """A free page such as "About", written in Markdown."""

    source: str
    slug: str
    title: str
    html: str
    description: str = ""
    draft: bool = False
    menu: int = 0  # position in the header menu; 0: not in the menu
    url: str = ""
    digest: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class ThemeTerm:
    """A theme with the practices that carry it, newest first."""

    theme: Theme
    url: str
    practices: tuple[Practice, ...]

    @property
    def id(self) -> str:
        return self.theme.id

    @property
    def title(self) -> str:
        return self.theme.title

    @property
    def count(self) -> int:
        return len(self.practices)


@dataclass(slots=True)
class RegionTerm:
    """A region (a country is a level-0 region) with the practices that involve it.

    Mutable only while indexes.py builds the tree; templates treat it as read-only.
    """

    region: Region
    url: str
    located: tuple[Practice, ...] = ()  # located in this region or below, newest first
    leads: tuple[Practice, ...] = ()
    joins: tuple[Practice, ...] = ()
    chain: tuple[RegionTerm, ...] = ()  # country first, ending with this term
    children: list[RegionTerm] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.region.code

    @property
    def name(self) -> str:
        return self.region.display_name

    @property
    def count(self) -> int:
        """Practices located here or in a region below."""
        return len(self.located)

    @property
    def involvement(self) -> int:
        return len(self.located) + len(self.leads) + len(self.joins)


@dataclass(frozen=True, slots=True)
class RegionLink:
    """Another region as a page shows it: its name and a link to its page. Pages get these
    rather than other regions' terms, so that their keys (fingerprint.py) cover what they
    show of those regions, not every practice listed there."""

    code: str
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Subregion:
    """A region below the one a page is about, with how many practices involve it."""

    code: str
    name: str
    url: str
    count: int  # practices located there or below
    involvement: int  # and those it leads or takes part in


@dataclass(frozen=True, slots=True)
class TypeTerm:
    """A type of region (island, border, mountain...) with the practices located in one."""

    id: str
    title: str
    url: str
    practices: tuple[Practice, ...]
    regions: tuple[Region, ...]

    @property
    def count(self) -> int:
        return len(self.practices)


@dataclass(frozen=True, slots=True)
class Site:
    """Everything the templates can show: settings, content and its indexes."""

    settings: Settings
    practices: tuple[Practice, ...]  # newest first: the order of the practice list
    pages: tuple[Page, ...]
    themes: tuple[ThemeTerm, ...]  # in themes.yaml order
    regions: dict[str, RegionTerm]  # by code: every region with a page
    countries: tuple[RegionTerm, ...]  # by name
    region_types: tuple[TypeTerm, ...]
    build_date: dt.date

    # The menu and the footer show the free pages as links, not whole: the key of every
    # page covers their titles and addresses, not their text (fingerprint.py).
    @property
    def menu(self) -> tuple[Link, ...]:
        return tuple(Link(p.title, p.url) for p in sorted((p for p in self.pages if p.menu),
                                                          key=lambda p: (p.menu, p.slug)))

    @property
    def page_links(self) -> tuple[Link, ...]:
        return tuple(Link(p.title, p.url) for p in self.pages)
