"""The benchmark corpus generator (benchmarks/generate.py): deterministic, valid, equivalent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import load_benchmark_module

from s3site.cli import main

N = 20


generate = load_benchmark_module("generate.py", "bench_generate")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    generate.write_corpus(out, N, 42)
    return out


def test_same_seed_gives_the_same_bytes(corpus, tmp_path):
    generate.write_corpus(tmp_path / "again", N, 42)
    assert tree(tmp_path / "again") == tree(corpus)
    generate.write_corpus(tmp_path / "other", N, 7)
    assert tree(tmp_path / "other") != tree(corpus)


def test_a_smaller_corpus_is_a_prefix_of_a_larger_one(corpus, tmp_path):
    generate.write_corpus(tmp_path / "small", 5, 42)
    small = tree(tmp_path / "small" / "s3site" / "content" / "practices")
    large = tree(corpus / "s3site" / "content" / "practices")
    assert len(small) == 5
    assert all(large[name] == data for name, data in small.items())


def test_the_s3site_tree_is_valid_content(corpus, capsys):
    status = main(["check", "--root", str(corpus / "s3site")])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert f"OK: {N} practices, 12 themes" in captured.out
    assert captured.err == ""  # not even a warning


def test_practices_look_like_the_content_format(corpus):
    words = []
    for path in sorted((corpus / "s3site" / "content" / "practices").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        front, body = text.split("\n---\n", 1)
        assert re.search(r"^themes: \[[a-z-]+(, [a-z-]+){0,2}\]$", front, re.M)
        assert re.search(r"^  region: [A-Z]{2}[0-9A-Z]{2}$", front, re.M)  # a NUTS 2 code
        for heading in generate.SECTION_TITLES:
            assert f"\n## {heading}\n" in body
        assert "\n- " in body and "](https://" in body  # a list and a link
        words.append(len(body.split()))
    assert 500 <= sum(words) / len(words) <= 700


def test_the_regions_are_real_nuts_2_regions_of_30_countries():
    registry = generate.load_registry()
    assert len(registry.countries) == 30
    assert 240 <= len(registry.nuts2) <= 260
    assert {r.country for r in registry.nuts2} == set(generate.COUNTRIES)


def test_hugo_and_pelican_trees_hold_the_same_practices(corpus):
    s3site = sorted(p.stem for p in (corpus / "s3site" / "content" / "practices").glob("*.md"))
    hugo = sorted(p.stem for p in (corpus / "hugo" / "content" / "practices").glob("*.md")
                  if p.name != "_index.md")
    pelican = sorted(p.stem for p in (corpus / "pelican" / "content").glob("*.md"))
    assert len(s3site) == N
    assert hugo == s3site == pelican
    assert (corpus / "hugo" / "hugo.toml").is_file()
    assert (corpus / "pelican" / "pelicanconf.py").is_file()
    for name in ("baseof.html", "single.html", "list.html", "taxonomy.html", "term.html"):
        assert (corpus / "hugo" / "layouts" / name).is_file()


def test_hugo_and_pelican_get_the_same_taxonomies(corpus):
    slug = sorted((corpus / "s3site" / "content" / "practices").glob("*.md"))[0].stem
    s3 = (corpus / "s3site" / "content" / "practices" / f"{slug}.md").read_text(encoding="utf-8")
    hugo = (corpus / "hugo" / "content" / "practices" / f"{slug}.md").read_text(encoding="utf-8")
    pelican = (corpus / "pelican" / "content" / f"{slug}.md").read_text(encoding="utf-8")
    themes = re.search(r"^themes: \[(.*)\]$", s3, re.M).group(1).split(", ")
    region = re.search(r"^  region: (\S+)$", s3, re.M).group(1)
    assert re.search(r"^themes: \[(.*)\]$", hugo, re.M).group(1).split(", ") == themes
    assert region in re.search(r"^regions: \[(.*)\]$", hugo, re.M).group(1).split(", ")
    assert re.search(r"^countries: \[.+\]$", hugo, re.M)
    tags = re.search(r"^Tags: (.*)$", pelican, re.M).group(1)
    assert f"Region: {region} " in tags and "Country: " in tags
    assert tags.count("Theme: ") == len(themes)
    assert s3.split("\n---\n", 1)[1] == hugo.split("\n---\n", 1)[1]  # the same Markdown body
