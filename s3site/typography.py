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


def smarten(html: str) -> str:
    """Replace straight quotes, -- and ... in an HTML fragment's text."""
    if not any(c in html for c in "'\"-.&"):
        return html
    parts = TAG_RE.split(html)
    verbatim_depth = 0
    previous = " "  # the character before the current text, across tags
    for i, part in enumerate(parts):
        if i % 2:  # a tag
            name = part[1:].lstrip("/").split(None, 1)[0].rstrip(">").lower() if len(part) > 2 else ""
            if name in VERBATIM:
                verbatim_depth += -1 if part.startswith("</") else 1
                verbatim_depth = max(verbatim_depth, 0)
            elif name in ("p", "li", "td", "th", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt"):
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
