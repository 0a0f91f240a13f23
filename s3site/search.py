"""The search step: a Pagefind index of the built practice and free pages.

Pagefind (PyPI `pagefind[bin]`) reads the staged HTML and writes a static
index into the staging folder's `pagefind/`, which the search page's script
(`assets/search.js`) queries in the browser. No server is involved.

What is indexed is decided by the templates, not here: `practice.html` and
`page.html` put `data-pagefind-body` on their main element, and once any page
of a site carries it Pagefind leaves out every page without it (home, lists,
theme and region pages, redirects, 404). The same templates mark the result
metadata (`data-pagefind-meta`: title, summary, location, image) and the
facets (`data-pagefind-filter`: theme, country, region, status, year).

When no indexed page changed since the previous build, and the set of
indexed pages and the Pagefind version are the same, the previous index is
hard-linked into the staging folder instead of being rebuilt.

The preview may give indexing up when a file changes meanwhile (Pagefind
takes about 20 s at 10,000 practices, and the next save would wait for it):
the previous index is then published with the new pages, stamped as out of
date, so that the next build indexes again.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from .errors import SiteError, error
from .model import Site
from .output import StagedOutput

log = logging.getLogger(__name__)

BUNDLE = "pagefind"  # the index folder, relative to the output folder
STAMP = ".s3site-index"  # in BUNDLE: what the index was made from, as a hash
OUT_OF_DATE = "out of date"  # the STAMP of an index kept when indexing was given up
# Parts of an indexed page that are labels rather than content.
EXCLUDE_SELECTORS = (".facts dt",)
# Pagefind's ready-made interfaces; the site has its own (assets/search.js).
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
          "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")
INSTALL_HINT = ("install it with: pip install 'pagefind[bin]' "
                "(or set search: false in content/site.yaml)")


def indexed_pages(site: Site) -> list[str]:
    """The output paths of the pages that go into the index: practices and free pages."""
    base = site.settings.base_path
    urls = [p.url for p in site.practices] + [p.url for p in site.pages]
    return sorted(url[len(base):] + ("index.html" if url.endswith("/") else "") for url in urls)


def pagefind_executable() -> Path:
    """The Pagefind binary: $PAGEFIND_BINARY_PATH, else the pagefind_bin package's, else on PATH.

    (The order of Pagefind's own Python API, without importing it: it loads asyncio.)
    """
    named = os.environ.get("PAGEFIND_BINARY_PATH")
    found: Path | None = Path(named) if named else None
    if found is None:
        for package in ("pagefind_bin_extended", "pagefind_bin"):
            try:
                found = importlib.import_module(package).get_executable()
                break
            except (ImportError, FileNotFoundError, AttributeError):
                continue
    if found is None:
        on_path = shutil.which("pagefind_extended") or shutil.which("pagefind")
        found = Path(on_path) if on_path else None
    if found is None or not found.is_file():
        raise SiteError([error("search", f"the search index needs Pagefind; {INSTALL_HINT}")])
    return found


class GivenUp(Exception):
    """Pagefind was stopped: `give_up()` said so while it ran."""


def _run(command: list[str], cwd: str, give_up: Callable[[], bool] | None = None) -> str:
    try:
        # In a process group of its own, so that stopping it stops all of it.
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, start_new_session=True)
    except OSError as exc:
        problem = error("search", f"could not run Pagefind ({exc}); {INSTALL_HINT}")
        raise SiteError([problem]) from None
    try:
        while True:
            try:
                stdout, stderr = process.communicate(timeout=None if give_up is None else 0.1)
                break
            except subprocess.TimeoutExpired:
                if give_up is not None and give_up():
                    raise GivenUp from None
    except BaseException:  # given up, or Ctrl-C: never left running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    if process.returncode != 0:
        detail = (stderr or stdout).strip().splitlines()[-5:]
        raise SiteError([error("search", "Pagefind failed: " + " / ".join(detail))])
    return stdout


def index_site(staged: StagedOutput, site: Site, give_up: Callable[[], bool] | None = None) -> float | None:
    """Index the staged site for search; return the seconds it took, or None if it was given up
    because `give_up()` said so while Pagefind ran (the previous index is kept, out of date)."""
    started = time.perf_counter()
    pages = indexed_pages(site)
    if not pages:  # Pagefind cannot make an empty index; the search page says it failed to load
        log.info("search index: no pages to index")
        return time.perf_counter() - started
    executable = pagefind_executable()
    with tempfile.TemporaryDirectory(prefix="s3site-pagefind-") as workdir:
        # An empty working folder: Pagefind reads pagefind.yml/.toml/.json
        # from where it runs, and no stray config file should steer it.
        version = _run([str(executable), "--version"], workdir).strip()
        stamp = _stamp(version, site.settings.language, pages)
        target = staged.staging / BUNDLE
        previous = staged.previous / BUNDLE if staged.previous is not None else None
        changed = set(staged.changed).intersection(pages)
        if target.exists():  # files from content/static/pagefind/ must not mix with the index
            shutil.rmtree(target)
        if previous is not None and not changed and _read(previous / STAMP) == stamp:
            _link_tree(previous, target)
            how = "unchanged, reused"
        else:
            try:
                out = _run([str(executable), "--site", str(staged.staging), "--output-subdir", BUNDLE,
                            "--glob", _glob(pages), "--force-language", site.settings.language or "en",
                            "--exclude-selectors", ", ".join(EXCLUDE_SELECTORS)], workdir, give_up)
            except GivenUp:
                _keep_out_of_date(previous, target)
                log.info("search index: given up for a newer change; the last one kept until the next build")
                return None
            for name in UNUSED:
                (target / name).unlink(missing_ok=True)
            canonicalise(target)
            (target / STAMP).write_text(stamp + "\n", encoding="utf-8")
            if previous is not None:
                _reuse_identical(previous, target)
            count = re.search(r"Indexed (\d+) pages?", out)
            how = f"{count.group(1) if count else '?'} pages indexed"
            if count and int(count.group(1)) != len(pages):
                log.warning("search: Pagefind indexed %s pages, expected %d (a template override "
                            "without data-pagefind-body?)", count.group(1), len(pages))
    seconds = time.perf_counter() - started
    log.info("search index: %s in %.2f s", how, seconds)
    return seconds


def _keep_out_of_date(previous: Path | None, target: Path) -> None:
    """The previous index (if any) in place of the one Pagefind did not finish, stamped so
    that the next build does not take it for up to date."""
    if target.exists():
        shutil.rmtree(target)
    if previous is None or not (previous / "pagefind-entry.json").is_file():
        return
    _link_tree(previous, target)
    stamp = target / STAMP
    fresh = target / (STAMP + ".new")
    fresh.write_text(OUT_OF_DATE + "\n", encoding="utf-8")
    os.replace(fresh, stamp)  # not written through the link: the previous index keeps its own


def _glob(pages: list[str]) -> str:
    """The files Pagefind reads: the practice pages and the free pages, not the lists.

    Pages without data-pagefind-body would be left out anyway; not reading
    them at all saves a fifth of the indexing time on a large site.
    """
    practice_pages = re.compile(r"practices/[^/]+/index\.html")
    others = [page for page in pages if not practice_pages.fullmatch(page)]
    if any(not re.fullmatch(r"[A-Za-z0-9._/-]+", page) for page in others):
        return "**/*.html"  # a name with characters that mean something in a glob
    return "{" + ",".join(["practices/*/index.html", *others]) + "}"


def _stamp(version: str, language: str, pages: list[str]) -> str:
    """What an index was made from: Pagefind's version, its options and the pages."""
    text = "\n".join([version, language, *EXCLUDE_SELECTORS, *pages])
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link every file of the previous index into the staging folder (else copy it)."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dest)
            except OSError:
                shutil.copy2(path, dest)


def _reuse_identical(previous: Path, target: Path) -> None:
    """Swap freshly written index files for the previous ones where the bytes are the same.

    Pagefind names most of its files by content hash, so after a small change
    most files are identical; linking them keeps their modification times and
    upload tools see only what really changed.
    """
    for path in target.rglob("*"):
        if not path.is_file():
            continue
        old = previous / path.relative_to(target)
        try:
            if old.stat().st_size == path.stat().st_size and old.read_bytes() == path.read_bytes():
                spare = path.with_name(path.name + ".s3site-link")
                os.link(old, spare)
                os.replace(spare, path)
        except OSError:
            continue


# Pagefind writes the values of each filter, and the list of filters, in the
# order of a Rust hash map, which changes from run to run; the file names are
# hashes of the contents, so two builds of the same site would differ. The
# files are small: the Pagefind signature and CBOR data, gzipped. Sorting
# them (filter values by value, filters and sort keys by name) and naming
# them after the sorted bytes makes the index the same on every build.

SIGNATURE = b"pagefind_dcd"


def canonicalise(bundle: Path) -> None:
    """Put the filter files and the metadata file of an index in a stable order."""
    try:
        entry_path = bundle / "pagefind-entry.json"
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
        writes: dict[Path, bytes] = {}
        removes: list[Path] = []
        for language in entry["languages"].values():
            meta_path = bundle / f"pagefind.{language['hash']}.pf_meta"
            meta = _load(meta_path)
            prefix = language["hash"].split("_")[0] + "_"
            filters = []
            for name, old_hash in meta[3]:
                old_path = bundle / "filter" / f"{old_hash}.pf_filter"
                data = _load(old_path)
                if data[0] != name:
                    raise ValueError(f"filter file {old_hash} is not for {name}")
                data = [name, sorted(data[1], key=lambda value: value[0])]
                new_hash, packed = _pack(prefix, data, 7)
                writes[bundle / "filter" / f"{new_hash}.pf_filter"] = packed
                removes.append(old_path)
                filters.append([name, new_hash])
            meta[3] = sorted(filters)
            meta[4] = sorted(meta[4], key=lambda item: item[0])
            new_hash, packed = _pack(prefix, meta, 10)
            writes[bundle / f"pagefind.{new_hash}.pf_meta"] = packed
            removes.append(meta_path)
            language["hash"] = new_hash
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.debug("search: index left in Pagefind's own order (%s)", exc)
        return
    for path in removes:
        path.unlink(missing_ok=True)
    for path, packed in writes.items():
        path.write_bytes(packed)
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    entry_path.write_text(text, encoding="utf-8")


def _load(path: Path) -> list:
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(SIGNATURE):
        raise ValueError(f"{path.name}: not a Pagefind file")
    value, end = _cbor_decode(raw, len(SIGNATURE))
    if end != len(raw) or not isinstance(value, list):
        raise ValueError(f"{path.name}: unexpected layout")
    return value


def _pack(prefix: str, value: list, digits: int) -> tuple[str, bytes]:
    raw = SIGNATURE + _cbor_encode(value)
    name = prefix + hashlib.sha256(raw).hexdigest()[:digits]
    return name, gzip.compress(raw, compresslevel=9, mtime=0)


def _cbor_decode(data: bytes, i: int) -> tuple[object, int]:
    """One CBOR item (integers, strings, arrays, maps, simple values) at data[i:]."""
    major, info = data[i] >> 5, data[i] & 31
    i += 1
    if info < 24:
        arg = info
    elif info <= 27:
        size = 1 << (info - 24)
        arg, i = int.from_bytes(data[i : i + size], "big"), i + size
    else:
        raise ValueError("indefinite-length CBOR is not expected here")
    if major == 0:
        return arg, i
    if major == 1:
        return -1 - arg, i
    if major == 2:
        return data[i : i + arg], i + arg
    if major == 3:
        return data[i : i + arg].decode("utf-8"), i + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, i = _cbor_decode(data, i)
            items.append(item)
        return items, i
    if major == 5:
        mapping = {}
        for _ in range(arg):
            key, i = _cbor_decode(data, i)
            mapping[key], i = _cbor_decode(data, i)
        return mapping, i
    if major == 7 and arg in (20, 21, 22):
        return {20: False, 21: True, 22: None}[arg], i
    raise ValueError(f"unexpected CBOR item {major}/{arg}")


def _cbor_head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("integer too large for CBOR")


def _cbor_encode(value: object) -> bytes:
    if value is False or value is True or value is None:
        return bytes([0xE0 | {False: 20, True: 21, None: 22}[value]])
    if isinstance(value, int):
        return _cbor_head(0, value) if value >= 0 else _cbor_head(1, -1 - value)
    if isinstance(value, bytes):
        return _cbor_head(2, len(value)) + value
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return _cbor_head(3, len(encoded)) + encoded
    if isinstance(value, list):
        return _cbor_head(4, len(value)) + b"".join(_cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return _cbor_head(5, len(value)) + b"".join(
            _cbor_encode(k) + _cbor_encode(v) for k, v in value.items())
    raise ValueError(f"cannot encode {type(value).__name__} as CBOR")
