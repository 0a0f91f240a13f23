"""The quick ways of reading source files and front matter and of writing open data give what the slow ways give."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from s3site import yamlio
from s3site.yamlio import Loader, YamlError, load_yaml


def loader_data(text: str):
    """The loader's own construction: what load_yaml must equal."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is the safe loader


TRICKY = [
    "title: x\npublished: 2020-03-08\nstart: 2020-05\ncount: 12\nratio: 1.5\nnone: ~\nflag: true\ncode: NO\n",
    "a: 0x1F\nb: 0o17\nc: 1_000\nd: 1:20\ne: .inf\nf: 2001-12-14t21:59:43.10-05:00\n",
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",  # anchors and merge keys
    "= : value key\n",
    "tagged: !!binary aGVsbG8=\nset: !!set {a, b}\n",
    "omap: !!omap [a: 1, b: 2]\n",
    "- 1\n- two\n- [3, {four: 4}]\n",
    "just text\n",
    "'quoted: colon'\n",
    "1: one\n2020-01-01: day\ntrue: yes\nnull: nothing\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_plain_construction_equals_the_loaders(text):
    assert load_yaml(text).data == loader_data(text)


def test_plain_documents_take_the_quick_way_and_the_rest_the_loaders(monkeypatch):
    calls = []
    real = Loader.construct_document
    monkeypatch.setattr(Loader, "construct_document", lambda self, node: calls.append(1) or real(self, node))
    assert load_yaml("title: x\npublished: 2020-03-08\nthemes: [a, b]\n").data["published"] == dt.date(2020, 3, 8)
    assert calls == []
    load_yaml("base: &b {x: 1}\nother:\n  <<: *b\n")
    load_yaml("tagged: !!binary aGVsbG8=\n")
    assert calls == [1, 1]


def test_a_list_as_a_key_is_still_an_error_with_a_position():
    with pytest.raises(YamlError, match="unhashable key") as raised:
        load_yaml("title: x\n? [a, b]\n: listed key\n")
    assert raised.value.line == 2


def test_an_unknown_tag_is_still_an_error_with_a_position():
    with pytest.raises(YamlError) as raised:
        load_yaml("title: x\nodd: !python/object:os.system ls\n")
    assert raised.value.line == 2


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.dates(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=12),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.one_of(st.text(max_size=8), st.integers()),
                                                               inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(DATA, st.booleans())
def test_any_dumped_data_reads_back_the_same_as_with_the_loader(data, flow):
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    assert load_yaml(text).data == loader_data(text)


def test_the_quick_constructors_are_the_loaders():
    assert all(Loader.yaml_constructors[tag] is make for tag, make in yamlio._SCALARS.items())
    assert "tag:yaml.org,2002:timestamp" in yamlio._SCALARS


JSON_DATA = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(JSON_DATA)
def test_open_data_json_is_what_the_standard_library_writes(data):
    import json

    from s3site.opendata import dumps

    expected = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
    assert dumps(data) == expected.encode()


@pytest.mark.parametrize("size", [0, 1, 3_500, 65_535, 65_536, 65_537, 300_000])
def test_source_files_are_read_whole(tmp_path, size):
    from s3site.sources import READ_SIZE, read_file

    assert READ_SIZE == 65_536  # the sizes above straddle it
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "p.md"
    path.write_bytes(data)
    assert read_file(str(path)) == data


def test_reading_a_missing_source_fails_as_path_read_bytes_does(tmp_path):
    from s3site.sources import read_file

    with pytest.raises(FileNotFoundError):
        read_file(str(tmp_path / "gone.md"))
    with pytest.raises(IsADirectoryError):
        read_file(str(tmp_path))


def test_dates_loaded_from_the_cache_are_equal_and_each_distinct_one_made_once():
    import pickle

    from s3site.model import PartialDate

    dates = [PartialDate(2018, 6), PartialDate(2018, 6), PartialDate(2020), PartialDate(2020, 1, 31)]
    loaded = pickle.loads(pickle.dumps(dates, protocol=pickle.HIGHEST_PROTOCOL))
    again = pickle.loads(pickle.dumps(dates, protocol=pickle.HIGHEST_PROTOCOL))
    assert loaded == dates and [str(d) for d in loaded] == ["2018-06", "2018-06", "2020", "2020-01-31"]
    assert loaded[0] is loaded[1] is again[0] and loaded[2] is again[2]


def test_starting_a_build_imports_neither_multiprocessing_nor_ctypes():
    # A rebuild after an edit uses neither (too little to share out; a swap loads ctypes itself).
    import subprocess
    import sys

    code = ("import sys, s3site.cli, s3site.builder; "
            "print(sorted(m for m in ('multiprocessing', 'ctypes') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
