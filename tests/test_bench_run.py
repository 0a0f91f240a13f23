"""The benchmark's cold-build set-up (benchmarks/run.py): outputs are put aside, not deleted."""

from __future__ import annotations

import os
import sys
from collections import namedtuple
from pathlib import Path

from conftest import load_benchmark_module

run = load_benchmark_module("run.py", "bench_run")


def _bench(work: Path, n: int = 10) -> run.Bench:
    corpus = work / "corpus"
    (corpus / "s3site" / "content").mkdir(parents=True)
    return run.Bench(n=n, seed=42, reps=1, corpus=corpus, outputs=work / "out", logs=work / "logs",
                     python=Path(sys.executable), hugo=["hugo"], env={}, run_timeout=None,
                     pelican_timeout=None)


def _s3site_leftovers(bench: run.Bench, text: str) -> None:
    """What an s3site build leaves: its output, its spare folder and its cache."""
    for folder in (bench.output("s3site"), bench.outputs / ".s3site.s3site-spare",
                   bench.s3site_root / ".s3site-cache"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(text)


def test_a_cold_build_finds_no_output_spare_or_cache_and_nothing_is_deleted(tmp_path):
    bench = _bench(tmp_path)
    _s3site_leftovers(bench, "first")
    bench.clean("s3site")
    assert not bench.output("s3site").exists()
    assert not (bench.outputs / ".s3site.s3site-spare").exists()
    assert not (bench.s3site_root / ".s3site-cache").exists()
    _s3site_leftovers(bench, "second")
    bench.clean("s3site")
    kept = sorted(p.read_text() for p in bench.trash.rglob("index.html"))
    assert kept == ["first"] * 3 + ["second"] * 3
    assert bench.notes == []
    bench.empty_trash()
    assert not bench.trash.exists()


def test_the_trash_is_emptied_first_when_the_disk_runs_short(tmp_path, monkeypatch):
    bench = _bench(tmp_path)
    _s3site_leftovers(bench, "first")
    bench.clean("s3site")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(run.shutil, "disk_usage", lambda path: usage(0, 0, bench.disk_reserve - 1))
    _s3site_leftovers(bench, "second")
    bench.clean("s3site")
    assert sorted(p.read_text() for p in bench.trash.rglob("index.html")) == ["second"] * 3
    assert len(bench.notes) == 1 and "trash was emptied" in bench.notes[0]


def test_hugo_and_pelican_caches_are_put_aside_too(tmp_path):
    bench = _bench(tmp_path)
    for folder in (bench.output("hugo"), bench.outputs / "hugo-cache", bench.corpus / "hugo" / "resources",
                   bench.output("pelican"), bench.corpus / "pelican" / "cache"):
        folder.mkdir(parents=True)
    bench.clean("hugo")
    bench.clean("pelican")
    assert not any(p.exists() for p in (bench.output("hugo"), bench.outputs / "hugo-cache",
                                        bench.corpus / "hugo" / "resources", bench.output("pelican"),
                                        bench.corpus / "pelican" / "cache"))
    assert len(list(bench.trash.iterdir())) == 5


def test_reading_the_corpus_reads_every_file_of_every_tree(tmp_path):
    for relative, size in (("s3site/content/practices/a.md", 10), ("hugo/content/a.md", 3 << 20),
                           ("pelican/content/a.md", 0)):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"x" * size)
    assert run.read_corpus(tmp_path) == 10 + (3 << 20)


def _measure(tmp_path: Path, code: str, timeout: float | None = None) -> run.Run:
    return run.measure("s3site", "cold", [sys.executable, "-c", code], cwd=tmp_path, output=tmp_path / "out",
                       log=tmp_path / "logs" / "build.log", env=dict(os.environ), timeout=timeout)


def test_a_build_is_charged_its_own_peak_memory_not_the_benchmarks(tmp_path):
    # Linux charges a process started directly from this one with this one's peak: 300 MB here.
    held = bytearray(300 * 1024 * 1024)
    held[::4096] = b"\1" * len(held[::4096])
    small = _measure(tmp_path, "pass")
    large = _measure(tmp_path, "b = bytearray(200 * 1024 * 1024); b[::4096] = b'\\1' * len(b[::4096])")
    del held
    assert small.ok and large.ok
    assert small.max_rss_kb < 100 * 1024, small
    assert small.tree_rss_kb < 100 * 1024, small
    assert large.max_rss_kb > 200 * 1024, large
    assert small.cpu_seconds > 0 and small.seconds > 0


def test_a_builds_exit_status_output_and_files_are_reported(tmp_path):
    failed = _measure(tmp_path, "import os, sys; os.makedirs('out/a'); open('out/a/x.html', 'w').close(); "
                                "print('broken build'); sys.exit(3)")
    assert failed.status == 3 and not failed.ok
    assert failed.files == 1
    assert "broken build" in Path(failed.log).read_text()


def test_a_build_that_runs_too_long_is_stopped_and_says_so(tmp_path):
    stopped = _measure(tmp_path, "import time; time.sleep(30)", timeout=1)
    assert stopped.timed_out and not stopped.ok
    assert stopped.seconds < 10
