"""Any front matter and any Markdown: check and build succeed or report errors, never raise."""

from __future__ import annotations

import datetime as dt
import os

import yaml
from conftest import practice_text, write_site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3site.builder import build, check
from s3site.errors import SiteError
from s3site.fields import PRACTICE_FIELDS

SITE = "title: T\nbase_url: https://example.org/\nsearch: false\nmap: false\n"
FIELD_NAMES = [f.name for f in PRACTICE_FIELDS] + ["location", "city", "unknown_key"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=40), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)),
    st.sampled_from(["FI", "FI1D", "Lapland", "energy", "2018-06", "https://example.org/", "javascript:x",
                     "../../etc/passwd", "", "---", "{", "&a", "*a"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["name", "country", "region", "url", "src", "alt", "x"]), inner, max_size=4)),
    max_leaves=12)
front_matters = st.dictionaries(st.sampled_from(FIELD_NAMES), values, max_size=12)
bodies = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(["## Resources needed", "## Description", "# Title", "* item", "| a | b |", "|---|---|",
                              "[^1]", "[^1]: note", "<script>x</script>", "```", "{: #id }", "> quote", "---",
                              "text", "\"q\" 'q' -- ...", "[x](javascript:y)", "![i](data:x)"]), max_size=12).map("\n".join),
)


@st.composite
def practice_files(draw) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:  # arbitrary text where front matter should be
        return ("---\n" + draw(st.text(max_size=200)) + "\n---\n" + draw(bodies)).encode("utf-8", "surrogatepass")
    if kind == 1:  # arbitrary bytes
        return draw(st.binary(max_size=200))
    data = draw(front_matters)
    if kind == 3:  # a valid practice with some fields replaced
        base = yaml.safe_load(practice_text().split("---")[1])
        base.update(data)
        data = base
    front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n{draw(bodies)}".encode("utf-8", "surrogatepass")


def _site(tmp_path_factory, data: bytes):
    root = write_site(tmp_path_factory.mktemp("fuzz") / "site", {}, site=SITE)
    (root / "content/practices/fuzz.md").write_bytes(data)
    (root / "content/practices/ok.md").write_text(practice_text())
    return root


EXAMPLES = int(os.environ.get("S3SITE_FUZZ_EXAMPLES", "2000"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=practice_files())
def test_check_never_raises(tmp_path_factory, data):
    root = _site(tmp_path_factory, data)
    try:
        check(root)
    except SiteError as exc:
        assert exc.errors, "a failed check must name at least one error"
        for diagnostic in exc.errors:
            assert diagnostic.path and diagnostic.message


@settings(max_examples=max(EXAMPLES // 10, 20), deadline=None, suppress_health_check=list(HealthCheck))
@given(data=practice_files())
def test_build_never_raises(tmp_path_factory, data):
    root = _site(tmp_path_factory, data)
    try:
        result = build(root, workers=1)
    except SiteError as exc:
        assert exc.errors
        assert not (root / "output").exists()
    else:
        assert (root / "output/index.html").is_file()
        assert result.practices >= 1
