"""site.yaml to Settings: declared, validated fields with defaults.

Command-line options that change a setting (`--base-url`) are applied here
too, so every later stage reads one Settings object and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .content import FieldReader, Parsed, read_yaml_file
from .errors import Diagnostic, error
from .fields import Field, FieldError, coerce
from .markup import ENGINES

MARKDOWN_ENGINES = ENGINES

SITE_FIELDS: tuple[Field, ...] = (
    Field("title", "text", "The site's name, shown in the header and the browser tab.", required=True),
    Field("description", "optional_text", "What the collection is, in a sentence or two.", default=""),
    Field("base_url", "url", "The address the site is published at, e.g. https://example.org/practices/.",
          default="http://127.0.0.1:8000/"),
    Field("language", "optional_text", "The language of the site, as a code such as en.", default="en"),
    Field("per_page", "integer", "How many practices a list page shows.", default=20),
    Field("author", "optional_text", "Who publishes the site; named in the feeds and footer.", default=""),
    Field("search", "boolean", "Build the search index and show the search box.", default=True),
    Field("trust_html", "boolean", "Keep raw HTML in Markdown as written (only for trusted authors).",
          default=False),
    Field("markdown", "enum", "The Markdown engine: python-markdown (default) or markdown-it (faster).",
          default="python-markdown", choices=MARKDOWN_ENGINES),
    Field("feed_items", "integer", "How many entries each Atom feed holds.", default=20),
    Field("related", "integer", "How many related practices a practice page suggests.", default=4),
    Field("footer", "optional_text", "A line of text for the footer of every page.", default=""),
    Field("map", "boolean", "Draw the map of Europe on the home and regions pages.", default=True),
)


@dataclass(frozen=True, slots=True)
class Settings:
    """The site's settings, from site.yaml, with every default filled in."""

    title: str
    description: str = ""
    base_url: str = "http://127.0.0.1:8000/"
    language: str = "en"
    per_page: int = 20
    author: str = ""
    search: bool = True
    trust_html: bool = False
    markdown: str = "python-markdown"
    feed_items: int = 20
    related: int = 4
    footer: str = ""
    map: bool = True

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in '/': "/practices/"."""
        return urlsplit(self.base_url).path or "/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def normalise_base_url(url: str) -> str:
    """Base URLs always end in '/', so that joining paths is plain concatenation."""
    return url if url.endswith("/") else url + "/"


def parse_settings(source: str, data: bytes, *, base_url: str | None = None) -> Parsed:
    """Parse site.yaml into Settings, applying a --base-url override."""
    document, problems = read_yaml_file(source, data)
    if document is None:
        return Parsed(None, tuple(problems))
    if document.data is None:
        document.data = {}
    if not isinstance(document.data, dict):
        return Parsed(None, (error(source, "site.yaml must be a mapping of settings", 1, 1),))
    reader = FieldReader(source, document, 0)
    values = reader.read(SITE_FIELDS)
    problems.extend(reader.problems)
    if base_url is not None:
        try:
            values["base_url"] = coerce(SITE_FIELDS[2], base_url)
        except FieldError as exc:
            problems.append(error("--base-url", str(exc)))
    if any(d.severity == "error" for d in problems):
        return Parsed(None, tuple(problems))
    if "base_url" in values:
        values["base_url"] = normalise_base_url(values["base_url"])
    return Parsed(Settings(**values), tuple(problems))



def read_settings(root: Path, *, base_url: str | None = None) -> tuple[Settings | None, list[Diagnostic]]:
    """Read content/site.yaml below a site root."""
    path = root / "content" / "site.yaml"
    source = "content/site.yaml"
    if not path.is_file():
        return None, [error(source, "missing: every site needs content/site.yaml with at least a title")]
    parsed = parse_settings(source, path.read_bytes(), base_url=base_url)
    return parsed.model, list(parsed.diagnostics)
