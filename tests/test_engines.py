"""The two Markdown engines render the example site the same, but for documented differences."""

from __future__ import annotations

import functools
import re

import pytest
from conftest import REPO
from hypothesis import example, given, settings
from hypothesis import strategies as st

from s3site import markup
from s3site.content import parse_practice
from s3site.markup import MARKDOWN_IT_RULE_NEEDS, plain_text, render_markdown_it

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
     "![i](i.png)", "\n{.block}\n", "Term\n: definition", ": ", "`{code}`",
     # What each rule left out of a text that cannot use it looks for, whole and in pieces.
     "---", "***", "* * *", "_ _ _", "-", "*", "_", "=", "===", "1. ", "2) ", "+ ", "~~~", "~", ":",
     "<b>", "</b>", "<div>", "<http://x.example>", "<!-- c -->", "&amp;", "&", "\\", "\\*", "`",
     "[r]: /u", "[r]", "]:", "!", "~ d", "|", ">"])


@given(st.lists(MARKDOWN_IT_PIECES, max_size=30).map("".join))
@settings(max_examples=1000, deadline=None)
# Blocks inside a definition or a footnote, behind a marker other than a quote's or a list's:
# an indented code block, a rule.
@example("a\n~        a")
@example("a\n: ***")
@example("x[^1]\n\n[^1]: ***")
def test_markdown_it_gives_its_own_html_for_any_text(text):
    assert render_markdown_it(text) == STOCK_MARKDOWN_IT.render(text)


# For each rule a text may go without: texts that use it, in the places it may be written.
USES_OF_RULES = {
    "table": ["| a | b |\n|---|---|\n| 1 | 2 |"],
    "code": ["Text\n\n    code", "\tcode", "- item\n\n        code in an item"],
    "fence": ["```\ncode\n```", "~~~\ncode\n~~~", "> ```\n> in a quote\n> ```"],
    "blockquote": ["> quoted", "- > quoted in an item"],
    "hr": ["---", "***", "_ _ _", "- * * *", "> - - -", "Text\n\n   ***"],
    "reference": ["[a][r]\n\n[r]: http://x.example/", "[r]\n\n[r]:\n  /u"],
    "html_block": ["<div>\nblock\n</div>", "<!-- a comment -->"],
    "heading": ["# Title", "> ## In a quote"],
    "lheading": ["Title\n===", "Title\n-", "> Title\n> ---", "- Title\n  ===", "1. Title\n   ---  "],
    "deflist": ["Term\n: definition", "Term\n~ definition", "- Term\n  : in an item",
                "> Term\n> : in a quote"],
    "escape": ["\\*not emphasis\\*"],
    "backticks": ["`code`"],
    "emphasis": ["*em*", "_em_", "**strong**"],
    "link": ["[a](http://x.example/)"],
    "image": ["![alt](i.png)"],
    "autolink": ["<http://x.example/>"],
    "html_inline": ["a <b>bold</b> word"],
    "entity": ["&amp; &#35;"],
}


def test_every_rule_a_text_may_go_without_is_kept_for_the_texts_that_use_it():
    assert set(USES_OF_RULES) == set(MARKDOWN_IT_RULE_NEEDS)
    for rule, texts in USES_OF_RULES.items():
        without = stock_markdown_it().disable(rule)
        for text in texts:
            # Each text is one the rule changes: the check below would catch a wrong need.
            assert without.render(text) != STOCK_MARKDOWN_IT.render(text), (rule, text)
            assert MARKDOWN_IT_RULE_NEEDS[rule](text), (rule, text)
            assert render_markdown_it(text) == STOCK_MARKDOWN_IT.render(text), (rule, text)


@given(st.from_regex(markup.PLAIN_WEB_ADDRESS_RE, fullmatch=True))
@settings(max_examples=500, deadline=None)
@example("https://www.interregeurope.eu/good-practices/x?id=3&lang=en#top")
@example("http://a-b.c9/")
def test_addresses_passed_over_by_link_normalising_are_those_markdown_it_leaves_alone(url):
    assert STOCK_MARKDOWN_IT.normalizeLink(url) == url
    text = f"[a]({url}) and <{url}>"
    assert render_markdown_it(text) == STOCK_MARKDOWN_IT.render(text)


@pytest.mark.parametrize("url", ["HTTPS://x.example/", "https://X.example/", "https://x.example/a b",
                                 "https://x.example/é", "https://x.example:8080/", "https://x.example/%41",
                                 "https://user@x.example/", "https://x..example/", "//x.example/"])
def test_other_addresses_are_normalised_by_markdown_it(url):
    assert not markup.PLAIN_WEB_ADDRESS_RE.fullmatch(url)
    text = f"[a](<{url}>)"
    assert render_markdown_it(text) == STOCK_MARKDOWN_IT.render(text)


def test_markdown_it_line_ends_become_newlines():
    assert render_markdown_it("a\r\nb\rc\0") == "<p>a\nb\nc\ufffd</p>\n"
    assert render_markdown_it("Title\r---") == '<h2 id="title">Title</h2>\n'


def test_markdown_it_runs_only_the_rules_and_plugins_a_text_can_use(monkeypatch):
    made: list[tuple[bool, frozenset[str]]] = []
    real = markup._markdown_it_renderer.__wrapped__

    def spy(with_extras, unused):
        made.append((with_extras, unused))
        return real(with_extras, unused)

    monkeypatch.setattr(markup, "_markdown_it_renderer", functools.lru_cache(spy))
    plain = "Plain *text*, a [link](http://x.example/).\n\n- a list\n"
    assert render_markdown_it(plain) == (
        '<p>Plain <em>text</em>, a <a href="http://x.example/">link</a>.</p>\n'
        "<ul>\n<li>a list</li>\n</ul>\n")
    assert render_markdown_it(plain.replace("Plain", "Other"))  # the same parser again
    assert 'class="footnote-ref"' in render_markdown_it("A note[^1].\n\n[^1]: The note.")
    assert render_markdown_it("{.kept}\nA [link](http://x.example/){.x}") == (
        '<p class="kept">A <a href="http://x.example/" class="x">link</a></p>\n')
    assert [extras for extras, _ in made] == [False, True, True]
    assert made[0][1] == set(MARKDOWN_IT_RULE_NEEDS) - {"emphasis", "link"}
