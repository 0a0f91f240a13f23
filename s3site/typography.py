"""Smart punctuation for rendered HTML: curly quotes, dashes and ellipses.

Python-Markdown's "smarty" extension does this inside the inline parser and
doubles the cost of converting a practice; doing it afterwards, on the text
between tags, gives the same typography for a fraction of the time. Text
inside code, pre, kbd, samp, script and style is left as written.
"""

from __future__ import annotations

import re

TAG_RE = re.compile(r"(<[^>]*>)")
VERBATIM = ("code", "pre", "kbd", "samp", "script", "style")
OPENING_CONTEXT = " \t\n([{\u2013\u2014-/\u00a0"

DASHES_RE = re.compile(r"---|--|\.\.\.")
DASHES = {"---": "\u2014", "--": "\u2013", "...": "\u2026"}
DECADE_RE = re.compile(r"'(?=\d\ds\b)")
QUOTE_RE = re.compile("[\"']")


# Tags after which text starts afresh: a quote there opens.
BLOCK_TAGS = frozenset(("p", "li", "td", "th", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt"))
# Any tag _tag_name() could read as a verbatim one (and more: this only decides the way).
MAYBE_VERBATIM_RE = re.compile(r"</*(?:code|pre|kbd|samp|script|style)")


def _tag_name(tag: str) -> str:
    return tag[1:].lstrip("/").split(None, 1)[0].rstrip(">").lower() if len(tag) > 2 else ""


def smarten(html: str) -> str:
    """Replace straight quotes, -- and ... in an HTML fragment's text."""
    if not any(c in html for c in "'\"-.&"):
        return html
    parts = TAG_RE.split(html)
    if MAYBE_VERBATIM_RE.search(html.lower()):
        return _smarten_around_verbatim(parts)
    # No verbatim text: only a text opening with a quote needs to know what came before it.
    for i in range(0, len(parts), 2):
        part = parts[i]
        if part:
            parts[i] = _smarten_text(part, _before(parts, i) if part[0] in "'\"&" else " ")
    return "".join(parts)


def _before(parts: list[str], i: int) -> str:
    """The character before text parts[i]: the last of the text before it, or a space after a
    block tag or at the start."""
    for j in range(i - 1, -1, -1):
        if j % 2:
            if _tag_name(parts[j]) in BLOCK_TAGS:
                return " "
        elif parts[j]:
            return parts[j][-1]
    return " "


def _smarten_around_verbatim(parts: list[str]) -> str:
    """smarten() for a fragment with code, pre, kbd, samp, script or style: their text is left."""
    verbatim_depth = 0
    previous = " "  # the character before the current text, across tags
    for i, part in enumerate(parts):
        if i % 2:  # a tag
            name = _tag_name(part)
            if name in VERBATIM:
                verbatim_depth += -1 if part.startswith("</") else 1
                verbatim_depth = max(verbatim_depth, 0)
            elif name in BLOCK_TAGS:
                previous = " "
            continue
        if not part or verbatim_depth:
            if part:
                previous = part[-1]
            continue
        parts[i] = _smarten_text(part, previous)
        previous = part[-1]
    return "".join(parts)


def _smarten_text(text: str, previous: str) -> str:
    # markdown-it writes quotes in text as entities; they are the same characters.
    if "&" in text:
        text = text.replace("&quot;", '"').replace("&#39;", "'").replace("&#x27;", "'")
    if "--" in text or "..." in text:
        text = DASHES_RE.sub(lambda m: DASHES[m.group(0)], text)
    if "'" in text:
        text = DECADE_RE.sub("\u2019", text)
    if "'" not in text and '"' not in text:
        return text

    def curl(match: re.Match) -> str:
        # The character before, as written: a quote before a quote is
        # curled too, and neither form opens.
        at = match.start()
        opening = (text[at - 1] if at else previous) in OPENING_CONTEXT
        if match.group(0) == '"':
            return "\u201c" if opening else "\u201d"
        return "\u2018" if opening else "\u2019"

    return QUOTE_RE.sub(curl, text)
