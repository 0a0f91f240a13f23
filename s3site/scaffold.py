"""Starting points for editors: a new site (`s3site init`) and a new practice (`s3site new`).

Both only ever create files: an existing file is never overwritten. A new
practice is a template generated from the declared fields, so that every
field of the contract is there to fill in. It fails `s3site check` until its
required fields and its description are written, and each message then says
what is missing.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .content import parse_themes, slugify
from .errors import SiteError, did_you_mean, error
from .fields import LOCATION_FIELDS, PRACTICE_FIELDS, Field
from .regions import Region, RegionLookupError, RegionRegistry
from .sources import PRACTICE_SUFFIXES, parse_file, site_regions

DATA = Path(__file__).parent / "data"

# The well-known sections of a practice body, in order, with the hint that a
# new practice shows under each heading.
SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("resources_needed", "Resources needed",
     "The money, people, time and tools it took, and who paid for them."),
    ("evidence_of_success", "Evidence of success",
     "What shows that it works: figures, evaluations, awards, lasting change."),
    ("potential_for_transfer", "Potential for learning or transfer",
     "What another region could reuse, and what it would need to do so."),
)
DESCRIPTION_HINT = (
    "The description (required): what the practice is, the problem it answers\n"
    "and how it works. Write it here, in place of this comment."
)

# Where the hint comments of a practice template start.
HINT_COLUMN = 36


# -- shared by `new` and `import` ---------------------------------------------


def yaml_scalar(text: str) -> str:
    """A string as a YAML value: plain where that reads back the same, else double-quoted."""
    text = str(text)
    plain = text.strip() == text and "\n" not in text and text != ""
    if plain:
        try:
            plain = yaml.safe_load(f"key: {text}") == {"key": text}
        except yaml.YAMLError:
            plain = False
    if plain:
        return text
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)


def commented(key_part: str, hint: str) -> str:
    """A line with its hint as a comment, aligned so that a file of them reads as a table."""
    return f"{key_part:<{HINT_COLUMN - 1}} # {hint}" if hint else key_part


def site_content(root: Path) -> Path:
    """ROOT/content, or a SiteError saying that ROOT is not a site."""
    content = root / "content"
    if not content.is_dir():
        raise SiteError([error(
            str(root), "no content/ folder here: run `s3site init` to start a site, "
            "or give the site's folder with --root")])
    return content


def theme_ids(root: Path) -> tuple[str, ...]:
    """The theme ids declared in ROOT/content/themes.yaml."""
    parsed = parse_file(root, "content/themes.yaml", parse_themes, required=True)
    if parsed.model is None:
        raise SiteError(list(parsed.diagnostics))
    return tuple(theme.id for theme in parsed.model)


def check_themes(root: Path, given: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The themes given on the command line, each checked against themes.yaml."""
    if not given:
        return ()
    known = theme_ids(root)
    problems = [
        error("--theme", f"unknown theme '{theme}'{did_you_mean(theme, known)}; "
              "the themes are listed in content/themes.yaml")
        for theme in given if theme not in known
    ]
    if problems:
        raise SiteError(problems)
    return tuple(dict.fromkeys(given))


def site_registry(root: Path) -> RegionRegistry:
    """The region registry with the site's own regions.yaml, if it has one."""
    registry, problems = site_regions(root)
    if any(p.severity == "error" for p in problems):
        raise SiteError(problems)
    return registry


def free_practice_path(folder: Path, slug: str) -> Path:
    """folder/<slug>.md, unless a practice of that name exists in any format."""
    for suffix in PRACTICE_SUFFIXES:
        existing = folder / f"{slug}{suffix}"
        if existing.exists():
            raise SiteError([error(existing.as_posix(), "already exists; nothing was overwritten")])
    return folder / f"{slug}.md"


# -- s3site new -------------------------------------------------------------------


def new_practice(
    root: Path,
    title: str,
    *,
    themes: list[str] | tuple[str, ...] = (),
    region: str | None = None,
    country: str | None = None,
) -> Path:
    """Write a practice template for a title; return its path."""
    content = site_content(root)
    title = " ".join(title.split())
    slug = slugify(title)
    if not slug:
        raise SiteError([error("TITLE", f"cannot make a file name from '{title}'; "
                               "use letters or digits in the title")])
    # Every problem with the options is reported at once.
    problems = []
    try:
        themes = check_themes(root, themes)
    except SiteError as exc:
        problems += exc.diagnostics
    place, where = None, None
    try:
        if region or country:
            place, where = _location(site_registry(root), region, country)
    except SiteError as exc:
        problems += exc.diagnostics
    try:
        path = free_practice_path(content / "practices", slug)
    except SiteError as exc:
        problems += exc.diagnostics
    if problems:
        raise SiteError(problems)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = practice_template(title, themes=themes, country=place, region=where,
                             theme_choices=() if themes else theme_ids_or_none(root))
    with path.open("x", encoding="utf-8") as stream:
        stream.write(text)
    return path


def theme_ids_or_none(root: Path) -> tuple[str, ...]:
    """The site's theme ids for a hint, or nothing when themes.yaml cannot be read."""
    try:
        return theme_ids(root)
    except SiteError:
        return ()


def _location(
    registry: RegionRegistry, region: str | None, country: str | None
) -> tuple[Region | None, Region | None]:
    """The country and region given on the command line, checked against the registry."""
    place = None
    if country:
        place = registry.country(country)
        if place is None:
            raise SiteError([error("--country", f"unknown country '{country}': "
                                   "use a two-letter code such as FI or ES, or the English name")])
    if not region:
        return place, None
    try:
        found = registry.resolve(region, place.code if place else None)
    except RegionLookupError as exc:
        raise SiteError([error("--region", str(exc))]) from None
    return place or registry.get(found.country), found


def practice_template(
    title: str,
    *,
    themes: tuple[str, ...] = (),
    country: Region | None = None,
    region: Region | None = None,
    theme_choices: tuple[str, ...] = (),
) -> str:
    """A new practice: every declared field, the optional ones commented out, and the sections."""
    lines = [
        "---",
        "# Fill in the fields marked 'required'. The others are optional: to use",
        "# one, remove the '# ' in front of it. `s3site check` lists what is missing.",
    ]
    for spec in PRACTICE_FIELDS:
        if spec.name == "title":
            lines.append(commented(f"title: {yaml_scalar(title)}", _hint(spec)))
        elif spec.name == "themes" and themes:
            lines.append(commented(f"themes: [{', '.join(themes)}]", _hint(spec)))
        elif spec.name == "themes":
            lines.append(commented("themes:", _hint(spec)))
            lines += textwrap.wrap(", ".join(theme_choices), 76, initial_indent="#   ids: ",
                                   subsequent_indent="#   ", break_on_hyphens=False)
        elif spec.name == "location":
            lines.append(commented("location:", _hint(spec)))
            lines += _location_lines(country, region)
        elif spec.name == "city":
            continue  # written as location.city above, where the contract puts it
        elif spec.required:
            lines.append(commented(f"{spec.name}:", _hint(spec)))
        else:
            lines += _optional_lines(spec)
    lines += ["---", "", f"<!-- {DESCRIPTION_HINT} -->", ""]
    for _, heading, hint in SECTIONS:
        lines += [f"## {heading}", "", f"<!-- {hint} -->", ""]
    return "\n".join(lines)


def _hint(spec: Field) -> str:
    return f"required: {spec.help}" if spec.required else spec.help


def _location_lines(country: Region | None, region: Region | None) -> list[str]:
    lines = []
    for spec in LOCATION_FIELDS:
        if spec.name == "country" and country is not None:
            lines.append(commented(f"  country: {country.code}", country.display_name))
        elif spec.name == "region" and region is not None:
            lines.append(commented(f"  region: {region.code}", region.display_name))
        elif spec.required:
            lines.append(commented(f"  {spec.name}:", _hint(spec)))
        else:
            lines.append(commented(f"  # {spec.name}:", spec.help))
    return lines


# How an optional field looks, commented out: the value after the key, then
# the lines below it. Placeholders that are not valid values ("YYYY-MM-DD")
# make `s3site check` complain if a field is uncommented but not filled in.
_SHAPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "strings": ("[]", ()),
    "aliases": ("[]", ()),
    "boolean": ("true", ()),
    "url": ("https://", ()),
    "day": ("YYYY-MM-DD", ()),
    "person": ("", ("  name:", "  organisation:")),
    "persons": ("", ("  - name:", "    organisation:")),
    "link": ("", ("  title:", "  url: https://")),
    "links": ("", ("  - title:", "    url: https://")),
    "image": ("", ("  src: /images/photo.jpg", "  alt:")),
    "markdown": ("|", ("  ...",)),
}


def _optional_lines(spec: Field) -> list[str]:
    value, below = _SHAPES.get(spec.kind, ("", ()))
    first = f"# {spec.name}: {value}".rstrip()
    return [commented(first, spec.help)] + [f"# {line}" for line in below]


# -- s3site init ------------------------------------------------------------------


@dataclass(slots=True)
class InitResult:
    """What `s3site init` did: the files it wrote and those it left as they were."""

    folder: Path
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report for the terminal."""
        report = [f"Created a new site in {self.folder}:" if self.written
                  else f"Nothing to write in {self.folder}:"]
        report += [f"  wrote {name}" for name in self.written]
        report += [f"  skipped {name}: it already exists" for name in self.skipped]
        report.append(f"Next: cd {self.folder} && s3site serve, then open http://127.0.0.1:8000/")
        return report


def init_site(folder: Path, *, force: bool = False) -> InitResult:
    """Write a new site that builds at once; never overwrite a file."""
    if folder.exists() and not folder.is_dir():
        raise SiteError([error(str(folder), "is a file, not a folder")])
    # A folder holding only a fresh `git init` counts as empty.
    if not force and folder.is_dir() and any(p.name != ".git" for p in folder.iterdir()):
        raise SiteError([error(str(folder), "the folder is not empty; choose an empty one, "
                               "or add --force to add the missing files (none is overwritten)")])
    result = InitResult(folder)
    for name, text in site_files().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("x", encoding="utf-8") as stream:
                stream.write(text)
        except FileExistsError:
            result.skipped.append(name)
        else:
            result.written.append(name)
    return result


def site_files() -> dict[str, str]:
    """The files of a new site, by path relative to its folder."""
    return {
        "content/site.yaml": SITE_YAML,
        "content/themes.yaml": (DATA / "default-themes.yaml").read_text(encoding="utf-8"),
        "content/practices/social-economy-s3-platform.md": EXAMPLE_PRACTICE,
        "content/pages/about.md": ABOUT_PAGE,
        ".gitignore": "/output/\n/.output.s3site-spare/\n/.s3site-cache/\n",
        "README.md": README,
    }


SITE_YAML = """\
# The site's settings: `s3site schema --for site` lists every one of them.
title: Regional good practices
description: >-
  Policies, programmes and projects that European regions have put into
  practice and are willing to share.
# The address the site will be published at; see README.md, "Publishing".
base_url: http://127.0.0.1:8000/
language: en
"""

EXAMPLE_PRACTICE = """\
---
# An example practice, to show the format: edit it, or delete it once the
# site has practices of its own. `s3site new "Title"` starts a new one.
title: Social economy smart specialisation platform
summary: >-
  Five regions, led by Navarra, formed a thematic smart specialisation
  partnership to help cooperatives and other social-economy enterprises
  work together across borders.
themes: [social-economy, smart-specialisation]
location:
  country: FI
  region: FI1D
main_institution: Regional Council of Lapland
leading_region: ES22                 # Navarra
participating_regions: [FI1D7, ITH5, ES62, SE124]
start: 2018-06
keywords: [cooperatives, clusters, value chains]
---

Smart specialisation asks each region to build on what it does best. In
this partnership, regions with a strong social economy work together so
that their cooperatives and mutual societies can:

- form clusters with partners in other regions;
- build value chains across borders;
- cooperate with companies and research bodies that bring technology and
  new ideas.

## Resources needed

Each partner region may apply for ERDF support of up to 300 000 euro for its
part of the work.

## Evidence of success

The platform gives the regions a common place to exchange experience and to
pool resources, and opens EU funding to their social-economy work.

## Potential for learning or transfer

Other regions with similar ambitions can join the partnership or copy its
way of linking smart specialisation with the social economy.
"""

ABOUT_PAGE = """\
---
title: About
menu: 1
description: What this collection is and how to propose a practice.
---

This site collects good practices from European regions: what was done, what
it took, what it achieved and what others can learn from it.

To propose a practice, write to the editors of this site.
"""

README = """\
# Regional good practices

A collection of regional good practices, built into a static website with
s3site.

## Editing

- `content/site.yaml`: the site's title, address and settings.
- `content/themes.yaml`: the themes practices are tagged with.
- `content/practices/`: one file per practice. Start a new one with
  `s3site new "Title of the practice" --theme social-economy --region Lapland`,
  then fill in the fields marked "required" and the sections.
- `content/pages/`: free pages such as `about.md`.
- `content/static/`: files copied as they are (logo, images, PDFs).

Run `s3site check` to find every problem in every file at once.

## Previewing

Run `s3site serve` and open http://127.0.0.1:8000/: the preview rebuilds
whenever a file changes.

## Publishing

Run `s3site build --base-url https://example.org/practices/` with the address
the site will have, and upload the `output/` folder to any web server (GitHub
Pages, Netlify, an S3 bucket...). The address must be the one readers will
use, including any sub-path, and end with `/`; or set `base_url` in
`content/site.yaml` once and run `s3site build`.
"""
