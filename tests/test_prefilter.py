"""Python-Markdown skipping hopeless patterns and block processors gives its own HTML."""

from __future__ import annotations

from importlib import import_module

import markdown
import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.treeprocessors import UnescapeTreeprocessor

from s3site import prefilter
from s3site.markup import MARKDOWN_EXTENSIONS, _python_markdown, split_front_matter
from s3site.prefilter import (
    ListlessTocTreeprocessor,
    PrefilteredBlockParser,
    PrefilteredInlineProcessor,
    SkippingPreprocessor,
)


def python_markdown() -> markdown.Markdown:
    """Python-Markdown as s3site configures it, with its own inline processor."""
    configs = {"toc": {"permalink": False}}
    extensions = [import_module(f"markdown.extensions.{name}").makeExtension(**configs.get(name, {}))
                  for name in MARKDOWN_EXTENSIONS]
    return markdown.Markdown(extensions=extensions, output_format="html")


STOCK = python_markdown()
OURS = _python_markdown()

# Every character an inline pattern looks for, alone and in the constructs that use it.
PIECES = st.sampled_from([
    "a", "word", " ", "  ", "\n", "\n\n", "*", "**", "_", "__", "`", "``", "[", "]", "(", ")",
    "!", "<", ">", "&", "#", ";", "\\", "^", ":", "/", "@", ".", "-", "|", "{", "}", "=", '"',
    "'", "?", "[^1]", "[^1]: a note\n", "<http://example.org/x>", "<someone@example.org>",
    "&amp;", "&#169;", "&#x41;", "  \n", "![alt](i.png)", "[a](http://x.example/)",
    "[a]: http://x.example/\n", "[a][]", "[b][a]", "*[HTML]: Hyper Text\n", "<span>x</span>",
    "<!-- c -->", "<?php ?>", "<![CDATA[x]]>", "`code`", "\\*", "\\`", "# ", "## H\n", "- ",
    "1. ", "> ", "    ", "```\n", "Term\n: Definition\n", "| a | b |\n|---|---|\n| c | d |\n",
    "{: .cls }", "x{: #id }", "{.cls}", " {#id}", "\\#", "\\\\", "HTML", "Title\n=====\n", "Title\n---\n", "\n***\n", "* * *",
    "_ _ _", "-  -  -", "\n\n    code\n", ">", ": ", "]:", "*[", "~~~\n", "```python\n", "~~~ {.x}\n",
    "[TOC]", "\n\n[TOC]\n\n", "<div>\n", "</div>\n", "&", "&copy",
    # Whitespace that Python-Markdown tidies first: tabs, carriage returns, spaces on a
    # blank line, and the two characters it keeps for itself.
    "\t", "\r", "\r\n", " \n", "\n \n", "\n   \n \n", "\x02", "\x03",
])


def convert(converter: markdown.Markdown, text: str) -> str:
    converter.reset()
    return converter.convert(text)


@given(st.lists(PIECES, max_size=40).map("".join))
@settings(max_examples=800, deadline=None)
def test_generated_texts_give_python_markdowns_own_html(text):
    assert convert(OURS, text) == convert(STOCK, text)


def test_the_example_practices_give_python_markdowns_own_html():
    files = sorted((REPO / "content").rglob("*.md"))
    assert len(files) >= 10
    for path in files:
        body = split_front_matter(path.read_text(encoding="utf-8"))[1]
        assert convert(OURS, body) == convert(STOCK, body), path


def count_tries(converter: markdown.Markdown, monkeypatch) -> list[str]:
    tried: list[str] = []
    processor = converter.treeprocessors["inline"]
    original = processor._InlineProcessor__applyPattern

    def counting(pattern, *args):
        tried.append(type(pattern).__name__)
        return original(pattern, *args)

    monkeypatch.setattr(processor, "_InlineProcessor__applyPattern", counting)
    return tried


def test_a_plain_text_is_tried_by_no_pattern(monkeypatch):
    converter = python_markdown()
    converter.treeprocessors.register(PrefilteredInlineProcessor(converter), "inline", 20)
    tried = count_tries(converter, monkeypatch)
    assert convert(converter, "Plain words, no markup.") == "<p>Plain words, no markup.</p>"
    assert tried == []
    convert(converter, "A [link](http://example.org/) & more.")
    assert "LinkInlineProcessor" in tried and "HtmlInlineProcessor" in tried
    assert "BacktickInlineProcessor" not in tried


def test_references_are_looked_for_only_in_a_text_that_defines_some(monkeypatch):
    converter = python_markdown()
    converter.treeprocessors.register(PrefilteredInlineProcessor(converter), "inline", 20)
    tried = count_tries(converter, monkeypatch)
    undefined = "A [link](http://example.org/), [text][a] and [a]."
    assert convert(converter, undefined) == convert(STOCK, undefined)
    assert "LinkInlineProcessor" in tried
    assert not any("Reference" in name for name in tried)
    defined = undefined + "\n\n[a]: http://example.org/a"
    html = convert(converter, defined)
    assert html == convert(STOCK, defined) and '<a href="http://example.org/a">text</a>' in html
    assert {"ReferenceInlineProcessor", "ShortReferenceInlineProcessor"} <= set(tried)


def test_a_pattern_whose_expression_is_not_the_known_one_is_always_tried(monkeypatch):
    monkeypatch.setitem(prefilter.TRIGGERS, "entity", (r"&\w+;", ("&",)))
    converter = python_markdown()
    converter.treeprocessors.register(PrefilteredInlineProcessor(converter), "inline", 20)
    tried = count_tries(converter, monkeypatch)
    convert(converter, "Plain words.")
    assert tried == ["HtmlInlineProcessor"]  # the entity pattern, of that class


@pytest.mark.parametrize("name", sorted(prefilter.TRIGGERS))
def test_every_listed_expression_is_the_one_python_markdown_uses(name):
    """Else the pattern is tried always: correct, but the speed is gone unnoticed."""
    assert OURS.inlinePatterns[name].compiled_re.pattern == prefilter.TRIGGERS[name][0]


def test_a_plain_block_is_tried_by_no_processor_that_needs_what_it_lacks(monkeypatch):
    converter = python_markdown()
    converter.parser.__class__ = PrefilteredBlockParser
    tried: list[str] = []
    for name in prefilter.BLOCK_TRIGGERS:
        processor = converter.parser.blockprocessors[name]
        monkeypatch.setattr(processor, "test", lambda parent, block, name=name, test=processor.test:
                            tried.append(name) or test(parent, block))
    assert convert(converter, "Plain words, no markup.") == "<p>Plain words, no markup.</p>"
    assert tried == []
    assert convert(converter, "# A heading") == '<h1 id="a-heading">A heading</h1>'
    assert tried == ["hashheader"]


def test_a_block_processor_whose_expression_is_not_the_known_one_is_always_tried(monkeypatch):
    monkeypatch.setitem(prefilter.BLOCK_TRIGGERS, "quote", (r">", (">",)))
    converter = python_markdown()
    converter.parser.__class__ = PrefilteredBlockParser
    processor = converter.parser.blockprocessors["quote"]
    tried: list[str] = []
    monkeypatch.setattr(processor, "test", lambda parent, block: tried.append(block) or False)
    convert(converter, "Plain words.")
    assert tried == ["Plain words."]


@pytest.mark.parametrize("name", sorted(prefilter.BLOCK_TRIGGERS))
def test_every_listed_block_expression_is_the_one_python_markdown_uses(name):
    processor = OURS.parser.blockprocessors[name]
    compiled = processor.SEARCH_RE if name == "hr" else processor.RE
    assert compiled.pattern == prefilter.BLOCK_TRIGGERS[name][0]


def test_fenced_code_and_raw_html_are_looked_for_only_in_a_text_that_can_hold_them(monkeypatch):
    converter = _python_markdown()
    ran: list[str] = []
    for name in ("fenced_code_block", "html_block"):
        processor = converter.preprocessors[name]
        assert isinstance(processor, SkippingPreprocessor)
        monkeypatch.setattr(processor.inner, "run", lambda lines, name=name, run=processor.inner.run:
                            ran.append(name) or run(lines))
    assert convert(converter, "Plain words, no markup.") == "<p>Plain words, no markup.</p>"
    assert ran == []
    assert convert(converter, "~~~\n<b>\n~~~") == "<pre><code>&lt;b&gt;\n</code></pre>"
    assert ran == ["fenced_code_block"]  # which took the "<" away with the code
    ran.clear()
    assert convert(converter, "R&D <b>x</b>") == "<p>R&amp;D <b>x</b></p>"
    assert ran == ["html_block"]


def test_the_table_of_contents_is_made_only_for_a_text_with_its_marker():
    converter = _python_markdown()
    assert isinstance(converter.treeprocessors["toc"], ListlessTocTreeprocessor)
    assert convert(converter, "## One\n\n## Two") == '<h2 id="one">One</h2>\n<h2 id="two">Two</h2>'
    assert converter.toc == ""
    with_marker = "[TOC]\n\n## One\n\n## Two"
    html = convert(converter, with_marker)
    assert html == convert(STOCK, with_marker)
    assert '<div class="toc">' in html and '<a href="#two">Two</a>' in html
    assert converter.toc == STOCK.toc


def test_blank_lines_spaces_are_looked_for_only_in_a_text_that_has_them(monkeypatch):
    converter = _python_markdown()
    processor = converter.preprocessors["normalize_whitespace"]
    assert isinstance(processor, prefilter.QuickNormalizeWhitespace)
    searched: list[str] = []
    expression = prefilter.BLANK_LINE_SPACES_RE

    class Counting:
        def sub(self, replacement, text):
            searched.append(text)
            return expression.sub(replacement, text)

    monkeypatch.setattr(prefilter, "BLANK_LINE_SPACES_RE", Counting())
    assert convert(converter, "One\n\nTwo") == "<p>One</p>\n<p>Two</p>"
    assert searched == []
    text = "One\n  \n\tTwo\r\n \nThree"
    assert convert(converter, text) == convert(STOCK, text)
    assert len(searched) == 1


@pytest.mark.parametrize(("name", "stock_class", "needing", "without"), [
    ("attr_list", AttrListTreeprocessor, "## Heading {.cls}\n\nText {#p}", "## Heading .cls\n\nText #p"),
    ("unescape", UnescapeTreeprocessor, "A \\*star\\* and \\\\ `\\`", "A *star* and `code`"),
])
def test_attribute_lists_and_unescaping_run_only_for_a_text_that_can_need_them(monkeypatch, name, stock_class,
                                                                              needing, without):
    expected = {text: convert(STOCK, text) for text in (needing, without)}
    converter = _python_markdown()
    assert isinstance(converter.treeprocessors[name], prefilter._SkippingTreeprocessor)
    ran: list[str] = []
    stock_run = stock_class.run
    monkeypatch.setattr(stock_class, "run", lambda self, root: ran.append(name) or stock_run(self, root))
    assert convert(converter, without) == expected[without]
    assert ran == []
    assert convert(converter, needing) == expected[needing]
    assert ran == [name]


def test_a_preprocessor_whose_expression_is_not_the_known_one_is_always_run(monkeypatch):
    monkeypatch.setattr(prefilter, "FENCE", r"(?P<fence>^(?:~{4,}))")
    converter = python_markdown()
    prefilter.install(converter)
    assert not isinstance(converter.preprocessors["fenced_code_block"], SkippingPreprocessor)
    assert isinstance(converter.preprocessors["html_block"], SkippingPreprocessor)
