"""Smart punctuation: typography.smarten() on rendered HTML."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from s3site import typography


def curled_char_by_char(text: str, previous: str) -> str:
    """The rule, one character at a time: a quote opens after a space, a bracket or a dash."""
    text = text.replace("&quot;", '"').replace("&#39;", "'").replace("&#x27;", "'")
    text = typography.DASHES_RE.sub(lambda m: typography.DASHES[m.group(0)], text)
    text = typography.DECADE_RE.sub("\u2019", text)
    out, before = [], previous
    for char in text:
        if char in "\"'":
            opening = before in typography.OPENING_CONTEXT
            char = ("\u201c" if opening else "\u201d") if char == '"' else ("\u2018" if opening else "\u2019")
        out.append(char)
        before = char
    return "".join(out)


@settings(max_examples=300)
@given(text=st.lists(st.sampled_from([*"ab 9s'\"-.([/\u00a0\n", "&quot;", "&#39;", "90s"]), max_size=40).map("".join),
       previous=st.sampled_from([" ", "a", "(", "'", "\u2014"]))
def test_quotes_are_curled_as_the_rule_says(text, previous):
    assert typography._smarten_text(text, previous) == curled_char_by_char(text, previous)


def test_smarten_examples():
    html = "<p>She said \"it's the '90s\" -- and left...</p><code>\"as 'written'\"</code>"
    assert typography.smarten(html) == (
        "<p>She said \u201cit\u2019s the \u201990s\u201d \u2013 and left\u2026</p>"
        "<code>\"as 'written'\"</code>"
    )
    assert typography.smarten('<p>(\'a\') <em>"b"</em></p>') == (
        "<p>(\u2018a\u2019) <em>\u201cb\u201d</em></p>"
    )


def smarten_tag_by_tag(html: str) -> str:
    """smarten() as first written: every tag read, verbatim text tracked all the way."""
    if not any(c in html for c in "'\"-.&"):
        return html
    return typography._smarten_around_verbatim(typography.TAG_RE.split(html))


HTML_PIECES = st.sampled_from([
    *"ab 9'\"-.(\n", "...", "--", "&quot;", "&#39;", "90s", "<p>", "</p>", "<em>", "</em>", "<br>", "<br/>",
    "<li>", "</li>", "<h2 id=\"x\">", "</h2>", '<a href="it\'s">', "</a>", "<code>", "</code>", "<CODE>",
    "<pre>", "</pre>", "<code class='x'>", "<kbd>", "</kbd>", "<codex>", "<", ">", "<td>",
])


@settings(max_examples=500)
@given(st.lists(HTML_PIECES, max_size=30).map("".join))
def test_smarten_reads_only_the_tags_it_needs_and_gives_the_same(html):
    assert typography.smarten(html) == smarten_tag_by_tag(html)
