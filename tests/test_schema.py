"""The JSON Schema for editors: generated from the declared fields, true to the example site."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import REPO

from s3site.config import SITE_FIELDS
from s3site.fields import COERCERS, PRACTICE_FIELDS, THEME_FIELDS, YAML_SECTION_FIELDS
from s3site.markup import split_front_matter
from s3site.schema import KIND_SCHEMAS, SCHEMAS

PRACTICES = sorted((REPO / "content/practices").iterdir())


def as_json(data):
    """YAML data as an editor's YAML extension sees it: dates are text."""
    return json.loads(json.dumps(data, default=lambda v: v.isoformat()
                                 if isinstance(v, dt.date) else str(v)))


def validate(kind: str, data) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind]())
    return sorted("/".join(map(str, e.absolute_path)) + ": " + e.message
                  for e in validator.iter_errors(as_json(data)))


def front_matter(path: Path):
    front, _, _ = split_front_matter(path.read_text(encoding="utf-8"))
    return yaml.safe_load(front)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_each_schema_is_valid_in_2020_12_and_in_draft_07(kind):
    schema = SCHEMAS[kind]()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft7Validator.check_schema(schema)  # what the VS Code YAML extension reads


@pytest.mark.parametrize("path", PRACTICES, ids=[p.name for p in PRACTICES])
def test_every_practice_of_the_example_site_is_valid(path):
    if path.suffix == ".md":
        assert validate("practice", front_matter(path)) == []
    else:
        assert validate("practice-yaml", yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_the_example_settings_and_themes_are_valid():
    assert validate("site", yaml.safe_load((REPO / "content/site.yaml").read_text())) == []
    assert validate("themes", yaml.safe_load((REPO / "content/themes.yaml").read_text())) == []
    assert validate("themes", {"themes": [{"id": "a", "title": "A"}]}) == []


def test_a_broken_practice_is_rejected_field_by_field():
    data = front_matter(REPO / "content/practices/establishment-of-social-economy-s3-platform.md")
    data.pop("title")
    data.update(start="June 2018", themes="", website="javascript:alert(1)", summery="typo",
                implementation_level="global", followers=[{"name": "A", "company": "B"}])
    data["location"] = {"region": "FI1D"}
    errors = "\n".join(validate("practice", data))
    for expected in [": 'title' is a required property", "start: ", "themes: ", "website: ",
                     "implementation_level: ", "followers: ", "location: 'country' is a required",
                     "('summery' was unexpected)"]:
        assert expected in errors, expected


def test_a_pure_yaml_practice_needs_its_description():
    path = REPO / "content/practices/malopolska-innovation-vouchers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert validate("practice", data) != []  # the sections are not front-matter fields
    data["description"] = " "
    assert validate("practice-yaml", data) == ["description: ' ' does not match '\\\\S'"]


def test_the_schema_follows_the_declared_fields():
    assert set(KIND_SCHEMAS) == set(COERCERS)
    schema = SCHEMAS["practice-yaml"]()
    fields = PRACTICE_FIELDS + YAML_SECTION_FIELDS
    assert list(schema["properties"]) == [spec.name for spec in fields]
    assert schema["required"] == [spec.name for spec in fields if spec.required]
    for spec in fields:
        assert schema["properties"][spec.name]["description"] == spec.help
    site = SCHEMAS["site"]()
    assert {name: prop.get("default") for name, prop in site["properties"].items()} == {
        spec.name: spec.default for spec in SITE_FIELDS}
    theme = SCHEMAS["themes"]()["anyOf"][0]["items"]
    assert theme["required"] == [spec.name for spec in THEME_FIELDS if spec.required]


def test_optional_fields_may_be_left_empty_and_required_ones_may_not():
    data = front_matter(REPO / "content/practices/establishment-of-social-economy-s3-platform.md")
    assert validate("practice", {**data, "end": None, "website": ""}) == []
    assert validate("practice", {**data, "summary": None}) != []
    assert validate("practice", {**data, "themes": []}) != []


@pytest.mark.parametrize("kind", ["practice", "practice-yaml", "site", "themes"])
def test_schema_command_prints_the_schema(run, kind):
    status, out, err = run("schema", "--for", kind)
    assert status == 0, err
    assert json.loads(out) == SCHEMAS[kind]()


def test_schema_command_prints_the_practice_schema_by_default(run):
    status, out, err = run("schema")
    assert json.loads(out)["title"] == "s3site: a practice's front matter"
