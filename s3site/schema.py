"""JSON Schema of the files editors write, generated from the declared fields.

`s3site schema` prints one of these so that an editor's YAML extension can
complete field names, show each field's help and flag mistakes as you type.
Every schema is made from the same `Field` declarations that validation
reads (fields.py, config.py), so the two cannot drift apart.

The schemas declare draft 2020-12 but use only keywords that mean the same in
draft-07, which is what the VS Code YAML extension understands.
"""

from __future__ import annotations

import json
from typing import Any

from .config import SITE_FIELDS
from .fields import (
    DATE_RE,
    LOCATION_FIELDS,
    PRACTICE_FIELDS,
    SLUG_RE,
    THEME_FIELDS,
    YAML_SECTION_FIELDS,
    Field,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"

Schema = dict[str, Any]

# Plain text: s3site also takes a number there (title: 2030 reads as "2030").
_TEXT: Schema = {"type": ["string", "number"], "pattern": r"\S"}
_URL: Schema = {"type": "string", "pattern": r"^https?://[^\s/?#]+[^\s]*$"}
# A file below content/static/ ("/docs/plan.pdf") or an http(s) address.
_URL_OR_PATH: Schema = {"type": "string", "pattern": r"^(https?://[^\s/?#]+\S*|[^:\\]+)$"}
_DATE: Schema = {
    "anyOf": [
        {"type": "integer", "minimum": 1900, "maximum": 9999},
        {"type": "string", "pattern": DATE_RE.pattern},
    ]
}

_PERSON: Schema = {
    "anyOf": [
        _TEXT,
        {
            "type": "object",
            "properties": {
                "name": _TEXT,
                "organisation": {"type": ["string", "number", "null"]},
                "organization": {"type": ["string", "number", "null"]},
                "email": {"type": ["string", "number", "null"]},
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    ]
}
_LINK: Schema = {
    "anyOf": [
        _URL_OR_PATH,
        {
            "type": "object",
            "properties": {
                "title": _TEXT, "name": _TEXT, "url": _URL_OR_PATH, "file": _URL_OR_PATH,
            },
            "anyOf": [{"required": ["url"]}, {"required": ["file"]}],
            "additionalProperties": False,
        },
    ]
}
_IMAGE: Schema = {
    "type": "object",
    "properties": {
        "src": _URL_OR_PATH,
        "alt": _TEXT,
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
    },
    "required": ["src", "alt"],
    "additionalProperties": False,
}


def _one_or_list(item: Schema, *, at_least_one: bool = False) -> Schema:
    items: Schema = {"type": "array", "items": item}
    if at_least_one:
        items["minItems"] = 1
    return {"anyOf": [item, items]}


# One entry per kind of fields.COERCERS; a test keeps the two tables in step.
KIND_SCHEMAS: dict[str, Schema] = {
    "text": _TEXT,
    "optional_text": {"type": ["string", "number"]},
    "markdown": {"type": "string"},
    "integer": {"type": "integer", "minimum": 1},
    "boolean": {"type": "boolean"},
    "url": _URL,
    "date": _DATE,
    "day": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    "strings": _one_or_list(_TEXT),
    "slug": {"type": "string", "pattern": SLUG_RE.pattern},
    "person": _PERSON,
    "persons": _one_or_list(_PERSON),
    "link": _LINK,
    "links": _one_or_list(_LINK),
    "image": _IMAGE,
    "aliases": _one_or_list(
        {"type": "string", "pattern": r"^/?[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*/?$"}
    ),
    "mapping": {"type": "object"},
    "enum": {"type": "string"},
}

# Mappings whose keys are declared too (content.py reads them with read_nested).
NESTED: dict[str, tuple[Field, ...]] = {"location": LOCATION_FIELDS}


def field_schema(spec: Field) -> Schema:
    """The schema of one field's value, with its help as the description."""
    if spec.name in NESTED:
        value = object_schema(NESTED[spec.name])
    elif spec.choices:
        value = {"enum": list(spec.choices)}
    elif spec.required and spec.kind == "markdown":
        value = {"type": "string", "pattern": r"\S"}
    elif spec.required and spec.kind == "strings":
        value = _one_or_list(_TEXT, at_least_one=True)
    else:
        value = dict(KIND_SCHEMAS[spec.kind])
    if not spec.required:
        # s3site skips an optional key left empty ("end:"), so editors may too.
        value = {"anyOf": [value, {"type": "null"}, {"const": ""}]}
    value = {"description": spec.help, **value}
    if spec.default is not None:
        value["default"] = spec.default
    return value


def object_schema(fields: tuple[Field, ...]) -> Schema:
    """A mapping of declared fields; unknown keys are flagged (s3site warns about them)."""
    return {
        "type": "object",
        "properties": {spec.name: field_schema(spec) for spec in fields},
        "required": [spec.name for spec in fields if spec.required],
        "additionalProperties": False,
    }


def practice_schema(*, pure_yaml: bool = False) -> Schema:
    """The front matter of a Markdown practice, or a whole pure-YAML practice."""
    fields = PRACTICE_FIELDS + (YAML_SECTION_FIELDS if pure_yaml else ())
    what = "a practice written as pure YAML (*.yaml)" if pure_yaml else "a practice's front matter"
    return _document(f"s3site: {what}", object_schema(fields))


def site_schema() -> Schema:
    """content/site.yaml."""
    return _document("s3site: content/site.yaml", object_schema(SITE_FIELDS))


def themes_schema() -> Schema:
    """content/themes.yaml: a list of themes, or a mapping with a 'themes' list."""
    themes = {"type": "array", "minItems": 1, "items": object_schema(THEME_FIELDS)}
    return _document(
        "s3site: content/themes.yaml",
        {
            "anyOf": [
                themes,
                {"type": "object", "properties": {"themes": themes}, "required": ["themes"]},
            ]
        },
    )


def _document(title: str, body: Schema) -> Schema:
    return {"$schema": DIALECT, "title": title, **body}


SCHEMAS = {
    "practice": practice_schema,
    "practice-yaml": lambda: practice_schema(pure_yaml=True),
    "site": site_schema,
    "themes": themes_schema,
}


def schema_json(kind: str = "practice") -> str:
    """The schema for one kind of file (a key of SCHEMAS) as indented JSON."""
    return json.dumps(SCHEMAS[kind](), indent=2, ensure_ascii=False) + "\n"
