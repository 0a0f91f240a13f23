"""Incremental builds with the site's own templates give exactly what a clean build gives.

Output keys depend on what each template reads (fingerprint.py); a template
author may read anything the context holds, in any way Jinja allows. This
property test puts a piece of template, one of many each reading practices in
its own way, into every page template (and maybe another into the card),
changes the practices one field at a time, and compares every incremental
build with a clean one.
"""

from __future__ import annotations

import pytest
from conftest import practice_text, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_incremental import PAGE_HEAD, SITE, clean_build, tree

from s3site.builder import build
from s3site.fingerprint import lists_show_only_cards
from s3site.render import TemplateSet

# Each piece is safe on any page: it reads `term`, `pager` or `practice` only where the page has one.
IF_TERM_LISTS = "{% if term is defined and term.practices is defined %}"
IF_REGION = "{% if term is defined and term.located is defined %}"
IF_PAGER = "{% if pager is defined %}"
IF_PRACTICE = "{% if practice is defined %}"
PIECES = [
    # A term's lists, read directly.
    IF_TERM_LISTS + "{% for p in term.practices %}<p>{{ p.main_institution }}</p>{% endfor %}{% endif %}",
    IF_REGION + "{% for p in term.located %}{{ p.description_html | safe }}{% endfor %}{% endif %}",
    IF_REGION + "{% if term.leads %}<p>{{ term.leads[-1].keywords | join(', ') }}</p>{% endif %}{% endif %}",
    # Other regions' lists, through a region's children and chain.
    IF_REGION + "{% for child in term.children %}<p>{{ child.code }} {{ child.located | length }}</p>"
    "{% endfor %}{% endif %}",
    IF_REGION + "{% set country = term.chain | first %}{% if country.located %}"
    "<p>{{ country.located[0].website }}</p>{% endif %}{% endif %}",
    # A pager's items, in the many ways a list may be read.
    IF_PAGER + "{% for p in pager.items %}<p>{{ p.keywords | join(', ') }}</p>{% endfor %}{% endif %}",
    IF_PAGER + "<p>{{ pager.items | sort(attribute='main_institution') | map(attribute='main_institution')"
    " | join(';') }}</p>{% endif %}",
    IF_PAGER + "{% for group in pager.items | groupby('city') %}<p>{{ group.grouper }}: {{ group.list | length }}"
    "</p>{% endfor %}{% endif %}",
    "{% macro where(x) %}{{ x.city }} {{ x.website }}{% endmacro %}"
    + IF_PAGER + "{% for p in pager.items %}<p>{{ where(p) }}</p>{% endfor %}{% endif %}",
    IF_PAGER + "{% for p in pager.items %}{% if not loop.last %}<p>{{ loop.nextitem.main_institution }}</p>"
    "{% endif %}{% endfor %}{% endif %}",
    IF_PAGER + "<p>{{ pager.items | selectattr('website') | list | length }}</p>{% endif %}",
    IF_PAGER + "<p>{{ pager.items | map(attribute='author.name', default='') | join(',') }}</p>{% endif %}",
    IF_PAGER + "<!-- {{ pager.items | map('string') | join(',') }} -->{% endif %}",
    IF_PAGER + "{% for p in pager.items if p.author %}<p>{{ p.author.name }}</p>{% endfor %}{% endif %}",
    "{% set ns = namespace(words=0) %}" + IF_PAGER + "{% for p in pager.items %}"
    "{% set ns.words = ns.words + (p.description_html | wordcount) %}{% endfor %}{% endif %}<p>{{ ns.words }}</p>",
    IF_PAGER + "{% for p in pager.items %}<!-- {{ p | pprint }} -->{% endfor %}{% endif %}",
    IF_PAGER + "<!-- {{ pager.items | join(' ') }} -->{% endif %}",
    IF_REGION + "{% for child in term.children %}<!-- {{ child }} -->{% endfor %}{% endif %}",
    IF_PAGER + "{% for p in pager.items %}{% for r in p.related %}<p>{{ r.title }}</p>{% endfor %}"
    "{% endfor %}{% endif %}",
    IF_PAGER + "{% for row in pager.items | batch(2) %}<p>{{ row[0].website }}</p>{% endfor %}{% endif %}",
    IF_PAGER + "{% if pager.items %}{% with first = pager.items | first %}<p>{{ first['main_institution'] }}</p>"
    "{% endwith %}{% endif %}{% endif %}",
    IF_REGION + "<!-- {{ term.chain | join(' ') }} -->{% endif %}",
    IF_TERM_LISTS + "<p>{{ term.practices | map(attribute='followers') | map('length') | sum }}</p>{% endif %}",
    # A practice's own related practices, and theirs.
    IF_PRACTICE + "<!-- {{ practice.related | join(' ') }} -->{% endif %}",
    IF_PRACTICE + "{% for r in practice.related %}<p>{{ r.description_html | striptags }}</p>{% endfor %}{% endif %}",
    IF_PRACTICE + "{% for r in practice.related %}<p>{{ r.main_institution }}</p>{% endfor %}{% endif %}",
    IF_PRACTICE + "{% for r in practice.related %}{% for s in r.related %}<p>{{ s.title }}</p>{% endfor %}"
    "{% endfor %}{% endif %}",
    IF_PRACTICE + "{% if practice.author %}<p>{{ practice.author.name }}</p>{% endif %}{% endif %}",
    # The whole site.
    "<p>{{ site.practices | length }}: {{ site.practices | map(attribute='title') | join(', ') }}</p>",
    "{% for theme in site.themes %}<p>{{ theme.title }} {{ theme.practices | length }}</p>{% endfor %}",
    "<p>{{ site.countries | map(attribute='located') | map('length') | join(',') }}</p>",
]
# What a card may show beyond the default card: it is what every list of the site shows.
CARD_PIECES = [
    "{{ item.main_institution }}",
    "{{ item.keywords | join(', ') }}",
    "{{ item.author.name if item.author }}",
    "{% for r in item.related %}{{ r.title }}{% endfor %}",
    "{{ item.description_html | striptags | wordcount }}",
    "{{ item.leading.code if item.leading }}",
]
PAGE_TEMPLATES = ["theme.html", "region.html", "practices.html", "practice.html", "home.html",
                  "practice_group.html"]


# One piece a template: most pieces read fields beyond a card, which makes every list show
# practices whole; one piece alone leaves the ways a page depends on less to be found.
def page_with(piece: str) -> str:
    """A page template showing `piece` as its main content."""
    return PAGE_HEAD + "\n" + piece + "\n{% endblock %}\n"


PAGE_TEMPLATE_TEXTS = st.sampled_from(PIECES).map(page_with)
CARD_TEMPLATE_TEXTS = st.sampled_from(CARD_PIECES).map(
    lambda piece: "<li><a href=\"{{ item.url }}\">{{ item.title }}</a> " + piece + "</li>\n")


# An editor changes one field at a time: a change to a field no list shows must still reach
# every page that shows it.
FIELD_VALUES = {
    "title": ["Alpha", "Beta", "Gamma"],
    "summary": ["Short.", "A longer summary."],
    "main_institution": ["Council", "Agency", "University"],
    "location": ["{country: FI, region: FI1D, city: Oulu}", "{country: FI, region: FI1D7}",
                 "{country: ES, region: ES22}", "{country: SE, region: SE124}"],
    "themes": ["[social-economy]", "[energy]", "[energy, social-economy]"],
    "start": ["2018-06", "2020-01"],
    "keywords": [None, "[coops]", "[coops, clusters]"],
    "website": [None, "https://example.org/a", "https://example.org/b"],
    "author": [None, "Ann", "Bo"],
    "followers": [None, "[{name: Cy}]", "[{name: Cy}, {name: Di}]"],
    "leading_region": [None, "ES22", "FI1D"],
    "body": ["One two three.\n", "One two three four five.\n"],
}
FIELD_CHANGES = st.sampled_from(sorted(FIELD_VALUES)).flatmap(
    lambda name: st.tuples(st.just(name), st.sampled_from(FIELD_VALUES[name])))
NAMES = st.sampled_from(["a.md", "b.md", "c.md"])
SET_FIELD = st.tuples(st.just("set"), NAMES, FIELD_CHANGES)
EDITS = st.one_of(
    SET_FIELD, SET_FIELD, SET_FIELD,
    st.tuples(st.just("delete"), NAMES, st.none()),
    st.tuples(st.just("template"), st.sampled_from(PAGE_TEMPLATES), PAGE_TEMPLATE_TEXTS),
    st.tuples(st.just("template"), st.just("partials/card.html"), CARD_TEMPLATE_TEXTS),
    st.tuples(st.just("template"), st.sampled_from([*PAGE_TEMPLATES, "partials/card.html"]), st.none()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Every page template starts with the same piece, so that it is on every kind of page.
@given(
    page=PAGE_TEMPLATE_TEXTS,
    card=st.one_of(st.none(), st.none(), CARD_TEMPLATE_TEXTS),
    steps=st.lists(st.lists(EDITS, min_size=1, max_size=3), min_size=1, max_size=4),
    related=st.sampled_from(["", "related: 1\n"]),
    in_memory=st.booleans(),  # builds keep what they parsed and the templates in a dict, as the preview does
)
def test_any_templates_and_edits_then_incremental_build_equal_a_clean_build(tmp_path_factory, page, card, steps,
                                                                             related, in_memory):
    tmp = tmp_path_factory.mktemp("templates")
    templates = dict.fromkeys(PAGE_TEMPLATES, page) | ({"partials/card.html": card} if card else {})
    fields = {"a.md": {"title": "A"}, "b.md": {"title": "B", "location": "{country: ES}"},
              "c.md": {"title": "C", "location": "{country: FI, region: FI1D7}"}}
    practices = {name: practice_text(**values) for name, values in fields.items()}
    root = write_site(tmp / "site", practices, site=SITE + related, templates=templates)
    memory = {} if in_memory else None
    build(root, workers=1, memory=memory)
    for batch in steps:
        for kind, name, value in batch:
            if kind == "set":
                fields.setdefault(name, {"title": name})[value[0]] = value[1]
                (root / "content/practices" / name).write_text(practice_text(**fields[name]))
            elif kind == "delete" and len(fields) > 1 and name in fields:
                del fields[name]
                (root / "content/practices" / name).unlink()
            elif kind == "template" and value is None:
                (root / "templates" / name).unlink(missing_ok=True)
            elif kind == "template":
                (root / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
                (root / "templates" / name).write_text(value)
        build(root, workers=1, memory=memory)
        assert tree(root / "output") == clean_build(root, tmp), f"after {batch}"


def test_the_pieces_render(tmp_path):
    """Every piece renders on every page it may be put on (a piece that fails would make the
    property test above find nothing)."""
    page = page_with("\n".join(PIECES))
    card = "<li>" + " ".join(CARD_PIECES) + "</li>\n"
    practices = {"a.md": practice_text(title="A", keywords="[coops]", website="https://example.org/a",
                                       author="Ann", leading_region="ES22"),
                 "b.md": practice_text(title="B", location="{country: ES, region: ES22, city: Pamplona}")}
    templates = dict.fromkeys(PAGE_TEMPLATES, page) | {"partials/card.html": card}
    root = write_site(tmp_path / "site", practices, site=SITE + "related: 1\n", templates=templates)
    build(root, workers=1)
    out = tree(root / "output")
    practice_page, theme_page = out["practices/a/index.html"].decode(), out["themes/social-economy/index.html"].decode()
    assert "<p>Ann</p>" in practice_page  # the practice's author
    assert "<p>Regional Council of Lapland</p>" in theme_page  # a listed practice's institution
    assert "coops" in theme_page and "ES22" in theme_page  # from the cards


@pytest.mark.parametrize("piece", [
    "<p>{{ pager.items | map(attribute='author.name', default='') | join(',') }}</p>",
    "<p>{{ pager.items | selectattr('author.name', 'defined') | list | length }}</p>",
    "<!-- {{ pager.items | map('string') | join(',') }} -->",
    "{% for p in pager.items %}<!-- {{ p | pprint }} -->{% endfor %}",
], ids=["mapped through a dotted attribute", "selected by a dotted attribute", "each turned into text",
        "pretty-printed"])
def test_lists_are_made_again_when_a_field_they_read_this_way_changes(tmp_path, piece):
    practices = {"a.md": practice_text(title="A"), "b.md": practice_text(title="B", author="Bo")}
    root = write_site(tmp_path / "site", practices, site=SITE, templates={"practices.html": page_with(piece)})
    build(root, workers=1)
    (root / "content/practices/a.md").write_text(practice_text(title="A", author="Ann"))
    build(root, workers=1)
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize(("loop_body", "only_cards"), [
    ("{{ p['title'] }}, {{ p.summary }}", True),  # fields a card shows, by key or by name
    ("{{ p }}", False),
    ("{{ p['author'] }}", False),
], ids=["a card's fields", "printed whole", "a field beyond the card"])
def test_lists_show_only_cards_unless_a_template_shows_more_of_a_listed_practice(tmp_path, loop_body, only_cards):
    (tmp_path / "practices.html").write_text(page_with("{% for p in pager.items %}" + loop_body + "{% endfor %}"))
    assert lists_show_only_cards(TemplateSet(tmp_path)) is only_cards
