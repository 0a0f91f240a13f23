"""Practices' texts: kept apart in the build cache, fetched only where shown, never lost."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import practice_text
from test_incremental import SITE, clean_build, tree

from s3site import texts
from s3site.builder import build
from s3site.cache import decode
from s3site.model import PracticeText
from s3site.render import PACKAGE_TEMPLATES
from s3site.texts import CachedText

# Feeds of one entry: of the oldest practices' texts, no page but their own shows any.
ONE_ENTRY_FEEDS = SITE + "feed_items: 1\n"
PAGE_TEMPLATE = ("{% extends 'base.html' %}{% block main %}<h1>{{ practice.title }}</h1>"
                 "{{ practice.description_html | safe }}{% for s in practice.sections %}{{ s.html | safe }}"
                 "{% endfor %}<!-- VERSION -->{% endblock %}")


@pytest.fixture
def fetched(monkeypatch) -> list[list[str]]:
    """The keys of each query that fetches texts from the cache, in this process."""
    queries: list[list[str]] = []
    real = texts.CacheReader.entries
    monkeypatch.setattr(texts.CacheReader, "entries",
                        lambda self, keys: queries.append(sorted(keys)) or real(self, keys))
    return queries


def practices(count: int) -> dict[str, str]:
    return {f"p{i}.md": practice_text(title=f"P{i}", start=f"201{i}-01",
                                      body=f"Text of P{i}.\n\n## Evidence of success\n\nShown {i}.\n")
            for i in range(count)}


def text_rows(root: Path) -> list[str]:
    """The keys of the texts the cache holds."""
    with sqlite3.connect(root / ".s3site-cache/parse.sqlite") as db:
        rows = db.execute("SELECT key, entry FROM parsed").fetchall()
    return [key for key, entry in rows if isinstance(decode(entry), PracticeText)]


def test_a_rebuild_fetches_only_the_texts_it_shows(make_site, fetched, tmp_path):
    # p0 shares no place or theme with the others: none shows it among its related practices
    # (whose pages, index.json and open-data records show them whole).
    elsewhere = {"location": "{country: ES}", "themes": "[energy]"}
    root = make_site({**practices(6), "p0.md": practice_text(title="P0", start="2010-01", **elsewhere)},
                     site=ONE_ENTRY_FEEDS)
    build(root, workers=1)
    assert not fetched  # a first build has every text it made
    (root / "content/practices/p0.md").write_text(
        practice_text(title="P0 renamed", start="2010-01", body="A new text.\n", **elsewhere))
    result = build(root, workers=1)
    # Its lists and the other practices' pages show its card, and the feeds the newest
    # practice: no text of another practice was needed, nor fetched.
    assert not fetched
    loaded = {p.slug: not isinstance(p.text, CachedText) or p.text.loaded for p in result.site.practices}
    assert loaded == {"p0": True, "p1": False, "p2": False, "p3": False, "p4": False, "p5": False}
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_pages_showing_texts_fetch_them_in_one_query(make_site, fetched, tmp_path):
    root = make_site(practices(6), site=SITE, templates={"practice.html": PAGE_TEMPLATE})
    build(root, workers=1)
    (root / "templates/practice.html").write_text(PAGE_TEMPLATE.replace("VERSION", "2"))
    build(root, workers=1)
    # Every practice's page made again: all six texts, in the one query of the one
    # process rendering them.
    assert len(fetched) == 1 and len(fetched[0]) == 6
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_pages_made_in_worker_processes_show_fetched_texts(make_site, tmp_path, monkeypatch):
    from s3site import parallel

    monkeypatch.setattr(parallel, "MIN_ITEMS_FOR_WORKERS", 1)
    root = make_site(practices(6), site=SITE, templates={"practice.html": PAGE_TEMPLATE})
    build(root, workers=2)
    (root / "templates/practice.html").write_text(PAGE_TEMPLATE.replace("VERSION", "2"))
    build(root, workers=2)
    assert "Shown 4." in (root / "output/practices/p4/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.mark.parametrize("loss", ["deleted", "corrupt"])
def test_a_text_the_cache_lost_is_parsed_again(make_site, fetched, tmp_path, caplog, loss):
    root = make_site(practices(4), site=SITE, templates={"practice.html": PAGE_TEMPLATE})
    build(root, workers=1)
    keys = text_rows(root)
    assert len(keys) == 4
    with sqlite3.connect(root / ".s3site-cache/parse.sqlite") as db:
        if loss == "deleted":
            db.executemany("DELETE FROM parsed WHERE key = ?", [(key,) for key in keys])
        else:  # a byte of each changed: its checksum fails
            for key in keys:
                entry = db.execute("SELECT entry FROM parsed WHERE key = ?", (key,)).fetchone()[0]
                db.execute("UPDATE parsed SET entry = ? WHERE key = ?", (entry[:-1] + b"?", key))
    (root / "templates/practice.html").write_text(PAGE_TEMPLATE.replace("VERSION", "2"))
    with caplog.at_level(logging.WARNING, logger="s3site"):
        build(root, workers=1)
    assert caplog.text.count("has lost the text of content/practices/") == 4
    assert tree(root / "output") == clean_build(root, tmp_path)
    # The practices whose texts were lost are parsed again by the next build, and kept again.
    caplog.clear()
    fetched.clear()
    (root / "templates/practice.html").write_text(PAGE_TEMPLATE.replace("VERSION", "3"))
    with caplog.at_level(logging.WARNING, logger="s3site"):
        build(root, workers=1)
    assert "has lost" not in caplog.text and len(text_rows(root)) == 4
    assert not fetched  # every page shows a text made by this build, none fetched


def test_the_preview_keeps_working_when_the_cache_is_deleted(make_site, tmp_path, caplog):
    elsewhere = {"location": "{country: ES}", "themes": "[energy]", "start": "2001-01"}
    root = make_site({**practices(4), "p1.md": practice_text(title="P1", **elsewhere)}, site=ONE_ENTRY_FEEDS)
    build(root, workers=1)
    memory: dict = {}
    (root / "content/practices/p1.md").write_text(practice_text(title="P1 renamed", **elsewhere))
    result = build(root, workers=1, memory=memory)  # the preview's first build: texts from the disk cache
    assert any(isinstance(p.text, CachedText) and not p.text.loaded for p in result.site.practices)
    shutil.rmtree(root / ".s3site-cache")  # "always safe to delete", even while the preview runs
    (root / "content/site.yaml").write_text(ONE_ENTRY_FEEDS.replace("title: T", "title: Renamed"))  # every page
    with caplog.at_level(logging.WARNING, logger="s3site"):
        build(root, workers=1, memory=memory)
    assert caplog.text.count("has lost the text of content/practices/") == 3  # all but p1's
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_a_text_is_stored_once_for_all_practices_holding_it(make_site):
    same = "The same words.\n"
    root = make_site({"a.md": practice_text(title="A", body=same), "b.md": practice_text(title="B", body=same),
                      "c.md": practice_text(title="C", body="Other words.\n")}, site=SITE)
    build(root, workers=1)
    assert len(text_rows(root)) == 2


def test_a_broken_site_file_after_a_build_is_reported_not_a_crash(make_site):
    # In a new process, as from the command line: no text has been fetched, nor can be
    # parsed again (with no settings, nothing resolves). None is needed to report the error.
    import subprocess
    import sys

    root = make_site({"a.md": practice_text(), "b.md": practice_text(title="B")}, site=SITE)
    build(root, workers=1)
    (root / "content/site.yaml").write_text("title: [unclosed\n")
    done = subprocess.run([sys.executable, "-m", "s3site", "build", "--root", str(root)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "content/site.yaml:2:1: error: invalid YAML" in done.stderr and "internal error" not in done.stderr
    assert "lost the text" not in done.stderr


def test_practices_resolved_again_fetch_their_texts_in_one_query(make_site, fetched, tmp_path):
    root = make_site(practices(5), site=SITE)
    build(root, workers=1)
    themes = root / "content/themes.yaml"
    themes.write_text(themes.read_text() + "- id: transport\n  title: Transport\n")  # every practice resolves again
    build(root, workers=1)
    assert len(fetched) == 1 and len(fetched[0]) == 5
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_cards_showing_texts_fetch_them_all_at_once(make_site, fetched, tmp_path):
    card = "<li>{{ item.title }}: {{ item.description_html | safe }}</li>\n"
    root = make_site(practices(6), site=SITE, templates={"partials/card.html": card})
    build(root, workers=1)
    (root / "templates/partials/card.html").write_text(card.replace("<li>", "<li class='x'>"))
    build(root, workers=1)
    # Every list shows texts: the one process rendering fetched them all in one query.
    assert len(fetched) == 1 and len(fetched[0]) == 6
    assert "Text of P5." in (root / "output/themes/social-economy/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


@pytest.fixture
def no_text_budget(monkeypatch) -> None:
    """A process keeps no text it can fetch again: as at 100,000 practices, at once."""
    monkeypatch.setattr(texts, "TEXT_BUDGET", 0)


def test_over_its_budget_a_first_build_keeps_no_text_it_has_stored(make_site, fetched, tmp_path, monkeypatch,
                                                                  no_text_budget):
    from s3site import parallel

    monkeypatch.setattr(parallel, "MIN_ITEMS_FOR_WORKERS", 1)
    root = make_site(practices(6), site=SITE)
    result = build(root, workers=2)  # parsed and rendered by two workers each time
    assert all(type(p.text) is CachedText and not p.text.loaded for p in result.site.practices)
    assert texts.STORE.held == 0
    assert not fetched  # nothing in this process read a text once let go
    assert "Shown 4." in (root / "output/practices/p4/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)
    # Each worker fetches the texts of the pages it makes, and lets them go.
    (root / "templates").mkdir()
    (root / "templates/practice.html").write_text(PAGE_TEMPLATE)
    build(root, workers=2)
    assert "Shown 4." in (root / "output/practices/p4/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_within_its_budget_a_first_build_keeps_every_text(make_site, fetched):
    result = build(make_site(practices(3), site=SITE), workers=1)
    assert all(type(p.text) is CachedText and p.text.loaded for p in result.site.practices)
    assert not fetched


def test_over_its_budget_a_build_lets_go_of_the_texts_it_fetched(make_site, fetched, tmp_path, no_text_budget):
    root = make_site(practices(4), site=SITE)
    build(root, workers=1)
    fetched.clear()
    base = (PACKAGE_TEMPLATES / "base.html").read_text()
    (root / "templates").mkdir()
    (root / "templates/base.html").write_text(base + "<!-- every page made again -->")
    result = build(root, workers=1)
    assert len(fetched) == 1 and len(fetched[0]) == 4  # for the practices' pages and index.json
    assert not any(p.text.loaded for p in result.site.practices)  # then let go
    # Read again, a text is fetched again, the same.
    again = next(p.text for p in result.site.practices if p.slug == "p2")
    assert again.description_html == "<p>Text of P2.</p>" and again.loaded and len(fetched) == 2
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_the_preview_keeps_the_texts_it_reads_whatever_the_budget(make_site, no_text_budget):
    # Its pages are rendered by other threads too, which may be reading any text.
    root = make_site(practices(4), site=SITE, templates={"practice.html": PAGE_TEMPLATE})
    memory: dict = {}
    result = build(root, workers=1, memory=memory)
    assert all(p.text.loaded for p in result.site.practices)
    (root / "templates/practice.html").write_text(PAGE_TEMPLATE.replace("VERSION", "2"))
    result = build(root, workers=1, memory=memory)
    assert all(p.text.loaded for p in result.site.practices)


class _FullDisk:
    """A cache database on a disk that has just filled up: every statement fails."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, *args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    executemany = execute

    def close(self) -> None:
        self.db.close()


def test_a_cache_failing_midway_still_gives_the_texts_let_go(make_site, tmp_path, caplog, monkeypatch,
                                                             no_text_budget):
    # The disk fills (or another build of the site locks the cache) once the first texts
    # are stored and let go: the build goes on without the cache, and reads them back.
    from s3site import sources
    from s3site.cache import ParseCache

    monkeypatch.setattr(sources, "STORE_BATCH", 4)
    real, calls = ParseCache.store_many, []

    def store_many(self, entries):
        calls.append(len(entries))
        if len(calls) == 2:
            self._db = _FullDisk(self._db)
        return real(self, entries)

    monkeypatch.setattr(ParseCache, "store_many", store_many)
    root = make_site(practices(6), site=SITE)
    with caplog.at_level(logging.WARNING, logger="s3site"):
        build(root, workers=1)
    assert "database or disk is full" in caplog.text and "has lost" not in caplog.text
    assert (root / ".s3site-cache/parse.sqlite").exists()  # not deleted: it holds the texts
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_over_its_budget_a_page_template_showing_texts_fetches_only_those_it_shows(
        make_site, fetched, tmp_path, no_text_budget):
    # An overridden practice.html may show any practice's text: within the budget every text
    # is fetched at once (see test_pages_showing_texts_fetch_them_in_one_query); over it, only
    # those of the pages made. p0 shares no place or theme with the others, so only its own
    # page shows it whole.
    elsewhere = {"location": "{country: ES}", "themes": "[energy]"}
    root = make_site({**practices(6), "p0.md": practice_text(title="P0", start="2010-01", **elsewhere)},
                     site=ONE_ENTRY_FEEDS, templates={"practice.html": PAGE_TEMPLATE})
    build(root, workers=1)
    fetched.clear()
    (root / "content/practices/p0.md").write_text(
        practice_text(title="P0", start="2010-01", body="Text of P0, edited.\n", **elsewhere))
    result = build(root, workers=1)
    p0 = next(p for p in result.site.practices if p.slug == "p0")
    assert fetched == [[p0.text.key]]  # stored and let go as it was made, then shown
    assert not any(p.text.loaded for p in result.site.practices)
    assert "Text of P0, edited." in (root / "output/practices/p0/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def test_over_its_budget_cards_showing_texts_fetch_them_as_they_are_read(make_site, fetched, tmp_path,
                                                                         no_text_budget):
    card = "<li>{{ item.title }}: {{ item.description_html | safe }}</li>\n"
    root = make_site(practices(6), site=SITE, templates={"partials/card.html": card})
    build(root, workers=1)
    (root / "templates/partials/card.html").write_text(card.replace("<li>", "<li class='x'>"))
    fetched.clear()
    result = build(root, workers=1)
    assert fetched  # read by the lists, then let go
    assert not any(p.text.loaded for p in result.site.practices)
    assert "Text of P5." in (root / "output/themes/social-economy/index.html").read_text()
    assert tree(root / "output") == clean_build(root, tmp_path)


def _store_with(root: Path, entries: dict[str, bytes]) -> texts.TextStore:
    """A text store reading a cache that holds these entries."""
    from s3site.cache import ParseCache

    cache = ParseCache(root)
    assert cache.store_many(list(entries.items()))
    cache.close()
    store = texts.TextStore()
    store.use(root, reparse=lambda source: PracticeText())
    return store


def test_texts_fit_in_the_budget_counting_each_practice_that_shares_one(tmp_path, monkeypatch):
    store = _store_with(tmp_path, {"a": b"x" * 100, "b": b"x" * 50})
    shared = [CachedText("a"), CachedText("a"), CachedText("b")]  # two practices, one text
    monkeypatch.setattr(texts, "TEXT_BUDGET", 250)
    assert store.fit(shared)
    monkeypatch.setattr(texts, "TEXT_BUDGET", 249)
    assert not store.fit(shared)
    assert store.fit(shared[2:])
    store.held = 200  # what this process holds already counts too
    assert not store.fit(shared[2:])
    store.close()


def test_texts_do_not_fit_when_the_cache_cannot_tell(tmp_path):
    # They would be parsed again, one by one, and kept: better fetched only where shown.
    store = texts.TextStore()
    store.use(tmp_path / "no-cache-here", reparse=lambda source: PracticeText())
    assert not store.fit([CachedText("a")])
    assert store.fit([])
    store.close()


def test_the_open_data_files_fetch_no_text_whatever_the_templates_show(make_site, fetched, monkeypatch):
    # They copy each practice's record from its index.json: the build's own process, which
    # makes them, need not fetch every text even when any page may show any.
    from s3site import parallel

    monkeypatch.setattr(parallel, "MIN_ITEMS_FOR_WORKERS", 1)
    root = make_site(practices(6), site=SITE, templates={"practice.html": PAGE_TEMPLATE})
    build(root, workers=2)
    (root / "templates/practice.html").write_text(PAGE_TEMPLATE.replace("VERSION", "2"))
    p3 = root / "content/practices/p3.md"
    p3.write_text(p3.read_text().replace("summary: ", "summary: Now "))  # in the open data
    fetched.clear()
    result = build(root, workers=2)
    assert {"practices.json", "practices.csv"} <= set(result.changed)
    assert result.rendered > 6 and not fetched  # the pages, made by the workers, fetched theirs
    assert "Shown 4." in (root / "output/practices/p4/index.html").read_text()


def test_over_its_budget_a_text_is_fetched_once_for_its_page_and_its_record(make_site, tmp_path, monkeypatch,
                                                                           no_text_budget):
    # Made in one chunk of work, the two files of a practice's folder need its text once:
    # in different chunks (as at first), each fetched it, and let it go.
    from s3site import parallel

    monkeypatch.setattr(parallel, "MIN_ITEMS_FOR_WORKERS", 1)
    log = tmp_path / "fetched.txt"
    real = texts.CacheReader.entries

    def entries(self, keys):
        keys = list(keys)
        with log.open("a") as out:  # from every worker process
            out.write("".join(f"{key}\n" for key in keys))
        return real(self, keys)

    monkeypatch.setattr(texts.CacheReader, "entries", entries)
    root = make_site(practices(6), site=ONE_ENTRY_FEEDS)
    result = build(root, workers=2)
    by_slug = {p.slug: p.text.key for p in result.site.practices}
    counts = log.read_text().split()
    # Every feed shows the newest practice alone (p5); no other page shows an older one's text.
    assert [counts.count(by_slug[f"p{i}"]) for i in range(5)] == [1] * 5
    assert tree(root / "output") == clean_build(root, tmp_path)
