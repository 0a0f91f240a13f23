"""Good-practice pages saved as text, turned into practice files (`s3site import`).

The input is what a browser gives when a good-practice database page is
copied as text: the title, a one-line summary, the description (with "•"
bullets and the "Leading region:" and "Participating regions:" lines), the
well-known sections under their headings, then labelled facts: "Main
institution", a location line "<region>, <Country> (<country in the national
language>)", "Start Date", "End Date", the author's line and "Good Practices
being followed by" with name and organisation lines.

Nothing is guessed silently. What is mapped is listed in the report; what
needs an editor's eye is listed too, marked with a REVIEW comment in the file,
and the file is then a draft; lines that fit nowhere are kept, as written, in
a REVIEW comment. An existing file is never overwritten.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .content import decode, slugify
from .errors import SiteError
from .fields import PRACTICE_FIELDS, FieldError, coerce
from .markup import KNOWN_SECTIONS
from .model import MONTHS
from .regions import RegionLookupError, RegionRegistry
from .scaffold import (
    SECTIONS,
    check_themes,
    commented,
    free_practice_path,
    site_registry,
    yaml_scalar,
)

# A label line ("Start Date", "Leading region:") and the part it introduces.
LABELS: dict[str, str] = {
    "leading region": "leading_region",
    "participating regions": "participating_regions",
    "main institution": "main_institution",
    "start date": "start",
    "end date": "end",
    "good practices being followed by": "followers",
    "expert opinion": "expert_opinion",
    **KNOWN_SECTIONS,  # "resources needed" -> resources_needed, ..., "description"
}
BULLET_RE = re.compile(r"^[•◦▪‣●○■]\s*(.*)$")
# The source page's invitation to log in, after the author's name.
AUTHOR_RE = re.compile(r"^(?P<name>.*?)\s*please log ?in to contact the author\.?$", re.IGNORECASE)
# "Pohjois- ja Itä-Suomi, Finland (Suomi)"; a city may come first:
# "Bilbao, País Vasco, Spain (España)".
LOCATION_RE = re.compile(
    r"^(?:(?P<place>.+),\s*)?(?P<country>[^,()]+?)\s*\((?P<national>[^()]*)\)$"
)
MONTH_NUMBERS = {
    **{name.casefold(): number for number, name in enumerate(MONTHS) if name},
    **{name[:3].casefold(): number for number, name in enumerate(MONTHS) if name},
    "sept": 9,
}
# Dates as pages write them: 2018, 2018-06, 06/2018, June 2018, 3 June 2018.
# A numeric day and month (03/06/2018) is left for the editor: its order varies.
DATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^(?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?$"),
    re.compile(r"^(?P<m>\d{1,2})[/.](?P<y>\d{4})$"),
    re.compile(r"^(?P<month>[^\W\d_]+)\.?,?\s+(?P<y>\d{4})$"),
    re.compile(r"^(?P<d>\d{1,2})\.?\s+(?P<month>[^\W\d_]+)\.?,?\s+(?P<y>\d{4})$"),
)
START = next(spec for spec in PRACTICE_FIELDS if spec.name == "start")
TITLE_LENGTH = 80  # an offered title is cut to this, at a word


@dataclass(slots=True)
class Extracted:
    """What was read from one source text, field by field, with notes for the editor."""

    title: str = ""
    summary: str = ""
    description: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)
    expert_opinion: list[str] = field(default_factory=list)
    leading_region: tuple[str, str] | None = None  # (code, as written)
    participating_regions: list[tuple[str, str]] = field(default_factory=list)
    country: str = ""
    region: str = ""
    city: str = ""
    location_text: str = ""
    main_institution: str = ""
    start: tuple[str, str] | None = None  # (YYYY-MM, as written)
    end: tuple[str, str] | None = None
    author: str = ""
    followers: list[tuple[str, str]] = field(default_factory=list)
    mapped: list[str] = field(default_factory=list)
    review: list[tuple[str, str]] = field(default_factory=list)  # (field, what to check)
    unmapped: list[str] = field(default_factory=list)  # source lines kept as written

    @property
    def needs_review(self) -> bool:
        return bool(self.review or self.unmapped)


@dataclass(slots=True)
class Imported:
    """One source file's import: where it went, the file's text and the report."""

    source: Path
    target: Path | None = None
    text: str = ""
    practice: Extracted | None = None
    problem: str = ""  # why nothing was written for this file

    def lines(self, *, dry_run: bool = False) -> list[str]:
        """The report for the terminal."""
        if self.problem:
            return [f"{self.source}: not imported: {self.problem}"]
        assert self.practice is not None
        practice = self.practice
        verb = "would write" if dry_run else "wrote"
        state = " (draft: needs review)" if practice.needs_review else ""
        report = [f"{self.source}: {verb} {self.target}{state}"]
        report.append("  mapped: " + (", ".join(practice.mapped) or "nothing"))
        report += [f"  review: {name}: {note}" for name, note in practice.review]
        report += [f"  not mapped (kept in a REVIEW comment): {line}" for line in practice.unmapped]
        return report


def import_files(
    sources: list[Path],
    *,
    root: Path,
    into: Path | None = None,
    themes: list[str] | tuple[str, ...] = (),
    dry_run: bool = False,
) -> list[Imported]:
    """Convert each source text into a practice file in `into`; never overwrite one."""
    themes = check_themes(root, themes)
    registry = site_registry(root)
    folder = into if into is not None else root / "content" / "practices"
    results: list[Imported] = []
    planned: set[Path] = set()
    for source in sources:
        result = Imported(source)
        results.append(result)
        try:
            data = source.read_bytes()
        except OSError as exc:
            result.problem = exc.strerror or str(exc)
            continue
        text, problems = decode(str(source), data)
        if text is None:
            result.problem = problems[0].message
            continue
        practice = read_practice(text, registry)
        slug = slugify(practice.title) or slugify(source.stem)
        try:
            target = free_practice_path(folder, slug)
        except SiteError as exc:
            result.problem = str(exc.diagnostics[0])
            continue
        if target in planned:
            result.problem = f"{target} is already the target of an earlier file of this run"
            continue
        planned.add(target)
        result.practice, result.target = practice, target
        result.text = practice_file(practice, themes=themes, source_name=source.name)
        if not dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as stream:
                stream.write(result.text)
    return results


def summary(results: list[Imported], *, dry_run: bool = False) -> str:
    """One line on the whole run."""
    done = [result for result in results if not result.problem]
    review = sum(1 for result in done if result.practice and result.practice.needs_review)
    text = f"{'Would import' if dry_run else 'Imported'} {len(done)} of {len(results)} files"
    text += f", {review} to review"
    if len(done) < len(results):
        text += f"; {len(results) - len(done)} not imported"
    return text + ("; dry run: nothing was written" if dry_run else "")


# -- reading -------------------------------------------------------------------


def read_practice(text: str, registry: RegionRegistry) -> Extracted:
    """Read a saved good-practice page, field by field, noting what needs review."""
    practice = Extracted()
    reader = _Reader(practice, registry)
    for part, lines in _parts(unicodedata.normalize("NFC", text)):
        reader.read(part, lines)
    reader.finish()
    return practice


def _label(line: str) -> tuple[str, str] | None:
    """(part, value written on the same line) when the line is a label."""
    part = LABELS.get(line.rstrip(":").strip().casefold())
    if part:
        return part, ""
    name, colon, rest = line.partition(":")
    part = LABELS.get(name.strip().casefold())
    if colon and part and rest.strip():
        return part, rest.strip()
    return None


def _parts(text: str) -> list[tuple[str, list[str]]]:
    """The text cut at its labels: ("top", lines before the first), then (part, lines)."""
    parts: list[tuple[str, list[str]]] = [("top", [])]
    for raw in text.split("\n"):
        line = raw.strip()
        found = _label(line)
        if found:
            parts.append((found[0], [found[1]] if found[1] else []))
        else:
            parts[-1][1].append(line)
    return parts


class _Reader:
    """Fills in what was extracted from the parts of a text, in order."""

    def __init__(self, practice: Extracted, registry: RegionRegistry) -> None:
        self.practice = practice
        self.registry = registry

    def read(self, part: str, lines: list[str]) -> None:
        filled = [line for line in lines if line]
        practice = self.practice
        if part == "top":
            self.top(filled)
        elif part == "description":
            practice.description += filled
        elif part == "expert_opinion":
            practice.expert_opinion += filled
        elif part in ("leading_region", "participating_regions"):
            for line in filled:
                self.region(part, line)
        elif part == "followers":
            self.followers(filled)
        elif part == "main_institution":
            if filled and not practice.main_institution:
                practice.main_institution = filled.pop(0)
            self.facts(filled)
        elif part in ("start", "end"):
            if filled and (date := parse_date(filled[0])):
                setattr(practice, part, (date, filled.pop(0)))
            elif part == "end" and filled and filled[0].casefold() == "ongoing":
                filled.pop(0)  # the same as no end date
            self.facts(filled)
        else:  # one of the well-known sections
            practice.sections.setdefault(part, []).extend(filled)

    def top(self, lines: list[str]) -> None:
        """Title, summary and description: the text before the first label."""
        practice = self.practice
        if not lines:
            return
        if heading_like(lines[0]):
            practice.title = lines.pop(0)
        else:
            practice.title = offered_title(lines[0])
            practice.review.append((
                "title", "the source has no title line, so its first line was offered; "
                "write the real title (and rename the file to match)"
            ))
        if lines and not BULLET_RE.match(lines[0]):
            practice.summary = lines.pop(0)
        practice.description += lines

    def region(self, part: str, line: str) -> None:
        """A "<region>, <Country>" line resolved to a code within that country."""
        name, comma, country_name = line.rpartition(",")
        scope = None
        if comma:
            country = self.registry.country(country_name.strip())
            if country is None:
                self.practice.review.append(
                    (part, f"{line!r}: unknown country '{country_name.strip()}'"))
                self.practice.unmapped.append(line)
                return
            scope = country.code
        try:
            code = self.registry.resolve(name.strip() if comma else line, scope).code
        except RegionLookupError as exc:
            self.practice.review.append((part, f"{line!r}: {exc}"))
            self.practice.unmapped.append(line)
            return
        if part == "participating_regions":
            self.practice.participating_regions.append((code, line))
        elif self.practice.leading_region is None:
            self.practice.leading_region = (code, line)
        else:
            self.practice.review.append(("leading_region", f"a second one, {line!r}, was not used"))
            self.practice.unmapped.append(line)

    def followers(self, lines: list[str]) -> None:
        """Name and organisation lines, in pairs."""
        people = [line for line in lines if not self.boilerplate(line)]
        if len(people) % 2:
            self.practice.review.append((
                "followers", f"{len(people)} lines, not name and organisation pairs; "
                f"'{people[-1]}' was taken as a name without an organisation"
            ))
            people.append("")
        self.practice.followers += list(zip(people[::2], people[1::2], strict=True))

    def facts(self, lines: list[str]) -> None:
        """Lines among the labelled facts: the location, the author, or left unmapped."""
        for line in lines:
            if not (self.location(line) or self.boilerplate(line)):
                self.practice.unmapped.append(line)

    def boilerplate(self, line: str) -> bool:
        """The author's line (its login prompt dropped), or another line to drop."""
        match = AUTHOR_RE.match(line)
        if not match:
            return False
        if match["name"] and not self.practice.author:
            self.practice.author = match["name"]
        elif match["name"]:
            self.practice.unmapped.append(match["name"])
        return True

    def location(self, line: str) -> bool:
        """The location line: country, region (and a city before it); False if it is not one."""
        match = LOCATION_RE.match(line)
        country = self.registry.country(match["country"]) if match else None
        practice = self.practice
        if match is None or country is None or practice.location_text:
            return False
        practice.country, practice.location_text = country.code, line
        place = (match["place"] or "").strip()
        if not place:
            return True
        try:
            practice.region = self.registry.resolve(place, country.code).code
            return True
        except RegionLookupError as exc:
            problem = str(exc)
        city, comma, rest = place.partition(",")
        if comma:
            try:
                practice.region = self.registry.resolve(rest.strip(), country.code).code
                practice.city = city.strip()
                return True
            except RegionLookupError:
                pass
        practice.review.append(("location", f"{line!r}: {problem}; only the country was used"))
        return True

    def finish(self) -> None:
        """Note what is missing and list what was mapped."""
        practice = self.practice
        checks = [
            ("title", practice.title), ("summary", practice.summary),
            ("description", practice.description),
            *[(key, practice.sections.get(key)) for key, _, _ in SECTIONS],
            ("expert_opinion", practice.expert_opinion),
            ("leading_region", practice.leading_region),
            ("participating_regions", practice.participating_regions),
            ("main_institution", practice.main_institution), ("location", practice.country),
            ("start", practice.start), ("end", practice.end), ("author", practice.author),
            ("followers", practice.followers),
        ]
        for name, value in checks:
            if isinstance(value, list) and len(value) > 1 and name not in _TEXTS:
                practice.mapped.append(f"{name} ({len(value)})")
            elif value:
                practice.mapped.append(name)
            elif name == "end" and practice.start:
                practice.mapped.append("end (none: ongoing)")
        for name in ("title", "summary", "description", "main_institution", "location", "start"):
            if name not in practice.mapped:
                practice.review.append((name, "not found in the source; write it"))


def heading_like(line: str) -> bool:
    """A short line that is not a sentence: a title, not a summary."""
    return (
        len(line) <= 150 and len(line.split()) <= 20
        and not line.endswith((".", "!", "?", ":", ";", ","))
        and not BULLET_RE.match(line)
    )


def offered_title(line: str) -> str:
    """A line as a title to review: without its final stop, cut at a word if long."""
    title = line.rstrip(" .")
    if len(title) <= TITLE_LENGTH:
        return title
    return title[:TITLE_LENGTH].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def parse_date(text: str) -> str | None:
    """ "June 2018" -> "2018-06", "2018" -> "2018", "3 June 2018" -> "2018-06-03"; else None."""
    text = " ".join(text.split())
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        values = match.groupdict()
        month = values.get("m")
        if values.get("month"):
            month = MONTH_NUMBERS.get(values["month"].casefold())
            if month is None:
                return None
        parts = [values["y"]] + [f"{int(p):02d}" for p in (month, values.get("d")) if p]
        date = "-".join(parts)
        try:
            coerce(START, date)
        except FieldError:
            return None
        return date
    return None


# -- writing -------------------------------------------------------------------


def practice_file(practice: Extracted, *, themes: tuple[str, ...], source_name: str) -> str:
    """The practice file for what was read, in the order of the contract."""
    lines = ["---", f"# Imported from {source_name} by `s3site import`."]
    if practice.needs_review:
        lines.append("# Check each REVIEW note below, then remove 'draft: true'.")
    review = dict(practice.review)

    def value(name: str, text: str, comment: str = "") -> None:
        note = review.get(name)
        comment = "" if comment == text else comment  # "start: 2019  # 2019" says nothing
        lines.append(commented(f"{name}: {text}".rstrip(), f"REVIEW: {note}" if note else comment))

    value("title", yaml_scalar(practice.title) if practice.title else "")
    if practice.needs_review:
        lines.append("draft: true")
    value("summary", yaml_scalar(practice.summary) if practice.summary else "")
    if themes:
        value("themes", f"[{', '.join(themes)}]")
    else:
        value("themes", "", "REVIEW: not in the source; add ids from content/themes.yaml")
    value("location", "", practice.location_text)
    lines.append(f"  country: {practice.country}".rstrip())
    if practice.region:
        lines.append(f"  region: {practice.region}")
    if practice.city:
        lines.append(f"  city: {yaml_scalar(practice.city)}")
    institution = practice.main_institution
    value("main_institution", yaml_scalar(institution) if institution else "")
    if practice.leading_region:
        value("leading_region", *practice.leading_region)
    if practice.participating_regions:
        lines.append("participating_regions:")
        lines += [commented(f"  - {code}", written)
                  for code, written in practice.participating_regions]
    value("start", *(practice.start or ("",)))
    value("end", *(practice.end or ("", "ongoing: the source gives no end date")))
    if practice.author:
        lines += ["author:", f"  name: {yaml_scalar(practice.author)}"]
    if practice.followers:
        lines.append("followers:")
        for name, organisation in practice.followers:
            lines.append(f"  - name: {yaml_scalar(name)}")
            if organisation:
                lines.append(f"    organisation: {yaml_scalar(organisation)}")
    if practice.expert_opinion:
        lines.append("expert_opinion: |")
        opinion = markdown(practice.expert_opinion).split("\n")
        lines += [f"  {line}" if line else "" for line in opinion]
    other = [f"{name}: {note}" for name, note in practice.review if name not in _WRITTEN]
    if other or practice.unmapped:
        lines.append("# REVIEW:")
        lines += [f"#   {note}" for note in other]
    if practice.unmapped:
        lines.append("# REVIEW: not mapped from the source; kept here as written:")
        lines += [f"#   {line}" for line in practice.unmapped]
    lines += ["---", "", markdown(practice.description), ""]
    for key, heading, _ in SECTIONS:
        if practice.sections.get(key):
            lines += [f"## {heading}", "", markdown(practice.sections[key]), ""]
    return "\n".join(lines)


# Fields held as lists of source lines, not as lists of items.
_TEXTS = frozenset({"description", "expert_opinion", *(key for key, _, _ in SECTIONS)})
# Fields whose REVIEW note is written on the field's own line.
_WRITTEN = frozenset({"title", "summary", "location", "main_institution", "start", "end"})


def markdown(lines: list[str]) -> str:
    """Source lines as Markdown: each line a paragraph, "•" lines a list."""
    blocks: list[str] = []
    items: list[str] = []
    for line in lines:
        bullet = BULLET_RE.match(line)
        if bullet:
            items.append(f"- {bullet[1]}")
            continue
        if items:
            blocks.append("\n".join(items))
            items = []
        # A line that Markdown would read as a heading or a quote stays text.
        blocks.append("\\" + line if line.startswith(("#", ">")) else line)
    if items:
        blocks.append("\n".join(items))
    return "\n\n".join(blocks)
