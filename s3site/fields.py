"""Declared fields: one table per file kind, used to validate and to describe.

Each `Field` says what a key means, whether it is required and what kind of
value it takes. Validation (`coerce`) and the JSON Schema (`schema.py`) both
read the same declarations, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .model import Image, Link, PartialDate, Person


class FieldError(ValueError):
    """A value does not fit its field; the message is for the editor."""


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a YAML mapping."""

    name: str
    kind: str  # a key of COERCERS
    help: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
SAFE_SCHEMES = ("http", "https")


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise FieldError(f"expected text, got {_describe(value)}")
    text = str(value).strip()
    if not text:
        raise FieldError("must not be empty")
    return text


def _optional_text(value: Any) -> str:
    if value is None:
        return ""
    return _text(value)


def _markdown(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(f"expected Markdown text, got {_describe(value)}")
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(f"expected a whole number, got {_describe(value)}")
    if value < 1:
        raise FieldError("must be 1 or more")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"expected true or false, got {_describe(value)}")
    return value


def _url(value: Any) -> str:
    text = _text(value)
    parts = urlsplit(text)
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        raise FieldError(f"'{text}' is not an http(s) address (write it as https://...)")
    if "".join(text.split()) != text:  # any whitespace, without a Python step per character
        raise FieldError(f"'{text}' contains spaces")
    return text


def _partial_date(value: Any) -> PartialDate:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, bool) or value is None or not isinstance(value, int | str):
        raise FieldError(f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {_describe(value)}")
    match = DATE_RE.match(str(value).strip())
    if not match:
        raise FieldError(f"'{value}' is not a date as YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else 0 for g in match.groups())
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        raise FieldError(f"'{value}' is not a real date") from None
    if year < 1900:
        raise FieldError(f"'{value}' is before 1900")
    return PartialDate(year, month, day)


def _day(value: Any) -> dt.date:
    date = _partial_date(value)
    if not date.day:
        raise FieldError(f"'{value}' needs a full date, YYYY-MM-DD")
    return date.first_day


def _strings(value: Any) -> tuple[str, ...]:
    # One text alone is a list of one; any other value that is not a list is refused whole.
    if value is not None and not isinstance(value, str | list):
        raise FieldError(f"expected a list, got {_describe(value)}")
    return _texts(value)


def _person(value: Any) -> Person:
    if isinstance(value, str):
        return Person(_text(value))
    if not isinstance(value, dict):
        raise FieldError(f"expected a name or a mapping with name and organisation, got {_describe(value)}")
    unknown = set(value) - {"name", "organisation", "organization", "email"}
    if unknown:
        raise FieldError(f"unknown key '{sorted(unknown)[0]}' (use name, organisation, email)")
    if "name" not in value:
        raise FieldError("a person needs a name")
    organisation = value.get("organisation", value.get("organization"))
    return Person(
        _text(value["name"]), _optional_text(organisation), _optional_text(value.get("email"))
    )


def _list_of(coerce_item: Callable[[Any], Any]) -> Callable[[Any], tuple[Any, ...]]:
    """A coercer for a list of items (one item alone is taken as a list of one)."""

    def coerce_list(value: Any) -> tuple[Any, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            value = [value]
        items = []
        for i, item in enumerate(value, 1):
            try:
                items.append(coerce_item(item))
            except FieldError as exc:
                raise FieldError(f"item {i}: {exc}") from None
        return tuple(items)

    return coerce_list


_texts = _list_of(_text)


def _link(value: Any) -> Link:
    if isinstance(value, str):
        url = _url_or_path(value)
        return Link(url.rsplit("/", 1)[-1] or url, url)
    if not isinstance(value, dict):
        raise FieldError(f"expected a mapping with title and url, got {_describe(value)}")
    unknown = set(value) - {"title", "name", "url", "file"}
    if unknown:
        raise FieldError(f"unknown key '{sorted(unknown)[0]}' (use title and url, or file)")
    target = value.get("url", value.get("file"))
    if target is None:
        raise FieldError("a link needs a url (or a file)")
    title = value.get("title", value.get("name"))
    url = _url_or_path(target)
    return Link(_text(title) if title is not None else url, url)


def _url_or_path(value: Any) -> str:
    """An http(s) address, or a path to a file in content/static/ (never leaving it)."""
    text = _text(value)
    if urlsplit(text).scheme:
        return _url(text)
    path = text.lstrip("/")
    if not path or "\\" in path or any(part in ("..", ".") for part in path.split("/")):
        raise FieldError(f"'{text}' is not a file inside content/static/")
    return "/" + path


def _image(value: Any) -> Image:
    if isinstance(value, str):
        raise FieldError("an image needs src and alt (a description for readers who cannot see it)")
    if not isinstance(value, dict):
        raise FieldError(f"expected a mapping with src and alt, got {_describe(value)}")
    unknown = set(value) - {"src", "alt", "width", "height"}
    if unknown:
        raise FieldError(f"unknown key '{sorted(unknown)[0]}' (use src, alt, width, height)")
    if "src" not in value or "alt" not in value:
        raise FieldError("an image needs src and alt")
    width = _integer(value["width"]) if "width" in value else 0
    height = _integer(value["height"]) if "height" in value else 0
    return Image(_url_or_path(value["src"]), _text(value["alt"]), width, height)


def _slug(value: Any) -> str:
    text = _text(value)
    if not SLUG_RE.match(text):
        raise FieldError(
            f"'{text}' is not a valid slug: use lower-case letters, digits and hyphens"
        )
    return text


def _alias(value: Any) -> tuple[str, ...]:
    aliases = []
    for item in _strings(value):
        path = item.strip("/")
        parts = path.split("/")
        if not path or any(p in ("", ".", "..") for p in parts) or urlsplit(item).scheme:
            raise FieldError(f"'{item}' is not a path inside the site such as /old/path/")
        if any(not re.fullmatch(r"[A-Za-z0-9._~-]+", p) for p in parts):
            raise FieldError(f"'{item}' may only use letters, digits, '-', '_', '.' and '~'")
        aliases.append(path + "/")
    return tuple(aliases)


def _mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        raise FieldError(f"expected a mapping, got {_describe(value)}")
    return value


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'"


COERCERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "optional_text": _optional_text,
    "markdown": _markdown,
    "integer": _integer,
    "boolean": _boolean,
    "url": _url,
    "date": _partial_date,
    "day": _day,
    "strings": _strings,
    "slug": _slug,
    "person": _person,
    "persons": _list_of(_person),
    "link": _link,
    "links": _list_of(_link),
    "image": _image,
    "aliases": _alias,
    "mapping": _mapping,
    "enum": _text,
}


def coerce(spec: Field, value: Any) -> Any:
    """Check a value against its field and return it in model form, or raise FieldError."""
    result = COERCERS[spec.kind](value)
    if spec.choices and result not in spec.choices:
        options = ", ".join(spec.choices)
        raise FieldError(f"'{result}' is not one of: {options}")
    return result


# The practice file, front matter or pure YAML. Order is the order of `s3site new`.
PRACTICE_FIELDS: tuple[Field, ...] = (
    Field("title", "text", "The practice's name, as readers will see it.", required=True),
    Field("slug", "slug", "The URL name; defaults to the file name."),
    Field("summary", "text", "One or two sentences: what it is and why it matters.", required=True),
    Field("themes", "strings", "Theme ids from themes.yaml, at least one.", required=True),
    Field("location", "mapping", "Where it happens: country, region, city.", required=True),
    Field("city", "optional_text", "The city or town, if it is local (or location.city)."),
    Field("main_institution", "text", "The organisation that runs it.", required=True),
    Field("leading_region", "optional_text", "The region that leads it: a NUTS code or a name."),
    Field("participating_regions", "strings", "Regions that take part: NUTS codes or names."),
    Field("start", "date", "When it began: YYYY, YYYY-MM or YYYY-MM-DD.", required=True),
    Field("end", "date", "When it ended; leave empty while it is ongoing."),
    Field("author", "person", "Who wrote this entry: name, organisation."),
    Field("followers", "persons", "Who follows or reuses it: name, organisation."),
    Field("keywords", "strings", "Words readers might search for."),
    Field("website", "url", "The practice's own web page (http or https)."),
    Field("published", "day", "When this entry was first published (YYYY-MM-DD)."),
    Field("updated", "day", "When this entry was last changed (YYYY-MM-DD)."),
    Field(
        "implementation_level", "enum", "Where it is run: national, regional or local.",
        choices=("national", "regional", "local"),
    ),
    Field("project", "link", "The cooperation project it came from: title and url."),
    Field("expert_opinion", "markdown", "An expert's assessment, in Markdown; shown publicly."),
    Field("image", "image", "An illustration: src (a file in static/ or a URL) and alt text."),
    Field("attachments", "links", "Documents: a list of title and url (or file)."),
    Field("aliases", "aliases", "Earlier URLs of this practice, each kept as a redirect."),
    Field("lang", "optional_text", "The language of this entry, if not the site's (e.g. fr)."),
    Field("draft", "boolean", "true: shown only in the preview, not published."),
)

# Extra keys of the pure YAML form, which holds the sections as Markdown strings.
YAML_SECTION_FIELDS: tuple[Field, ...] = (
    Field("description", "markdown", "The description, in Markdown.", required=True),
    Field("resources_needed", "markdown", "Resources needed, in Markdown."),
    Field("evidence_of_success", "markdown", "Evidence of success, in Markdown."),
    Field("potential_for_transfer", "markdown", "Potential for learning or transfer, in Markdown."),
)

LOCATION_FIELDS: tuple[Field, ...] = (
    Field("country", "text", "ISO 3166 code of the country (EL or GR for Greece).", required=True),
    Field("region", "optional_text", "A NUTS code, or a region name the registry knows."),
    Field("city", "optional_text", "The city or town, if it is local."),
)

PAGE_FIELDS: tuple[Field, ...] = (
    Field("title", "text", "The page title.", required=True),
    Field("slug", "slug", "The URL name; defaults to the file name."),
    Field("description", "optional_text", "A one-line summary for search engines."),
    Field("menu", "integer", "Position in the header menu (1 first); leave out to hide."),
    Field("draft", "boolean", "true: shown only in the preview."),
)

THEME_FIELDS: tuple[Field, ...] = (
    Field("id", "slug", "The theme's id, also its URL name.", required=True),
    Field("title", "text", "The theme's name.", required=True),
    Field("description", "optional_text", "One or two sentences shown on the theme's page."),
)
