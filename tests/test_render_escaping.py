"""Values written into pages are escaped exactly as Jinja and markupsafe escape them.

s3site's templates write `{{ value }}` through escape_output() rather than
markupsafe.escape(): the same text, without a Markup object for each value.
"""

from __future__ import annotations

import jinja2
from conftest import practice_text
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from s3site import render
from s3site.builder import build
from s3site.cache import CODE_SALT
from s3site.render import _Environment, escape_output


class Html:
    """An object that says which HTML it is, as markupsafe lets any object do."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __html__(self) -> str:
        return self.text

    def __str__(self) -> str:  # not what a page shows of it
        return "str() of Html"


class Plain(str):
    """A string that is not exactly str."""


VALUES = st.one_of(
    st.text(), st.sampled_from(["<b>&\"'</b>", "a & b", "", "\0", "é<"]), st.integers(), st.none(),
    st.booleans(), st.floats(allow_nan=False), st.text().map(Markup), st.text().map(Html),
    st.text().map(Plain), st.lists(st.text(), max_size=3),
)


@given(VALUES)
@example(Html("<i>kept</i>"))
@example(Markup("<b>x</b>"))
def test_a_value_is_escaped_as_markupsafe_escapes_it(value):
    assert escape_output(value) == str(escape(value))


MACROS = (
    "{% macro wrap(x) %}<b>{{ x }}</b>{% endmacro %}"
    "{% macro frame() %}<div>{{ caller() }}</div>{% endmacro %}"
)
TEMPLATES = {
    "plain": "{{ v }}|{{ w }} text {{ v ~ w }}{{ v ~ '<' }}",
    "macro": MACROS + "{{ wrap(v) }}{{ wrap(v) | length }}{{ wrap(w) | upper }}",
    "call": MACROS + "{% call frame() %}{{ v }}<hr>{{ w }}{% endcall %}",
    "set block": "{% set s %}{{ v }}<i>{{ w }}</i>{% endset %}{{ s }}|{{ s | length }}|{{ s | striptags }}",
    "filter block": "{% filter upper %}{{ v }}<p>{{ w }}</p>{% endfilter %}",
    "no autoescape": "{% autoescape false %}{{ v }}{{ w }}{% endautoescape %}{{ v }}",
    "autoescape by flag": "{% autoescape flag %}{{ v }}{% endautoescape %}{{ w }}",
    "loop": "{% for x in [v, w] %}{{ loop.index }}:{{ x }}{% if not loop.last %}, {% endif %}{% endfor %}",
    "filters": "{{ v | safe }}|{{ v | e }}|{{ v | string }}|{{ [v, w] | join(', ') }}|{{ '%s-%s' | format(v, w) }}",
    "include": "{% include 'included.html' %}{% with v = w %}{% include 'included.html' %}{% endwith %}",
    "blocks": "{% extends 'base.html' %}{% block main %}{{ super() }}[{{ w }}]{% endblock %}",
}
SHARED = {"included.html": "<span>{{ v }}</span>", "base.html": "<main>{% block main %}{{ v }}{% endblock %}</main>"}


def environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    options = {"loader": jinja2.DictLoader({**TEMPLATES, **SHARED}), "autoescape": True}
    return jinja2.Environment(**options), _Environment(**options)


STOCK, OURS = environments()


@given(v=VALUES, w=VALUES, flag=st.booleans())
@settings(max_examples=300, deadline=None)
@example(v="<a href='x'>&</a>", w=Markup("<b>bold</b>"), flag=False)
def test_templates_write_what_jinja_writes(v, w, flag):
    for name in TEMPLATES:
        expected = STOCK.get_template(name).render(v=v, w=w, flag=flag)
        assert OURS.get_template(name).render(v=v, w=w, flag=flag) == expected, name


def test_templates_write_values_through_escape_output():
    # Otherwise they would be right but slow: a newer Jinja may stop calling what s3site changes.
    assert "environment.escape_output(" in OURS.compile(TEMPLATES["plain"], raw=True)
    assert "escape_output" not in STOCK.compile(TEMPLATES["plain"], raw=True)


def test_templates_compiled_by_another_s3site_are_compiled_again(make_site, monkeypatch):
    # An s3site compiles its templates to its own code (escape_output): an older one, whose
    # compiled templates call nothing of the kind, or a newer one may share the cache folder.
    page = "content/practices/p.md"
    root = make_site({"p.md": practice_text()})
    build(root)
    folder = root / ".s3site-cache/templates"
    first = {path.name for path in folder.iterdir()}
    assert first and all(CODE_SALT[:16] in name for name in first)
    monkeypatch.setattr(render, "CODE_SALT", "another s3site's code")
    (root / page).write_text(practice_text(summary="Edited."))
    build(root)
    again = {path.name for path in folder.iterdir()} - first
    assert again and all("another s3site" in name for name in again)
