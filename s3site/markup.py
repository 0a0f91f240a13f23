"""Markdown to safe HTML, and a practice's text split into its sections.

The whole body is converted in one pass (so footnotes and heading ids are
consistent) and the HTML is then cut at its second-level headings. The
result is sanitised with nh3 unless the site trusts its authors' HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import import_module
from typing import Any

import markdown
import nh3

from . import prefilter
from .model import Section
from .typography import smarten

# Smart quotes are not among these: typography.smarten() does them after
# conversion, for both engines, at a fraction of the "smarty" extension's cost.
MARKDOWN_EXTENSIONS = (
    "tables",
    "attr_list",
    "footnotes",
    "toc",
    "fenced_code",
    "def_list",
    "abbr",
    "sane_lists",
)

KNOWN_SECTIONS = {
    "description": "description",
    "resources needed": "resources_needed",
    "evidence of success": "evidence_of_success",
    "potential for learning or transfer": "potential_for_transfer",
    "potential for learning and transfer": "potential_for_transfer",
    "potential for transfer": "potential_for_transfer",
}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "section", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
    "tr", "u", "ul", "var",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "hreflang"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height", "loading"},
    "ol": {"start", "reversed", "type"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "scope", "style"},
    "time": {"datetime"},
}
URL_SCHEMES = {"http", "https", "mailto"}
URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f]")
SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")

H2_RE = re.compile(r'<h2(?: id="([^"]*)")?[^>]*>(.*?)</h2>\s*', re.DOTALL)
FOOTNOTES_RE = re.compile(
    r'(?:<div class="footnote">.*</div>|<hr class="footnotes-sep">\s*<section class="footnotes">.*</section>)\s*$',
    re.DOTALL,
)
TAG_RE = re.compile(r"<[^>]+>")
IMG_RE = re.compile(r"<img(?![^>]*\bloading=)")


@dataclass(frozen=True, slots=True)
class RenderedBody:
    """A practice's body, cut into its sections."""

    description: str
    known: dict[str, str]  # resources_needed, evidence_of_success, potential_for_transfer
    extra: tuple[Section, ...]
    footnotes: str


ENGINES = ("python-markdown", "markdown-it")


@cache
def _python_markdown() -> markdown.Markdown:
    # One instance per process, reset between documents: building one costs
    # more than converting a typical practice.
    # Extensions given as objects, not names: for a name, Python-Markdown
    # first scans every installed package's entry points, which took half
    # of the time a one-edit rebuild spends parsing.
    configs = {"toc": {"permalink": False}}
    extensions = [import_module(f"markdown.extensions.{name}").makeExtension(**configs.get(name, {}))
                  for name in MARKDOWN_EXTENSIONS]
    converter = markdown.Markdown(extensions=extensions, output_format="html")
    prefilter.install(converter)
    return converter


def _holds(*needles: str) -> Callable[[str], bool]:
    # The first character alone is looked for first: most are rare, and finding one
    # character is much quicker than finding several.
    return lambda text: any(needle[0] in text and needle in text for needle in needles)


# What footnotes ("[^1]", "^[note]") and attribute lists ("{.class}") are written with. A
# text holding none renders the same without their plugins, whose rules otherwise look
# at every line and token (a fifteenth of markdown-it's time for a practice).
markdown_it_extras_needed = _holds("{", "[^", "^[")


# What may stand before a block at the start of a line: indentation, and the markers
# of what it sits in: quotes, list items, definitions (":" and "~") and footnotes ("[^1]:").
CONTAINERS = r"(?:[ \t>*+.):~0-9-]|\[\^[^\]\n]*\]:)*"


def _starts_a_line(pattern: str) -> Callable[[str], bool]:
    # A line start is looked for as the text's start or a "\n", not as "^" in MULTILINE
    # mode: the engine tries "^" at every character, but finds a literal first character
    # as quickly as str.find() does.
    first = re.compile(CONTAINERS + pattern).match
    later = re.compile("\n" + CONTAINERS + pattern).search
    return lambda text: first(text) is not None or later(text) is not None


# markdown-it's rules, each with what a text must hold for it ever to match. A rule is
# tried at every line (block rules) or every special character (inline ones), and most
# texts need few of them: left out where they cannot match, a practice renders the same
# an eighth faster, these checks included. The tests hold each rule to its own syntax.
MARKDOWN_IT_RULE_NEEDS: dict[str, Callable[[str], bool]] = {
    "table": _holds("|"),
    "code": _starts_a_line(r"(?: {4}|\t)"),
    "fence": _holds("```", "~~~"),
    "blockquote": _holds(">"),
    "hr": _starts_a_line(r"([-*_])(?:[ \t]*\1){2}"),
    "reference": _starts_a_line(r"\["),
    "html_block": _holds("<"),
    "heading": _holds("#"),
    "lheading": _starts_a_line(r"(?:=+|-+)[ \t]*(?:\n|\Z)"),
    "deflist": _starts_a_line(r"[:~]"),
    "escape": _holds("\\"),
    "backticks": _holds("`"),
    "emphasis": _holds("*", "_"),
    "link": _holds("["),
    "image": _holds("!["),
    "autolink": _holds("<"),
    "html_inline": _holds("<"),
    "entity": _holds("&"),
}


def render_markdown_it(text: str) -> str:
    """The HTML markdown-it makes of a text, by a parser with only the rules it can use."""
    text = _line_ends_normalized(text)  # first: what the rules need is judged line by line
    with_extras = markdown_it_extras_needed(text)
    unused = frozenset(rule for rule, needs in MARKDOWN_IT_RULE_NEEDS.items() if not needs(text))
    return _markdown_it_renderer(with_extras, unused)(text)


@lru_cache(maxsize=64)  # texts alike in what they use share one: a handful on most sites
def _markdown_it_renderer(with_extras: bool, unused: frozenset[str]) -> Callable[[str], str]:
    parser = _markdown_it_parser(with_extras=with_extras)
    if unused:
        parser.disable(sorted(unused))
    return parser.render


def _markdown_it_parser(*, with_extras: bool) -> Any:
    # Imported here: sites on the default engine never pay for loading it.
    from markdown.extensions.toc import slugify
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.footnote import footnote_plugin

    parser = MarkdownIt("commonmark", {"html": True}).enable("table")
    if with_extras:
        parser.use(footnote_plugin).use(attrs_plugin).use(attrs_block_plugin)
    parser.use(deflist_plugin).use(anchors_plugin, max_level=6, slug_func=lambda text: slugify(text, "-"))
    parser.core.ruler.at("normalize", _normalize_line_ends)
    parser.normalizeLink = _normalized_link(parser.normalizeLink)
    return parser


# Web addresses that markdown-it's link normalising (parsing the address, recoding its host,
# percent-encoding) gives back unchanged: lower-case host names of ASCII letters, digits and
# hyphens, then path segments, a query and a fragment made of characters that need no
# encoding. Most links in practices are such; normalising one costs as much as a paragraph.
# The tests compare this with markdown-it on generated addresses.
PLAIN_WEB_ADDRESS_RE = re.compile(
    r"https?://[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
    r"(?:/[A-Za-z0-9._~-]+)*/?(?:\?[A-Za-z0-9._~=&-]*)?(?:#[A-Za-z0-9._~-]*)?"
)


def _normalized_link(normalize: Callable[[str], str]) -> Callable[[str], str]:
    def normalized(url: str) -> str:
        return url if PLAIN_WEB_ADDRESS_RE.fullmatch(url) else normalize(url)
    return normalized


def _normalize_line_ends(state: Any) -> None:
    """markdown-it's first rule without its expressions: its own replaces every "\\n" of
    a text with itself, 4 % of the time a practice takes."""
    state.src = _line_ends_normalized(state.src)


def _line_ends_normalized(text: str) -> str:
    """Line ends as "\\n", and NUL as U+FFFD, as markdown-it wants them."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in text:
        text = text.replace("\0", "\ufffd")
    return text


def to_html(text: str, *, trust_html: bool = False, engine: str = "python-markdown") -> str:
    """Convert Markdown to HTML, sanitised unless the site trusts raw HTML."""
    if engine == "markdown-it":
        result = render_markdown_it(text)
    else:
        converter = _python_markdown()
        converter.reset()
        result = converter.convert(text)
    result = smarten(result)
    return result if trust_html else sanitise(result)


def _check_url(element: str, attribute: str, value: str) -> str | None:
    # Browsers drop tabs, newlines and control characters from URLs, so
    # "java\tscript:" is "javascript:" to them: judge the URL as they read it.
    if attribute not in ("href", "src"):
        return value
    compact = URL_NOISE_RE.sub("", value)
    scheme = SCHEME_RE.match(compact)
    if scheme and scheme.group(1).lower() not in URL_SCHEMES:
        return None
    return compact if compact != value else value


# Made once: nh3.clean() builds its sanitiser again on every call (a third of its time).
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel="noopener noreferrer",
    strip_comments=True,
    attribute_filter=_check_url,
)


def sanitise(fragment: str) -> str:
    """Keep only harmless tags, attributes and URL schemes."""
    cleaned = _CLEANER.clean(fragment)
    # Images in the text load lazily: a long page stays quick to open.
    return IMG_RE.sub('<img loading="lazy"', cleaned)


def plain_text(fragment: str) -> str:
    """The readable text of an HTML fragment, on one line."""
    return " ".join(html.unescape(TAG_RE.sub(" ", fragment)).split())


def split_body(body: str, *, trust_html: bool = False, engine: str = "python-markdown") -> RenderedBody:
    """Render a practice body and cut it at second-level headings."""
    rendered = to_html(body, trust_html=trust_html, engine=engine)
    footnotes = ""
    match = FOOTNOTES_RE.search(rendered)
    if match:
        footnotes = match.group(0).strip()
        rendered = rendered[: match.start()]
    chunks = H2_RE.split(rendered)
    # split() with two groups gives: lead, id, title, content, id, title, content, ...
    description = chunks[0].strip()
    known: dict[str, str] = {}
    extra: list[Section] = []
    for i in range(1, len(chunks), 3):
        anchor, title_html, content = chunks[i] or "", chunks[i + 1], chunks[i + 2].strip()
        title = plain_text(title_html)
        key = KNOWN_SECTIONS.get(title.lower().rstrip(":").strip())
        if key == "description" and not description:
            description = content
        elif key and key != "description" and key not in known:
            known[key] = content
        else:
            extra.append(Section(title, anchor or f"section-{len(extra) + 1}", content))
    return RenderedBody(description, known, tuple(extra), footnotes)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Split "---\\nyaml\\n---\\nbody" into (yaml, body, line where the body starts).

    Returns yaml=None when the text has no front matter at all; raises
    ValueError when the opening '---' is never closed.
    """
    if not (text.startswith("---\n") or text == "---"):
        return None, text, 1
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
    if end is None:
        raise ValueError("the front matter opened by '---' on line 1 is never closed by '---'")
    front = text[4 : 4 + end.start()]
    body_start = 4 + end.end()
    body = text[body_start:].lstrip("\n")
    body_line = text.count("\n", 0, len(text) - len(body)) + 1
    return front, body, body_line
