"""Python-Markdown, trying only the patterns and block processors a text can match.

Python-Markdown tries each of its fifteen inline patterns (links, emphasis,
code, entities...) on every piece of text, and each of its sixteen block
processors (headings, lists, quotes...) on every block, and most tries are
in vain: a paragraph without "[" holds no link, a block without "#" is no
heading. Each try is a Python call; the inline ones alone were half of the
time Python-Markdown took for a practice.

Here a pattern or a processor is skipped for a text holding none of the
strings every match of it contains ("[" for a link, "&" for an entity). That
is checked for the very expression Python-Markdown uses: one whose
expression is not the one listed below (another release, another extension)
is always tried, as before. So the HTML is the same by construction, and
tests compare it with Python-Markdown's own on generated and real texts.

Two preprocessors are skipped the same way (one for fenced code, one for raw
HTML), and two treeprocessors (attribute lists need "{", unescaping needs a
backslash escape). Whitespace is tidied without an expression that cannot
match, and the table of contents is not made for a text without its marker:
s3site uses the ids it gives headings, never the table itself.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from typing import Any

from markdown import Markdown, util
from markdown.blockparser import BlockParser
from markdown.extensions.attr_list import AttrListTreeprocessor
from markdown.extensions.toc import TocTreeprocessor
from markdown.inlinepatterns import (
    ImageReferenceInlineProcessor,
    ReferenceInlineProcessor,
    ShortImageReferenceInlineProcessor,
    ShortReferenceInlineProcessor,
)
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace, Preprocessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor, UnescapeTreeprocessor

# Each pattern's regular expression, as Python-Markdown 3.5 to 3.11 has it, and strings of
# which every match holds at least one.
_LINK = r"(?<!\!)\["
_IMAGE = r"\!\["
TRIGGERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "backtick": (r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)", ("`",)),
    "escape": (r"\\(.)", ("\\",)),
    "footnote": (r"\[\^([^\]]*)\]", ("[^",)),
    "reference": (_LINK, ("[",)),
    "link": (_LINK, ("[",)),
    "image_link": (_IMAGE, ("![",)),
    "image_reference": (_IMAGE, ("![",)),
    "short_reference": (_LINK, ("[",)),
    "short_image_ref": (_IMAGE, ("![",)),
    "autolink": (r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>", ("<",)),
    "automail": (r"<([^<> !]+@[^@<> ]+)>", ("<",)),
    "linebreak": (r"  \n", ("  \n",)),
    "html": (
        r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|"""
        r"""[^\s"'=<>]++))?+)*+\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|"""
        r"""!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)""",
        ("<",),
    ),
    "entity": (r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)", ("&",)),
    "em_strong": (r"\*|_", ("*", "_")),
}


# What a text must hold for a pattern to be tried: the one string, or an expression finding
# any of several (one call either way, where any() over a generator costs three times more).
Trigger = str | re.Pattern


def _trigger(strings: tuple[str, ...]) -> Trigger:
    return strings[0] if len(strings) == 1 else re.compile("|".join(map(re.escape, strings)))


class _Nowhere:
    """A trigger no text holds."""

    @staticmethod
    def search(text: str) -> None:
        return None


# Patterns that only ever link to a reference defined in the document ("[text][id]",
# "[id]"): in a document that defines none, they change nothing, whatever they match.
REFERENCE_PATTERNS = (ReferenceInlineProcessor, ShortReferenceInlineProcessor, ImageReferenceInlineProcessor,
                      ShortImageReferenceInlineProcessor)


class PrefilteredInlineProcessor(InlineProcessor):
    """InlineProcessor, skipping a pattern for a text that holds none of its triggers."""

    _patterns: list | None = None  # the patterns, in the order they are tried
    _needs: list[Trigger | type[_Nowhere] | None]  # and what each needs (None: always tried)
    _needs_with_references: list[Trigger | None]
    _needs_without_references: list[Trigger | type[_Nowhere] | None]

    def _prepare(self) -> None:
        self._patterns = list(self.inlinePatterns)
        self._needs_with_references, self._needs_without_references = [], []
        for item in self.inlinePatterns._priority:
            pattern = self.inlinePatterns[item.name]
            expected = TRIGGERS.get(item.name)
            compiled = getattr(pattern, "compiled_re", None)
            same = expected is not None and compiled is not None and compiled.pattern == expected[0]
            need = _trigger(expected[1]) if same else None
            self._needs_with_references.append(need)
            self._needs_without_references.append(_Nowhere if type(pattern) in REFERENCE_PATTERNS else need)

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        if self._patterns is None or len(self._patterns) != len(self.inlinePatterns):
            self._prepare()
        self._needs = self._needs_with_references if self.md.references else self._needs_without_references
        return super().run(tree, ancestors)

    # The name Python-Markdown's own methods call (its private __handleInline), so
    # that they reach this one, nested texts included; the loop is the same but for
    # the skip.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, util.AtomicString):
            return data
        patterns, needs = self._patterns, self._needs
        apply = self._InlineProcessor__applyPattern
        start = 0
        count = len(patterns)
        while patternIndex < count:
            need = needs[patternIndex]
            if need is not None and (need not in data if type(need) is str else not need.search(data)):
                patternIndex += 1
                start = 0  # as after a pattern that did not match
                continue
            data, matched, start = apply(patterns[patternIndex], data, patternIndex, start)
            if not matched:
                patternIndex += 1
        return data


# Each block processor's expression, as Python-Markdown 3.5 to 3.11 has it, and strings of which
# every block it takes holds at least one. Processors whose test() is this expression, or which
# put the block back when it does not match (footnote, abbr, reference), can be skipped.
BLOCK_TRIGGERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hashheader": (r"(?:^|\n)(?P<level>#{1,6})(?P<header>(?:\\.|[^\\#]|#+(?=[^#\n]))*?)#*(?:\n|$)", ("#",)),
    "setextheader": (r"^.*?\n(?:=+|-+)[ ]*(\n|$)", ("\n=", "\n-")),
    # Three of one of the characters, with at most two spaces between two of them.
    "hr": (r"^[ ]{0,3}(?=(?P<atomicgroup>(-+[ ]{0,2}){3,}|(_+[ ]{0,2}){3,}|(\*+[ ]{0,2}){3,}))"
           r"(?P=atomicgroup)[ ]*$",
           tuple(f"{c}{gap}{c}" for c in "-_*" for gap in ("", " ", "  "))),
    "deflist": (r"(^|\n)[ ]{0,3}:[ ]{1,3}(.*?)(\n|$)", (": ",)),
    "quote": (r"(^|\n)[ ]{0,3}>[ ]?(.*)", (">",)),
    "footnote": (r"^[ ]{0,3}\[\^([^\]]*)\]:[ ]*(.*)$", ("[^",)),
    "abbr": (r"^[*]\[(?P<abbr>[^\\]*?)\][ ]?:[ ]*\n?[ ]*(?P<title>.*)$", ("*[",)),
    "reference": (r"^[ ]{0,3}\[([^\[\]]*)\]:[ ]*(?:\n[ ]*)?([^\s]+)[ ]*(?:\n[ ]*)?"
                  r"""((["\'])(.*)\4[ ]*|\((.*)\)[ ]*)?$""", ("]:",)),
}


class PrefilteredBlockParser(BlockParser):
    """BlockParser, skipping a block processor for a block that holds none of its triggers."""

    _pairs: list[tuple[Any, Trigger | None]] | None = None

    def _prepare(self) -> None:
        self._pairs = []
        for item in self.blockprocessors._priority:
            processor = self.blockprocessors[item.name]
            expected = BLOCK_TRIGGERS.get(item.name)
            compiled = getattr(processor, "SEARCH_RE" if item.name == "hr" else "RE", None)
            same = expected is not None and getattr(compiled, "pattern", None) == expected[0]
            self._pairs.append((processor, _trigger(expected[1]) if same else None))

    def parseBlocks(self, parent: Any, blocks: list[str]) -> None:  # noqa: N802 - Python-Markdown's name
        if self._pairs is None or len(self._pairs) != len(self.blockprocessors):
            self._prepare()
        pairs = self._pairs
        # The same loop as Python-Markdown's, but for the skip.
        while blocks:
            for processor, need in pairs:
                block = blocks[0]
                if need is not None and (need not in block if type(need) is str else not need.search(block)):
                    continue
                if processor.test(parent, block) and processor.run(parent, blocks) is not False:
                    break


# A fenced code block starts with its fence, as this part of the expression says.
FENCE = r"(?P<fence>^(?:~{3,}|`{3,}))"


class SkippingPreprocessor(Preprocessor):
    """Runs `inner` only on a text holding one of `strings`: given any other,
    `inner` would give back the lines as they came."""

    def __init__(self, inner: Preprocessor, strings: tuple[str, ...]) -> None:
        super().__init__(inner.md)
        self.inner = inner
        # Looked for one by one: on a whole text, an expression with alternatives tries
        # each at every position, from four to a hundred times slower than `in`.
        self.strings = strings

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        return self.inner.run(lines) if any(string in text for string in self.strings) else lines


class _SkippingTreeprocessor(Treeprocessor):
    """A treeprocessor run only for a text holding one of `needs`, which every change it
    makes needs: the tree's texts come from the text (or from the stash, never read).
    Mixed into the processor's own class, as other code reads its attributes."""

    needs: tuple[str, ...] = ()

    def run(self, root: etree.Element) -> etree.Element | None:
        text = "\n".join(self.md.lines)
        return super().run(root) if any(string in text for string in self.needs) else None


class SkippingAttrListTreeprocessor(_SkippingTreeprocessor, AttrListTreeprocessor):
    needs = ("{",)  # every attribute list is in braces


class SkippingUnescapeTreeprocessor(_SkippingTreeprocessor, UnescapeTreeprocessor):
    needs = ("\\",)  # what it unescapes are the placeholders of backslash escapes


# Spaces alone on a line, as NormalizeWhitespace finds them: its expression looks
# behind at every position of the text, a twentieth of the conversion of a practice.
BLANK_LINE_SPACES_RE = re.compile(r"(?<=\n) +\n")


class QuickNormalizeWhitespace(NormalizeWhitespace):
    """NormalizeWhitespace, not looking for blank lines' spaces in a text without " \\n"."""

    def run(self, lines: list[str]) -> list[str]:
        # Python-Markdown's steps, in its order.
        source = "\n".join(lines)
        source = source.replace(util.STX, "").replace(util.ETX, "")
        source = source.replace("\r\n", "\n").replace("\r", "\n") + "\n\n"
        source = source.expandtabs(self.md.tab_length)
        if " \n" in source:  # in every match
            source = BLANK_LINE_SPACES_RE.sub("\n", source)
        return source.split("\n")


class ListlessTocTreeprocessor(TocTreeprocessor):
    """The table of contents' treeprocessor, making the table only for a text with its marker.

    The headings get their ids as before. Without a marker in the text, the
    table (a list of every heading, serialised and run through every
    postprocessor) would only be kept in the unused `toc` attribute, which
    is left empty instead.
    """

    _wanted = True

    def run(self, doc: etree.Element) -> None:
        marker = self.marker
        self._wanted = bool(marker) and marker in "\n".join(self.md.lines)
        if not self._wanted:
            self.marker = ""  # nothing to replace: not looked for
        try:
            super().run(doc)
        finally:
            self.marker = marker
        if not self._wanted:
            self.md.toc = ""

    def build_toc_div(self, toc_list: list) -> etree.Element:
        if self._wanted:
            return super().build_toc_div(toc_list)
        return etree.Element("div")


# Processors given a faster class of their own, when theirs is exactly the one known.
QUICKER_CLASSES: dict[type, type] = {
    NormalizeWhitespace: QuickNormalizeWhitespace,
    AttrListTreeprocessor: SkippingAttrListTreeprocessor,
    UnescapeTreeprocessor: SkippingUnescapeTreeprocessor,
    TocTreeprocessor: ListlessTocTreeprocessor,
}


def install(converter: Markdown) -> None:
    """Make a converter skip, as above, what cannot change a text's HTML."""
    priority = next(item.priority for item in converter.treeprocessors._priority if item.name == "inline")
    converter.treeprocessors.register(PrefilteredInlineProcessor(converter), "inline", priority)
    converter.parser.__class__ = PrefilteredBlockParser  # the same parser, only faster
    for item in list(converter.preprocessors._priority):  # a copy: registering changes it
        processor = converter.preprocessors[item.name]
        if type(processor) is HtmlBlockPreprocessor:  # raw HTML starts with "<"; "&" is an entity
            strings = ("<", "&")
        elif FENCE in getattr(getattr(processor, "FENCED_BLOCK_RE", None), "pattern", ""):
            strings = ("~~~", "```")
        else:
            continue
        converter.preprocessors.register(SkippingPreprocessor(processor, strings), item.name, item.priority)
    for processor in [*converter.preprocessors, *converter.treeprocessors]:
        quicker = QUICKER_CLASSES.get(type(processor))
        if quicker is not None:  # the same processor, only faster
            processor.__class__ = quicker
