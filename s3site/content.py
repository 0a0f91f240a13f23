"""Files to models: one practice, page or theme file in, a model or errors out.

Every function here is pure: it gets the file's path (for messages) and its
bytes, and returns the parsed model with the diagnostics found. Nothing is
looked up elsewhere, so results can be cached by the file's content and
computed in parallel. Checks that need the whole site (do the themes exist,
is the region known) happen later, in resolve.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from .errors import Diagnostic, did_you_mean, error, warning
from .fields import (
    LOCATION_FIELDS,
    PAGE_FIELDS,
    PRACTICE_FIELDS,
    THEME_FIELDS,
    YAML_SECTION_FIELDS,
    Field,
    FieldError,
    coerce,
)
from .markup import split_body, split_front_matter, to_html
from .model import Page, Positions, Practice, PracticeText, Theme
from .pickling import quick_pickle
from .yamlio import YamlDocument, YamlError, load_yaml

MAX_FILE_BYTES = 10 * 1024 * 1024
# Fields checked against the whole site in resolve.py: only their positions are kept.
CHECKED_LATER = frozenset({"slug", "themes", "location", "leading_region", "participating_regions"})


@quick_pickle
@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing one file gave: the model (None when it failed) and its problems."""

    model: Any
    diagnostics: tuple[Diagnostic, ...] = ()


def decode(source: str, data: bytes) -> tuple[str | None, list[Diagnostic]]:
    """Bytes to text: UTF-8, an optional BOM dropped, line endings made \\n."""
    if len(data) > MAX_FILE_BYTES:
        size = len(data) // (1024 * 1024)
        return None, [error(source, f"file is {size} MB; the limit is 10 MB")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [error(source, "not valid UTF-8 text; save the file as UTF-8", line, column)]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        return None, [error(source, "the file contains a NUL byte; is it a binary file?")]
    return text, []


def slugify(text: str) -> str:
    """A URL name from any text: "Örebro Län 2024" -> "orebro-lan-2024"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def parse_practice(
    source: str, data: bytes, *, trust_html: bool = False, engine: str = "python-markdown"
) -> Parsed:
    """Parse one practice file, Markdown with front matter or pure YAML."""
    text, problems = decode(source, data)
    if text is None:
        return Parsed(None, tuple(problems))
    if not text.strip():
        return Parsed(None, (error(source, "the file is empty"),))
    is_yaml = PurePosixPath(source).suffix in (".yaml", ".yml")
    line_offset = 0
    if is_yaml:
        front, body, body_line = text, "", 0
    else:
        try:
            front, body, body_line = split_front_matter(text)
        except ValueError as exc:
            return Parsed(None, (error(source, str(exc), 1, 1),))
        if front is None:
            hint = "start the file with a line '---', the fields, then another '---'"
            return Parsed(None, (error(source, f"no front matter: {hint}", 1, 1),))
        line_offset = 1
    try:
        document = load_yaml(front)
    except YamlError as exc:
        line = exc.line + line_offset if exc.line else 0
        return Parsed(None, (error(source, exc.message, line, exc.column),))
    if not isinstance(document.data, dict):
        kind = "nothing" if document.data is None else type(document.data).__name__
        what = "the file" if is_yaml else "the front matter"
        return Parsed(None, (error(source, f"{what} must be a mapping of fields, got {kind}", 1, 1),))
    fields = PRACTICE_FIELDS + (YAML_SECTION_FIELDS if is_yaml else ())
    reader = FieldReader(source, document, line_offset)
    values = reader.read(fields)
    location = reader.read_nested("location", LOCATION_FIELDS)
    problems.extend(reader.problems)

    if is_yaml:
        body = _yaml_body(document.data)
        body_line = 1
    rendered = split_body(body, trust_html=trust_html, engine=engine)
    if not rendered.description and "description" not in reader.failed:
        where = "under 'description'" if is_yaml else "after the front matter"
        problems.append(
            error(source, f"the description is empty: write it {where}", body_line or 1)
        )
    if values.get("themes") == ():
        line, column = reader.position("themes")
        problems.append(error(source, "themes: list at least one theme id from themes.yaml", line, column))
    start, end = values.get("start"), values.get("end")
    if start and end and end.last_day < start.first_day:
        line, column = reader.position("end")
        problems.append(error(source, f"end {end} is before start {start}", line, column))
    if any(d.severity == "error" for d in problems):
        return Parsed(None, tuple(problems))

    slug = values.get("slug") or slugify(PurePosixPath(source).stem)
    if not slug:
        problems.append(error(source, "cannot make a URL from the file name; add a slug: field", 1))
        return Parsed(None, tuple(problems))
    expert = values.get("expert_opinion")
    practice = Practice(
        source=source,
        slug=slug,
        title=values["title"],
        summary=values["summary"],
        themes=values["themes"],
        country=location["country"],
        region=location.get("region") or "",
        city=location.get("city") or values.get("city") or "",
        main_institution=values["main_institution"],
        start=start,
        end=end,
        text=PracticeText(
            description_html=rendered.description,
            resources_needed_html=rendered.known.get("resources_needed", ""),
            evidence_of_success_html=rendered.known.get("evidence_of_success", ""),
            potential_for_transfer_html=rendered.known.get("potential_for_transfer", ""),
            expert_opinion_html=to_html(expert, trust_html=trust_html, engine=engine) if expert else "",
            extra_sections=rendered.extra,
            footnotes_html=rendered.footnotes,
        ),
        leading_region=values.get("leading_region") or "",
        participating_regions=values.get("participating_regions") or (),
        author=values.get("author"),
        followers=values.get("followers") or (),
        keywords=values.get("keywords") or (),
        website=values.get("website") or "",
        published=values.get("published"),
        updated=values.get("updated"),
        implementation_level=values.get("implementation_level") or "",
        project=values.get("project"),
        image=values.get("image"),
        attachments=values.get("attachments") or (),
        aliases=values.get("aliases") or (),
        lang=values.get("lang") or "",
        draft=bool(values.get("draft")),
        positions=Positions({k: v for k, v in reader.positions().items() if k.split(".")[0] in CHECKED_LATER}),
    )
    return Parsed(practice, tuple(problems))


def _yaml_body(data: dict[str, Any]) -> str:
    """The sections of a pure-YAML practice, as one Markdown body."""
    parts = [data.get("description") or ""]
    titles = {
        "resources_needed": "Resources needed",
        "evidence_of_success": "Evidence of success",
        "potential_for_transfer": "Potential for learning or transfer",
    }
    for key, title in titles.items():
        if isinstance(data.get(key), str) and data[key].strip():
            parts.append(f"## {title}\n\n{data[key]}")
    return "\n\n".join(p for p in parts if isinstance(p, str))


def parse_page(
    source: str, data: bytes, *, trust_html: bool = False, engine: str = "python-markdown"
) -> Parsed:
    """Parse a free page: optional front matter with a title, then Markdown."""
    text, problems = decode(source, data)
    if text is None:
        return Parsed(None, tuple(problems))
    try:
        front, body, _ = split_front_matter(text)
    except ValueError as exc:
        return Parsed(None, (error(source, str(exc), 1, 1),))
    try:
        document = load_yaml(front) if front is not None else YamlDocument({})
    except YamlError as exc:
        return Parsed(None, (error(source, exc.message, exc.line + 1, exc.column),))
    if document.data is None:
        document = YamlDocument({})
    if not isinstance(document.data, dict):
        return Parsed(None, (error(source, "the front matter must be a mapping of fields", 1, 1),))
    if "title" not in document.data:
        heading = re.match(r"#\s+(.+)\n", body)
        if heading:  # a page may give its title as its first heading instead
            document.data["title"] = heading.group(1).strip()
            body = body[heading.end() :]
    reader = FieldReader(source, document, 1)
    values = reader.read(PAGE_FIELDS)
    problems.extend(reader.problems)
    if any(d.severity == "error" for d in problems):
        return Parsed(None, tuple(problems))
    page = Page(
        source=source,
        slug=values.get("slug") or slugify(PurePosixPath(source).stem),
        title=values["title"],
        html=to_html(body, trust_html=trust_html, engine=engine),
        description=values.get("description") or "",
        draft=bool(values.get("draft")),
        menu=values.get("menu") or 0,
    )
    return Parsed(page, tuple(problems))


def read_yaml_file(source: str, data: bytes) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """A whole YAML file (site.yaml, themes.yaml): decoded and parsed, or the problems."""
    text, problems = decode(source, data)
    if text is None:
        return None, problems
    try:
        return load_yaml(text), problems
    except YamlError as exc:
        return None, [error(source, exc.message, exc.line, exc.column)]


def parse_themes(source: str, data: bytes) -> Parsed:
    """Parse themes.yaml: a list of {id, title, description}."""
    document, problems = read_yaml_file(source, data)
    if document is None:
        return Parsed(None, tuple(problems))
    items, prefix = document.data, ""
    if isinstance(items, dict) and isinstance(items.get("themes"), list):
        items, prefix = items["themes"], "themes."
    if not isinstance(items, list) or not items:
        return Parsed(None, (error(source, "expected a list of themes, each with id and title", 1),))
    themes: list[Theme] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(items, 1):
        line = document.positions.get(f"{prefix}{number}", (0, 0))[0]
        if not isinstance(item, dict):
            problems.append(error(source, f"theme {number}: expected a mapping with id and title", line))
            continue
        reader = FieldReader(source, YamlDocument(item), 0, default_line=line)
        values = reader.read(THEME_FIELDS, label=f"theme {number}: ")
        problems.extend(reader.problems)
        if "id" not in values or "title" not in values:
            continue
        if values["id"] in seen:
            problems.append(
                error(source, f"theme id '{values['id']}' is declared twice (first on line {seen[values['id']]})", line)
            )
            continue
        seen[values["id"]] = line
        themes.append(Theme(values["id"], values["title"], values.get("description") or "", line))
    if any(d.severity == "error" for d in problems):
        return Parsed(None, tuple(problems))
    return Parsed(tuple(themes), tuple(problems))


class FieldReader:
    """Checks a mapping against declared fields, collecting every problem."""

    def __init__(
        self, source: str, document: YamlDocument, line_offset: int, default_line: int = 0
    ) -> None:
        self.source = source
        self.data: dict[str, Any] = document.data
        self._positions = document.positions
        self.line_offset = line_offset
        self.default_line = default_line
        self.problems: list[Diagnostic] = []
        self.failed: set[str] = set()

    def position(self, key: str) -> tuple[int, int]:
        line, column = self._positions.get(key, (0, 0))
        if not line:
            return self.default_line, 0
        return line + self.line_offset, column

    def positions(self) -> dict[str, tuple[int, int]]:
        return {key: self.position(key) for key in self._positions}

    def read(self, fields: tuple[Field, ...], label: str = "", prefix: str = "") -> dict[str, Any]:
        """Coerce every declared key; unknown keys get a warning with a suggestion.

        `label` starts every message ("theme 3: "); `prefix` names the
        mapping the keys are in ("location.").
        """
        values: dict[str, Any] = {}
        for spec in fields:
            value = self.data.get(spec.name)
            if value is None or value == "":
                if spec.required:
                    line = self.position(spec.name)[0] if spec.name in self.data else self.default_line or 1
                    self.problems.append(
                        error(self.source, f"{label}missing required field '{prefix}{spec.name}'", line)
                    )
                    self.failed.add(spec.name)
                continue
            try:
                values[spec.name] = coerce(spec, value)
            except FieldError as exc:
                line, column = self.position(spec.name)
                self.problems.append(error(self.source, f"{label}{prefix}{spec.name}: {exc}", line, column))
                self.failed.add(spec.name)
        names = {spec.name for spec in fields}
        for key in self.data:
            if key in names:
                continue
            line, column = self.position(str(key))
            self.problems.append(
                warning(
                    self.source,
                    f"{label}unknown field '{prefix}{key}'{did_you_mean(str(key), names)}",
                    line,
                    column,
                )
            )
        return values

    def read_nested(self, name: str, fields: tuple[Field, ...]) -> dict[str, Any]:
        """Read a nested mapping such as location, with positions one level down."""
        value = self.data.get(name)
        if not isinstance(value, dict):
            return {}
        nested = YamlDocument(
            value, {k.split(".", 1)[1]: p for k, p in self._positions.items() if k.startswith(name + ".")}
        )
        reader = FieldReader(self.source, nested, self.line_offset, self.position(name)[0])
        values = reader.read(fields, prefix=f"{name}.")
        self.problems.extend(reader.problems)
        return values

