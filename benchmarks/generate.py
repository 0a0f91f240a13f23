"""A deterministic corpus of realistic good practices, to benchmark s3site, Hugo and Pelican.

    python benchmarks/generate.py --n 10000 --seed 42 --out benchmarks/work/corpus

writes three trees that hold the same N practices:

    OUT/s3site/   an s3site site root: content/site.yaml, content/themes.yaml,
                  content/practices/*.md (our content format)
    OUT/hugo/     a Hugo site: hugo.toml with the taxonomies theme, region and
                  country; content/practices/*.md; term pages for titles; a
                  minimal layout (baseof, single, list, taxonomy, term)
    OUT/pelican/  a Pelican site: pelicanconf.py (built-in theme) and
                  content/*.md with Category = the first theme and Tags = every
                  theme, region and country of the practice

The same seed always gives the same bytes (one `random.Random(seed)` drives
everything, practices are made in order, and nothing reads the clock, the
network or the environment). Practice i is the same whatever N is, so a small
corpus is a prefix of a large one.

Each practice has about 600 words: a description of two or three paragraphs
with a bullet list and a link, and the sections "Resources needed",
"Evidence of success" and "Potential for learning or transfer". It is located
in one of about 250 real NUTS 2 regions of 30 countries (the EU's 27 with
Iceland, Liechtenstein and Norway), taken from s3site's own registry.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REGISTRY = REPO / "s3site" / "data" / "regions.tsv"

# The EU's 27 member states (NUTS codes: Greece is EL) and the three other EEA countries.
COUNTRIES = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
)

THEMES = (
    ("research-innovation", "Research and innovation",
     "Regional research capacity and turning knowledge into new products and services."),
    ("sme-competitiveness", "SME competitiveness",
     "Helping small and medium-sized enterprises start, grow, internationalise and cooperate."),
    ("digital-transition", "Digital transition",
     "Digital public services, data sharing and the uptake of digital tools."),
    ("low-carbon-economy", "Low-carbon economy",
     "Renewable energy, energy efficiency and energy communities that cut emissions."),
    ("environment-resource-efficiency", "Environment and resource efficiency",
     "Protecting natural and cultural heritage and using land, water and materials efficiently."),
    ("circular-economy", "Circular economy",
     "Keeping products and materials in use for longer and building value chains from waste."),
    ("sustainable-mobility", "Sustainable mobility",
     "Clean, shared and well-connected transport for people and goods."),
    ("skills-employment", "Skills and employment",
     "Training, reskilling and job retention for people whose work is changing."),
    ("social-inclusion", "Social inclusion",
     "Fair access to services, education and opportunities for everyone."),
    ("territorial-development", "Integrated territorial development",
     "Place-based strategies for rural, remote, island and urban communities."),
    ("governance", "Governance",
     "Multi-level and cross-border cooperation, stakeholder involvement, evidence-based policy."),
    ("smart-specialisation", "Smart specialisation",
     "Regional innovation strategies that build on each region's distinctive strengths."),
)

# Vocabulary: plain words of regional policy, so that generated text reads like prose.
NOUNS = (
    "agency", "alliance", "approach", "assessment", "budget", "business", "campaign", "centre",
    "challenge", "cluster", "coalition", "committee", "community", "company", "competence",
    "consortium", "cooperative", "council", "course", "database", "demand", "district",
    "economy", "ecosystem", "enterprise", "evaluation", "exchange", "facility", "farm",
    "foundation", "framework", "fund", "grant", "guideline", "hub", "incubator", "indicator",
    "infrastructure", "initiative", "institute", "laboratory", "law", "market", "measure",
    "method", "model", "municipality", "network", "office", "partnership", "pilot",
    "plan", "platform", "policy", "portal", "procedure", "process", "programme", "project",
    "prototype", "register", "roadmap", "scheme", "school", "sector", "service", "site",
    "skill", "solution", "standard", "strategy", "study", "survey", "system", "team",
    "technology", "tool", "training", "university", "value chain", "village", "voucher",
    "workshop", "workforce",
)
PLURALS = {"agency": "agencies", "community": "communities", "company": "companies",
           "facility": "facilities", "laboratory": "laboratories", "municipality": "municipalities",
           "policy": "policies", "study": "studies", "university": "universities",
           "business": "businesses", "chamber of commerce": "chambers of commerce"}
ADJECTIVES = (
    "active", "affordable", "applied", "bottom-up", "circular", "civic", "clean", "common",
    "competitive", "cross-border", "digital", "durable", "early", "efficient", "environmental",
    "European", "existing", "flexible", "green", "inclusive", "independent", "industrial",
    "innovative", "integrated", "interregional", "joint", "key", "large", "lasting", "local",
    "long-term", "low-carbon", "measurable", "modest", "municipal", "national", "new",
    "open", "practical", "private", "public", "regional", "remote", "renewable", "rural",
    "shared", "simple", "small", "smart", "social", "specialised", "strategic", "strong",
    "sustainable", "technical", "transparent", "urban", "voluntary", "wider", "young",
)
VERBS = (  # third person singular, with the plural form derived below
    "supports", "connects", "finances", "trains", "coordinates", "measures", "improves",
    "strengthens", "combines", "promotes", "monitors", "reduces", "develops", "tests",
    "brings together", "opens", "links", "helps", "builds", "shares", "guides", "rewards",
    "mobilises", "simplifies", "extends", "reaches", "involves", "attracts", "adapts", "publishes",
)
PAST = (
    "launched", "funded", "trained", "connected", "evaluated", "supported", "tested", "adopted",
    "extended", "opened", "created", "reorganised", "renewed", "documented", "copied", "scaled up",
)
ADVERBS = (
    "gradually", "jointly", "quickly", "directly", "mainly", "regularly", "largely", "openly",
    "carefully", "successfully", "steadily", "often", "increasingly", "already",
)
CONNECTORS = (
    "In addition", "At the same time", "As a result", "In practice", "For this reason",
    "Over time", "From the start", "In the first phase", "Later", "In particular", "Above all",
    "Since then", "In the long run", "In most cases", "By contrast", "Meanwhile",
)
ACTORS = (
    "regional authority", "managing authority", "development agency", "chamber of commerce",
    "university", "innovation agency", "municipality", "cluster organisation", "energy agency",
    "employment service", "local action group", "regional council", "science park",
    "business association", "vocational school", "social enterprise", "citizens' initiative",
)
TOPICS = (
    "small firms", "young people", "rural areas", "start-ups", "public buildings", "farmers",
    "schools", "older workers", "research teams", "island communities", "local suppliers",
    "public buyers", "energy communities", "tourism businesses", "cooperatives", "hospitals",
    "commuters", "food producers", "craft businesses", "care services", "industrial sites",
)
PROGRAMMES = ("ERDF", "ESF+", "Interreg Europe", "Horizon Europe", "the Just Transition Fund",
              "LIFE", "the national recovery plan", "regional budget", "EAFRD", "Digital Europe")
TITLE_HEADS = (
    "programme", "platform", "network", "scheme", "voucher scheme", "partnership", "hub",
    "strategy", "pilot", "initiative", "fund", "laboratory", "roadmap", "academy", "observatory",
)
INSTITUTION_FORMS = (
    "Regional Council of {r}", "{r} Development Agency", "Innovation Agency of {r}",
    "{r} Chamber of Commerce", "University of {r}", "{r} Energy Agency", "Government of {r}",
    "{r} Employment Service", "{r} Cluster Association", "Managing Authority of {r}",
)
FIRST_NAMES = (
    "Anna", "Marek", "Sofia", "Jonas", "Elena", "Pieter", "Maria", "Luca", "Ingrid", "Tomás",
    "Katarzyna", "Mikko", "Laura", "Andreas", "Ioana", "Nikos", "Eva", "Jan", "Chiara", "Lars",
    "Ana", "Dmitar", "Helena", "Rui", "Zsófia", "Matej", "Aoife", "Kristīne", "Paulo", "Sara",
)
SURNAMES = (
    "Novak", "Rossi", "Müller", "García", "Virtanen", "Kowalski", "Papadopoulos", "Dubois",
    "Jansen", "Silva", "Horváth", "Popescu", "Andersen", "Murphy", "Kask", "Bianchi", "Schmidt",
    "Fernández", "Nielsen", "Kovač", "Lindqvist", "Petrov", "Ozols", "Borg", "Lambert", "Costa",
)
KEYWORDS = (
    "clusters", "vouchers", "open data", "energy communities", "reskilling", "procurement",
    "living labs", "broadband", "cooperatives", "biorefinery", "mobility as a service",
    "entrepreneurship", "technology transfer", "circular design", "social innovation",
    "e-government", "interoperability", "rural development", "green skills", "tourism",
)
SECTION_TITLES = ("Resources needed", "Evidence of success", "Potential for learning or transfer")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    level: int
    parent: str
    name: str  # in Latin script: the registry's latin_name where it has one

    @property
    def country(self) -> str:
        return self.code[:2]


@dataclass(slots=True)
class Practice:
    """One generated practice, written in three formats."""

    slug: str
    title: str
    summary: str
    themes: list[str]
    country: str
    region: str
    main_institution: str
    start: str
    end: str | None
    published: str
    implementation_level: str
    author: tuple[str, str]
    keywords: list[str]
    website: str
    leading_region: str | None = None
    participating_regions: list[str] = field(default_factory=list)
    followers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""  # Markdown: the description, then the three sections


@dataclass(frozen=True, slots=True)
class Registry:
    countries: dict[str, str]  # code -> English name
    regions: dict[str, Region]  # every region of the 30 countries, by code
    nuts2: tuple[Region, ...]  # the NUTS 2 regions practices are located in, sorted by code


def load_registry(path: Path = REGISTRY) -> Registry:
    """The 30 countries and their regions, from s3site's registry (code, level, parent, name...)."""
    countries: dict[str, str] = {}
    regions: dict[str, Region] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0].startswith("#") or len(row) < 4:
                continue
            code, level, parent, name = row[0], row[1], row[2], row[3]
            latin = row[4] if len(row) > 4 and row[4] else name
            if code[:2] not in COUNTRIES or not level.isdigit():
                continue
            region = Region(code, int(level), parent, latin)
            regions[code] = region
            if region.level == 0:
                countries[code] = name
    located = (r for r in regions.values() if r.level == 2 and not r.code.endswith("ZZ"))
    nuts2 = tuple(sorted(located, key=lambda r: r.code))
    missing = [c for c in COUNTRIES if c not in countries]
    if missing:
        raise SystemExit(f"generate.py: the registry {path} lacks the countries {missing}")
    return Registry(countries, regions, nuts2)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def plural(noun: str) -> str:
    if noun in PLURALS:
        return PLURALS[noun]
    head, _, last = noun.rpartition(" ")
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith(("s", "sh", "ch", "x")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def a(word: str) -> str:
    """The word with its indefinite article."""
    return ("an " if word[0] in "aeiou" else "a ") + word


def verb_plural(verb: str) -> str:
    head, _, rest = verb.partition(" ")
    if head.endswith("ies"):
        head = head[:-3] + "y"
    elif head.endswith(("ches", "shes", "sses", "xes")):
        head = head[:-2]
    elif head.endswith("s"):
        head = head[:-1]
    return f"{head} {rest}".strip()


class Writer:
    """Sentences and paragraphs from the vocabulary, driven by one Random."""

    def __init__(self, rng: random.Random, registry: Registry) -> None:
        self.rng = rng
        self.registry = registry

    def pick(self, words):
        return words[int(self.rng.random() * len(words))]  # faster than choice(), same determinism

    def noun_phrase(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            return f"the {self.pick(ADJECTIVES)} {self.pick(NOUNS)}"
        if r < 0.7:
            return f"{self.pick(ADJECTIVES)} {plural(self.pick(NOUNS))}"
        if r < 0.85:
            return f"the {self.pick(ACTORS)}"
        return self.pick(TOPICS)

    def sentence(self, place: str) -> str:
        pick = self.pick
        form = int(self.rng.random() * 9)
        if form == 0:
            s = (f"The {pick(ADJECTIVES)} {pick(NOUNS)} {pick(VERBS)} {self.noun_phrase()} "
                 f"and {pick(ADVERBS)} {pick(VERBS)} {pick(TOPICS)} in {place}")
        elif form == 1:
            s = (f"{pick(CONNECTORS)}, {pick(ADJECTIVES)} {plural(pick(NOUNS))} "
                 f"{verb_plural(pick(VERBS))} {self.noun_phrase()} "
                 f"with the help of the {pick(ACTORS)}")
        elif form == 2:
            s = (f"Since {2005 + int(self.rng.random() * 19)}, the {pick(ACTORS)} has {pick(PAST)} "
                 f"{2 + int(self.rng.random() * 240)} {plural(pick(NOUNS))} for {pick(TOPICS)}")
        elif form == 3:
            s = (f"Each {pick(NOUNS)} {pick(VERBS)} {pick(TOPICS)} through {a(pick(ADJECTIVES))} "
                 f"{pick(NOUNS)} that the {pick(ACTORS)} {pick(ADVERBS)} {pick(VERBS)}")
        elif form == 4:
            s = (f"{pick(CONNECTORS)}, the {pick(NOUNS)} was {pick(PAST)} by the {pick(ACTORS)} "
                 f"and {pick(PAST)} with {pick(ADJECTIVES)} {plural(pick(NOUNS))} from {place}")
        elif form == 5:
            s = (f"{pick(TOPICS).capitalize()} and {pick(TOPICS)} {verb_plural(pick(VERBS))} "
                 f"{self.noun_phrase()}, which {pick(VERBS)} {self.noun_phrase()}")
        elif form == 6:
            s = (f"About {5 + int(self.rng.random() * 90)} per cent of the {plural(pick(NOUNS))} "
                 f"{verb_plural(pick(VERBS))} {self.noun_phrase()} "
                 f"within {2 + int(self.rng.random() * 4)} years")
        elif form == 7:
            s = (f"The {pick(ACTORS)} {pick(ADVERBS)} {pick(VERBS)} {pick(ADJECTIVES)} "
                 f"{plural(pick(NOUNS))}, so that {pick(TOPICS)} can use the {pick(NOUNS)} "
                 f"without {a(pick(ADJECTIVES))} {pick(NOUNS)}")
        else:
            s = (f"{a(pick(ADJECTIVES))} {pick(NOUNS)} of {plural(pick(ACTORS))}, "
                 f"{pick(TOPICS)} and "
                 f"{plural(pick(NOUNS))} {pick(VERBS)} the {pick(NOUNS)} every "
                 f"{pick(('year', 'month', 'quarter', 'season'))}")
        if self.rng.random() < 0.06:  # an occasional emphasis, as editors write
            words = s.split(" ")
            i = 1 + int(self.rng.random() * (len(words) - 1))
            words[i] = f"**{words[i]}**"
            s = " ".join(words)
        return s[0].upper() + s[1:] + "."

    def paragraph(self, place: str, low: int, high: int) -> str:
        count = low + int(self.rng.random() * (high - low + 1))
        return " ".join(self.sentence(place) for _ in range(count))

    def bullet(self) -> str:
        pick = self.pick
        verb = verb_plural(pick(VERBS))
        return (f"{verb[0].upper()}{verb[1:]} {pick(ADJECTIVES)} {plural(pick(NOUNS))} "
                f"for {pick(TOPICS)};")


def make_practice(index: int, w: Writer, registry: Registry, used: set[str]) -> Practice:
    rng, pick = w.rng, w.pick
    region = pick(registry.nuts2)
    place = region.name
    head = pick(TITLE_HEADS)
    form = int(rng.random() * 4)
    if form == 0:
        title = f"{pick(ADJECTIVES).capitalize()} {head} for {pick(TOPICS)} in {place}"
    elif form == 1:
        title = f"{place} {head}: {pick(ADJECTIVES)} {plural(pick(NOUNS))} for {pick(TOPICS)}"
    elif form == 2:
        title = f"{pick(KEYWORDS).capitalize()} {head} of the {pick(ACTORS)}"
    else:
        title = f"{pick(ADJECTIVES).capitalize()} {pick(NOUNS)} {head} ({place})"
    slug = slugify(title)[:60].strip("-") or f"practice-{index + 1}"
    if slug in used:
        slug = f"{slug}-{index + 1}"
    used.add(slug)

    count = 1 + int(rng.random() * 3)  # 1 to 3 themes
    themes: list[str] = []
    while len(themes) < count:
        theme = pick(THEMES)[0]
        if theme not in themes:
            themes.append(theme)

    start_year = 2008 + int(rng.random() * 16)
    start = f"{start_year}-{1 + int(rng.random() * 12):02d}"
    end = None
    if rng.random() < 0.45:  # completed
        end_year = min(start_year + 1 + int(rng.random() * 6), 2024)
        end = f"{end_year}-{1 + int(rng.random() * 12):02d}"
    published = (f"{2019 + int(rng.random() * 6)}-{1 + int(rng.random() * 12):02d}-"
                 f"{1 + int(rng.random() * 28):02d}")

    practice = Practice(
        slug=slug,
        title=title,
        summary=w.sentence(place),
        themes=themes,
        country=region.country,
        region=region.code,
        main_institution=pick(INSTITUTION_FORMS).format(r=place),
        start=start,
        end=end,
        published=published,
        implementation_level=pick(("regional", "regional", "local", "national")),
        author=(f"{pick(FIRST_NAMES)} {pick(SURNAMES)}", pick(INSTITUTION_FORMS).format(r=place)),
        keywords=sorted({pick(KEYWORDS) for _ in range(1 + int(rng.random() * 4))}),
        website=f"https://www.{slugify(pick(NOUNS))}-{slugify(place)[:20].strip('-')}.eu/{slug[:30].strip('-')}",
    )
    if rng.random() < 0.3:
        practice.leading_region = pick(registry.nuts2).code
    if rng.random() < 0.4:
        others = {pick(registry.nuts2).code for _ in range(1 + int(rng.random() * 4))}
        practice.participating_regions = sorted(others - {region.code, practice.leading_region})
    if rng.random() < 0.4:
        for _ in range(1 + int(rng.random() * 3)):
            other = pick(registry.nuts2)
            practice.followers.append((f"{pick(FIRST_NAMES)} {pick(SURNAMES)}",
                                       pick(INSTITUTION_FORMS).format(r=other.name)))

    description = [w.paragraph(place, 6, 8)]
    description.append(w.paragraph(place, 2, 3) + " The main lines of work are:")
    bullets = "\n".join(f"- {w.bullet()}" for _ in range(3 + int(rng.random() * 3)))
    description.append(bullets[:-1] + ".")  # the last item ends the list with a full stop
    label = pick(("the project website", "the final report", "the partnership page"))
    link = f"[{label}]({practice.website})"
    description.append(f"{w.paragraph(place, 2, 4)} More is on {link}.")
    sections = [
        w.paragraph(place, 4, 6) + f" It was financed by {pick(PROGRAMMES)} with about "
        f"{50 + int(rng.random() * 950)} 000 euro over {2 + int(rng.random() * 5)} years.",
        w.paragraph(place, 5, 7) + "\n\n" + w.paragraph(place, 2, 4),
        w.paragraph(place, 5, 7) + "\n\n" + w.paragraph(place, 2, 4),
    ]
    parts = description + [
        f"## {t}\n\n{text}" for t, text in zip(SECTION_TITLES, sections, strict=True)
    ]
    practice.body = "\n\n".join(parts) + "\n"
    return practice


def generate_practices(n: int, seed: int, registry: Registry | None = None) -> list[Practice]:
    registry = registry or load_registry()
    writer = Writer(random.Random(seed), registry)
    used: set[str] = set()
    return [make_practice(i, writer, registry, used) for i in range(n)]


# --- YAML helpers: every value we write is quoted or plain-safe ---------------------------

def q(text: str) -> str:
    """A double-quoted YAML (and TOML) string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def yaml_code(code: str) -> str:
    """A country code as YAML: Norway's NO must be quoted, or YAML 1.1 reads it as false."""
    return q(code) if code.lower() in ("no", "yes", "on", "off", "y", "n") else code


def flow(items: list[str]) -> str:
    return "[" + ", ".join(q(i) for i in items) + "]"


# --- s3site --------------------------------------------------------------------------------

def s3site_practice(p: Practice) -> str:
    lines = [
        "---",
        f"title: {q(p.title)}",
        f"summary: {q(p.summary)}",
        f"themes: [{', '.join(p.themes)}]",
        "location:",
        f"  country: {yaml_code(p.country)}",
        f"  region: {p.region}",
        f"implementation_level: {p.implementation_level}",
        f"main_institution: {q(p.main_institution)}",
    ]
    if p.leading_region:
        lines.append(f"leading_region: {p.leading_region}")
    if p.participating_regions:
        lines.append(f"participating_regions: [{', '.join(p.participating_regions)}]")
    lines.append(f"start: {p.start}")
    if p.end:
        lines.append(f"end: {p.end}")
    lines += ["author:", f"  name: {q(p.author[0])}", f"  organisation: {q(p.author[1])}"]
    if p.followers:
        lines.append("followers:")
        for name, organisation in p.followers:
            lines += [f"  - name: {q(name)}", f"    organisation: {q(organisation)}"]
    lines += [
        f"keywords: {flow(p.keywords)}",
        f"website: {p.website}",
        f"published: {p.published}",
        "---",
        "",
        "",
    ]
    return "\n".join(lines) + p.body


def s3site_site_yaml(n: int) -> str:
    return (
        "title: Good practices benchmark\n"
        f"description: {n} generated good practices for the s3site benchmark.\n"
        "base_url: http://127.0.0.1:8000/\n"
        "language: en\n"
        "per_page: 20\n"
        "feed_items: 20\n"
        "# The build is compared with Hugo and Pelican, which make no search index:\n"
        "# benchmarks/run.py switches search on only for the search-indexing row.\n"
        "search: false\n"
    )


def themes_yaml() -> str:
    out = ["# The 12 themes of the benchmark corpus (benchmarks/generate.py).", ""]
    for theme_id, title, description in THEMES:
        out += [f"- id: {theme_id}", f"  title: {q(title)}", f"  description: {q(description)}", ""]
    return "\n".join(out)


# --- Hugo ----------------------------------------------------------------------------------

def region_terms(p: Practice, registry: Registry) -> list[str]:
    """The regions whose index pages list this practice in s3site: where it is (NUTS 2 and its
    NUTS 1 parent), the leading region and the participating regions."""
    terms = [p.region, registry.regions[p.region].parent]
    for code in [p.leading_region, *p.participating_regions]:
        if code and code not in terms:
            terms.append(code)
    return terms


def hugo_practice(p: Practice, registry: Registry) -> str:
    lines = [
        "---",
        f"title: {q(p.title)}",
        f"slug: {p.slug}",
        f"date: {p.published}",
        f"summary: {q(p.summary)}",
        f"themes: [{', '.join(p.themes)}]",
        f"regions: [{', '.join(region_terms(p, registry))}]",
        f"countries: [{q(registry.countries[p.country])}]",
        "params:",
        f"  main_institution: {q(p.main_institution)}",
        f"  start: {q(p.start)}",
        f"  end: {q(p.end or '')}",
        f"  status: {'completed' if p.end else 'ongoing'}",
        f"  website: {q(p.website)}",
        "---",
        "",
        "",
    ]
    return "\n".join(lines) + p.body


HUGO_CONFIG = """\
# A minimal Hugo site equivalent to the s3site benchmark site (benchmarks/generate.py).
baseURL = "http://127.0.0.1:8000/"
title = "Good practices benchmark"
disableKinds = ["robotsTXT"]

[pagination]
  pagerSize = 20

[services.rss]
  limit = 20

[taxonomies]
  theme = "themes"
  region = "regions"
  country = "countries"

[permalinks.page]
  practices = "/practices/:slug/"
"""

HUGO_LAYOUTS = {
    "baseof.html": """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title>
<link rel="canonical" href="{{ .Permalink }}">
{{ with .OutputFormats.Get "rss" -}}
<link rel="alternate" type="application/rss+xml" href="{{ .Permalink }}">
{{- end }}
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
<nav><a href="{{ "practices/" | relURL }}">Practices</a>
<a href="{{ "themes/" | relURL }}">Themes</a>
<a href="{{ "regions/" | relURL }}">Regions</a>
<a href="{{ "countries/" | relURL }}">Countries</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main>
<footer>{{ site.Title }}</footer>
</body>
</html>
""",
    "single.html": """\
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p class="lead">{{ .Summary }}</p>
<p>{{ .Params.status }} · since {{ .Params.start }}
{{- with .Params.end }} until {{ . }}{{ end }} · {{ .Params.main_institution }}</p>
{{ .Content }}
<dl>
{{ range $taxonomy, $_ := site.Taxonomies }}{{ with $.GetTerms $taxonomy }}
<dt>{{ $taxonomy | title }}</dt>
<dd>{{ range $i, $t := . }}{{ if $i }}, {{ end -}}
<a href="{{ $t.RelPermalink }}">{{ $t.LinkTitle }}</a>{{ end }}</dd>
{{ end }}{{ end }}
</dl>
</article>
{{ end }}
""",
    "list.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ if .IsHome }}
<h2>New practices</h2>
{{ partial "items.html" (first 20 (where site.RegularPages "Section" "practices")) }}
{{ else }}
{{ $pager := .Paginate .Pages }}
{{ partial "items.html" $pager.Pages }}
{{ partial "pager.html" $pager }}
{{ end }}
{{ end }}
""",
    "taxonomy.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>
{{ range .Data.Terms.Alphabetical }}
<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }}</a> ({{ .Count }})</li>
{{ end }}
</ul>
{{ end }}
""",
    "term.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ .Content }}
{{ $pager := .Paginate .Pages }}
{{ partial "items.html" $pager.Pages }}
{{ partial "pager.html" $pager }}
{{ end }}
""",
    "_partials/items.html": """\
<ol>
{{ range . }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <time>{{ .Date.Format "2006-01-02" }}</time>
<p>{{ .Summary }}</p></li>
{{ end }}
</ol>
""",
    "_partials/pager.html": """\
{{ if gt .TotalPages 1 }}<nav class="pager">
{{ with .Prev }}<a rel="prev" href="{{ .URL }}">Previous</a>{{ end }}
Page {{ .PageNumber }} of {{ .TotalPages }}
{{ with .Next }}<a rel="next" href="{{ .URL }}">Next</a>{{ end }}
</nav>{{ end }}
""",
}


def hugo_term_index(title: str, description: str = "") -> str:
    front = f"---\ntitle: {q(title)}\n---\n"
    return f"{front}\n{description}\n" if description else front


# --- Pelican -------------------------------------------------------------------------------

PELICAN_CONF = """\
# A minimal Pelican site equivalent to the s3site benchmark site (benchmarks/generate.py).
# Pelican has one category per article and free tags, and no custom taxonomies
# without plugins, so: Category = the practice's first theme; Tags = all its
# themes ("Theme: ..."), its regions ("Region: CODE name") and its country
# ("Country: ..."). Its theme is the built-in default, notmyidea.
AUTHOR = "s3site benchmark"
SITENAME = "Good practices benchmark"
SITEURL = "http://127.0.0.1:8000"
FEED_DOMAIN = SITEURL
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 20
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)
ARTICLE_URL = "practices/{slug}/"
ARTICLE_SAVE_AS = "practices/{slug}/index.html"
CATEGORY_URL = "themes/{slug}/"
CATEGORY_SAVE_AS = "themes/{slug}/index.html"
CATEGORIES_SAVE_AS = "themes/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"
TAGS_SAVE_AS = "tags/index.html"
# No author pages and no archive: s3site has neither.
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
# Feeds like s3site's: the whole site, each theme, each region and country, 20 entries each.
FEED_ALL_ATOM = "feed.xml"
CATEGORY_FEED_ATOM = "themes/{slug}/feed.xml"
TAG_FEED_ATOM = "tags/{slug}/feed.xml"
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
FEED_MAX_ITEMS = 20
"""


def pelican_article(p: Practice, registry: Registry, titles: dict[str, str]) -> str:
    tags = [f"Theme: {titles[t]}" for t in p.themes]
    tags += [f"Region: {code} {registry.regions[code].name}" for code in region_terms(p, registry)]
    tags.append(f"Country: {registry.countries[p.country]}")
    status = "completed" if p.end else "ongoing"
    lines = [
        f"Title: {p.title}",
        f"Date: {p.published}",
        f"Slug: {p.slug}",
        f"Category: {titles[p.themes[0]]}",
        f"Tags: {', '.join(t.replace(',', '') for t in tags)}",
        f"Summary: {p.summary}",
        f"Main_institution: {p.main_institution}",
        f"Start: {p.start}",
        f"End: {p.end or ''}",
        f"Practice_status: {status}",
        f"Website: {p.website}",
        "",
        "",
    ]
    return "\n".join(lines) + p.body


# --- writing the three trees ---------------------------------------------------------------

def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_corpus(out: Path, n: int, seed: int = 42) -> dict[str, int]:
    """Write OUT/s3site, OUT/hugo and OUT/pelican, replacing what was there; return file counts."""
    registry = load_registry()
    practices = generate_practices(n, seed, registry)
    for tree in ("s3site", "hugo", "pelican"):
        if (out / tree).exists():
            shutil.rmtree(out / tree)
    titles = {theme_id: title for theme_id, title, _ in THEMES}

    s3 = out / "s3site"
    _write(s3 / "content" / "site.yaml", s3site_site_yaml(n))
    _write(s3 / "content" / "themes.yaml", themes_yaml())
    hugo = out / "hugo"
    _write(hugo / "hugo.toml", HUGO_CONFIG)
    for name, text in HUGO_LAYOUTS.items():
        _write(hugo / "layouts" / name, text)
    _write(hugo / "content" / "practices" / "_index.md", '---\ntitle: "All practices"\n---\n')
    _write(hugo / "content" / "_index.md", '---\ntitle: "Good practices benchmark"\n---\n')
    for theme_id, title, description in THEMES:
        _write(hugo / "content" / "themes" / theme_id / "_index.md",
               hugo_term_index(title, description))
    pelican = out / "pelican"
    _write(pelican / "pelicanconf.py", PELICAN_CONF)

    used_regions: set[str] = set()
    used_countries: set[str] = set()
    for p in practices:
        _write(s3 / "content" / "practices" / f"{p.slug}.md", s3site_practice(p))
        _write(hugo / "content" / "practices" / f"{p.slug}.md", hugo_practice(p, registry))
        _write(pelican / "content" / f"{p.slug}.md", pelican_article(p, registry, titles))
        used_regions.update(region_terms(p, registry))
        used_countries.add(p.country)
    # Term pages that give Hugo's regions and countries their names, as s3site's registry does.
    for code in sorted(used_regions):
        _write(hugo / "content" / "regions" / code.lower() / "_index.md",
               hugo_term_index(f"{registry.regions[code].name} ({code})"))
    return {"practices": len(practices), "regions": len(used_regions),
            "countries": len(used_countries)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="how many practices (default 1000)")
    parser.add_argument("--seed", type=int, default=42, help="the random seed (default 42)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "work" / "corpus",
                        help="where to write the three trees (default benchmarks/work/corpus)")
    args = parser.parse_args(argv)
    counts = write_corpus(args.out, args.n, args.seed)
    print(f"Wrote {counts['practices']} practices ({counts['regions']} regions, "
          f"{counts['countries']} countries) for s3site, Hugo and Pelican in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
