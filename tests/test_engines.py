"""The two Markdown engines render the example site the same, but for documented differences."""

from __future__ import annotations

import re

import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from s3site.content import parse_practice
from s3site.markup import _markdown_it, plain_text

EXAMPLES = sorted((REPO / "content/practices").glob("*"))


def normalise(html: str) -> str:
    """Remove the differences docs/content-format.md lists."""
    html = re.sub(r'style="text-align: (\w+);"', r'style="text-align:\1"', html)
    html = re.sub(r'id="([\w-]+)_(\d+)"', r'id="\1-\2"', html)  # repeated heading ids
    return re.sub(r"\s+", " ", html).strip()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_practice_renders_alike_with_both_engines(path):
    source = f"content/practices/{path.name}"
    default = parse_practice(source, path.read_bytes()).model
    fast = parse_practice(source, path.read_bytes(), engine="markdown-it").model
    assert default is not None and fast is not None
    for field in ("description_html", "resources_needed_html", "evidence_of_success_html",
                  "potential_for_transfer_html", "expert_opinion_html"):
        assert normalise(getattr(default, field)) == normalise(getattr(fast, field)), field
    assert [(s.title, s.anchor, normalise(s.html)) for s in default.extra_sections] == [
        (s.title, s.anchor, normalise(s.html)) for s in fast.extra_sections]
    assert plain_text(default.footnotes_html).replace("↩", "") .split() == plain_text(
        fast.footnotes_html).replace("↩", "").split()


def test_examples_cover_tables_lists_and_sections():
    text = "\n".join(p.read_text() for p in EXAMPLES)
    assert "|---" in text or "| ---" in text or "|:--" in text or "---|" in text
    assert "\n- " in text or "\n* " in text
    assert "## Lessons learned" in text


def stock_markdown_it():
    """markdown-it as s3site configures it, with the library's own first rule."""
    from markdown.extensions.toc import slugify
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    return (
        MarkdownIt("commonmark", {"html": True}).enable("table").use(footnote_plugin).use(attrs_plugin)
        .use(attrs_block_plugin).use(deflist_plugin)
        .use(anchors_plugin, max_level=6, slug_func=lambda text: slugify(text, "-"))
    )


STOCK_MARKDOWN_IT = stock_markdown_it()
MARKDOWN_IT_PIECES = st.sampled_from(
    ["a", "word", " ", "\n", "\r", "\r\n", "\n\r", "\0", "\r\r\n", "# H", "- item", "> q", "```", "    ",
     "| a | b |", "|---|---|", "[^1]", "[^1]: note", "*x*", "\t", "Title\r\n===", "\ufffd",
     # What the footnote and attribute plugins look for, whole and in pieces.
     "^[inline note]", "^", "[", "]", "{", "}", "{.cls}", "{#id}", "{: .x}", "[a](http://x.example/)",
     "![i](i.png)", "\n{.block}\n", "Term\n: definition", ": ", "`{code}`"])


@given(st.lists(MARKDOWN_IT_PIECES, max_size=30).map("".join))
@settings(max_examples=500, deadline=None)
def test_markdown_it_gives_its_own_html_for_any_text(text):
    assert _markdown_it()(text) == STOCK_MARKDOWN_IT.render(text)


def test_markdown_it_line_ends_become_newlines():
    assert _markdown_it()("a\r\nb\rc\0") == "<p>a\nb\nc\ufffd</p>\n"


def test_markdown_it_runs_its_footnote_and_attribute_plugins_only_for_texts_that_use_them(monkeypatch):
    from s3site import markup

    rendered: dict[bool, list[str]] = {True: [], False: []}
    real = markup._markdown_it_parser

    def spy(*, with_extras):
        parser = real(with_extras=with_extras)
        render = parser.render
        parser.render = lambda text: rendered[with_extras].append(text) or render(text)
        return parser

    monkeypatch.setattr(markup, "_markdown_it_parser", spy)
    render = markup._markdown_it.__wrapped__()  # a new one, not the cached
    assert render("Plain *text*, a [link](http://x.example/).") == (
        '<p>Plain <em>text</em>, a <a href="http://x.example/">link</a>.</p>\n')
    assert 'class="footnote-ref"' in render("A note[^1].\n\n[^1]: The note.")
    assert render("{.kept}\nA [link](http://x.example/){.x}") == (
        '<p class="kept">A <a href="http://x.example/" class="x">link</a></p>\n')
    assert len(rendered[False]) == 1 and len(rendered[True]) == 2
