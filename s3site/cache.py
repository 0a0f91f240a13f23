"""The build cache: parsed files and the keys of written outputs, on disk.

It lives in ROOT/.s3site-cache/ and is always safe to delete. Every entry is
keyed by everything that can change its result, so a stale entry is never
found rather than found and trusted; every entry also carries a checksum, so
a corrupt or foreign file is detected, removed and rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import sqlite3
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from . import __version__

log = logging.getLogger(__name__)

MAGIC = b"s3site-cache-2\n"
# Each entry's body is checked against its CRC-32, which any accidental change (a bad sector,
# a half-written file, bytes from elsewhere) fails: reading the 10,000 practices a rebuild
# loads, a SHA-256 took twice as long, and a digest is no defence against anyone who can write
# the cache anyway.
CHECKSUM_SIZE = 4
CACHE_DIR = ".s3site-cache"


def digest(*parts: str | bytes) -> str:
    """A short hex digest of several strings or byte strings."""
    h = hashlib.blake2b(digest_size=16)
    if parts:
        # Each part followed by a zero byte, fed in one call: output keys
        # digest hundreds of thousands of parts.
        try:
            h.update(("\0".join(parts) + "\0").encode())  # type: ignore[arg-type]
        except TypeError:  # some parts are bytes
            h.update(b"\0".join([p.encode() if isinstance(p, str) else p for p in parts]) + b"\0")
    return h.hexdigest()


def _package_digest() -> str:
    """s3site's own code, templates and data: a change to any means a stale cache."""
    package = Path(__file__).parent
    parts = []
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix not in (".pyc",) and "__pycache__" not in path.parts:
            parts.append(f"{path.relative_to(package)}:{digest(path.read_bytes())}")
    return digest(*parts)


# What every cache key depends on besides the file itself: s3site's version,
# code and data, and the Python that pickled the entry.
CODE_SALT = digest(__version__, sys.version, MAGIC, _package_digest())


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def encode(value: Any, references: dict[type, Callable[[Any], str]] | None = None) -> bytes:
    """A value as a checksummed cache entry.

    `references` maps types whose objects are stored by reference, not by
    value (regions, themes), to what names one; decode() turns names back
    into objects.
    """
    if references is None:
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)

        def reference(obj: Any) -> tuple[str, str] | None:
            name_of = references.get(type(obj))
            return None if name_of is None else (type(obj).__name__, name_of(obj))

        pickler.persistent_id = reference  # type: ignore[method-assign]
        pickler.dump(value)
        body = buffer.getvalue()
    return MAGIC + zlib.crc32(body).to_bytes(CHECKSUM_SIZE, "big") + body


def decode(entry: bytes, dereference: Callable[[tuple[str, str]], Any] | None = None, start: int = 0) -> Any | None:
    """The value of a cache entry (that starts at `start`), or None if it is corrupt, not ours,
    or refers to what is gone.

    `dereference((kind, name))` gives back an object encode() stored by reference.
    """
    # Through views and an offset, never a slice: the bundle of resolved practices is
    # ten megabytes at 10,000 practices, and each copy of it took some ten milliseconds.
    view = memoryview(entry)
    head = start + len(MAGIC) + CHECKSUM_SIZE
    magic, checksum, body = view[start : start + len(MAGIC)], view[start + len(MAGIC) : head], view[head:]
    if magic != MAGIC or zlib.crc32(body).to_bytes(CHECKSUM_SIZE, "big") != checksum:
        return None
    try:
        if dereference is None:
            return pickle.loads(body)
        buffer = io.BytesIO(entry)  # shares `entry`'s bytes until written to
        buffer.seek(head)
        unpickler = pickle.Unpickler(buffer)
        unpickler.persistent_load = dereference  # type: ignore[method-assign]
        return unpickler.load()
    except Exception:  # an entry from elsewhere: never trust it
        return None


SELECT_ENTRIES = "SELECT key, entry FROM parsed WHERE key IN (SELECT value FROM json_each(?))"


class ParseCache:
    """Parse results by key, in one SQLite file (and a few results computed from
    all of them, such as related practices).

    One file rather than one per entry: on many file systems creating ten
    thousand small files costs more than parsing them. Entries are
    checksummed; a corrupt entry or database is dropped and rebuilt.

    A long-running process (the preview server) passes `memory`, a dict kept
    between builds, so that unchanged files are not even read from disk.
    """

    def __init__(self, folder: Path | None, memory: dict[str, Any] | None = None) -> None:
        self.path = folder / "parse.sqlite" if folder else None
        self._db: sqlite3.Connection | None = None
        # The caller's dict holds other things too (compiled templates).
        self.memory: dict[str, Any] | None = memory.setdefault("parsed", {}) if memory is not None else None
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0

    def is_empty(self) -> bool:
        """Whether nothing at all is cached, in memory or on disk (a first build)."""
        return not self.memory and (self.path is None or not self.path.exists())

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, isolation_level=None)
                # No waiting for the disk on each commit: a cache lost to a
                # power cut is only rebuilt (entries are checksummed).
                self._db.execute("PRAGMA synchronous = OFF")
                # Entries are a few kilobytes each: on the default 4 KB pages each
                # spills onto overflow pages, and a first build's writes took twice
                # as long. (Only a new database takes it; an old one keeps its own.)
                self._db.execute("PRAGMA page_size = 32768")
                self._db.execute("CREATE TABLE IF NOT EXISTS parsed (key TEXT PRIMARY KEY, entry BLOB)")
            except sqlite3.Error as exc:
                self._reset(exc)
        return self._db

    def _reset(self, exc: Exception) -> None:
        """A database we cannot use: do without a cache this build, and delete it if corrupt.

        One that is only locked (by another build of the site), full or read-only
        is left as it is: entries this build has stored are still read from it,
        such as the texts it has let go of (texts.py).
        """
        corrupt = not isinstance(exc, sqlite3.OperationalError)  # locked, full or read-only are not
        if corrupt:
            log.warning("the build cache %s is unreadable (%s); it will be rebuilt", self.path, exc)
        else:
            log.warning("cannot use the build cache %s (%s); building without it", self.path, exc)
        if self._db is not None:
            self._db.close()
        self._db = None
        if self.path is not None:
            if corrupt:
                self.path.unlink(missing_ok=True)
            self.path = None

    def get_many(
        self, keys: Iterable[str], dereference: Callable[[tuple[str, str]], Any] | None = None,
        bundled: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The entries found for many keys, in one query (see decode() for `dereference`);
        those in `bundled` (Bundle.load(), with the same `dereference`) are taken from there."""
        asked = set(keys)
        found, read = self._look_up(asked, dereference, bundled or {})
        for key, value in read.items():
            if value is None:
                log.warning("ignoring a corrupt entry of the build cache")
                continue
            found[key] = value
            if self.memory is not None:
                self.memory[key] = value
        self.hits += len(found)
        self.misses += len(asked) - len(found)
        return found

    def peek_many(
        self, keys: Iterable[str], dereference: Callable[[tuple[str, str]], Any] | None = None
    ) -> dict[str, Any]:
        """Entries that others are made from (see sources.Unresolved): kept on disk as used,
        but neither counted as found nor kept in memory, since decoded with another
        `dereference` than the build's they are not what their keys stand for."""
        found, read = self._look_up(set(keys), dereference, {})
        found.update((key, value) for key, value in read.items() if value is not None)
        return found

    def _look_up(
        self, keys: set[str], dereference: Callable[[tuple[str, str]], Any] | None, bundled: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The entries kept in memory, and those read from disk (None where corrupt or not
        ours), for keys now counted as used."""
        in_memory: dict[str, Any] = {}
        read: dict[str, Any] = {}
        wanted = []
        for key in keys:
            self.used.add(key)
            if self.memory is not None and key in self.memory:
                in_memory[key] = self.memory[key]
            elif key in bundled:
                read[key] = bundled[key]
            else:
                wanted.append(key)
        read.update((key, decode(entry, dereference)) for key, entry in self._fetch(wanted))
        return in_memory, read

    def _fetch(self, keys: list[str]) -> list[tuple[str, bytes]]:
        db = self._connect() if keys else None
        if db is None:
            return []
        try:
            return db.execute(SELECT_ENTRIES, (json.dumps(keys),)).fetchall()
        except sqlite3.Error as exc:
            self._reset(exc)
            return []

    def store(self, key: str, value: Any) -> None:
        """Keep one value, in memory and on disk."""
        self.remember(key, value)
        self.store_many([(key, encode(value))])

    def keep(self, keys: Iterable[str]) -> None:
        """Count entries as used this build without loading them (see forget_unused)."""
        self.used.update(keys)

    def remember(self, key: str, value: Any) -> None:
        """Keep a result in memory (the caller's process) for later builds."""
        self.used.add(key)
        if self.memory is not None:
            self.memory[key] = value

    def store_many(self, entries: list[tuple[str, bytes]]) -> bool:
        """Write encoded entries to the disk cache, in one transaction; tell whether they are there."""
        db = self._connect()
        if db is None or not entries:
            return db is not None
        try:
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO parsed (key, entry) VALUES (?, ?)", entries)
        except sqlite3.Error as exc:  # a read-only or full disk costs speed, not the build
            self._reset(exc)
            return False
        return True

    def forget_unused(self) -> None:
        """Drop what this build did not use (edited files' old versions), from memory and,
        once it outweighs what is used, from disk."""
        if self.memory is not None:
            for key in set(self.memory) - self.used:
                del self.memory[key]
        db = self._connect()
        if db is None:
            return
        try:
            count = db.execute("SELECT count(*) FROM parsed").fetchone()[0]
            if count > 2 * len(self.used) + 100:
                with db:
                    db.execute("BEGIN")
                    db.execute("CREATE TEMP TABLE used (key TEXT PRIMARY KEY)")
                    db.executemany("INSERT INTO used VALUES (?)", ((k,) for k in self.used))
                    db.execute("DELETE FROM parsed WHERE key NOT IN (SELECT key FROM used)")
                    db.execute("DROP TABLE used")
        except sqlite3.Error as exc:
            self._reset(exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class CacheReader:
    """Entries of a build cache's database, read in whatever process asks for them, with a
    connection of each process's own: one made before a fork is not to be used after it
    (render workers read texts). It never makes a database, and only deletes entries."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "parse.sqlite"
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def entries(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The entries found for `keys` (none if the database cannot be read)."""
        try:
            return dict(self._connect().execute(SELECT_ENTRIES, (json.dumps(list(keys)),)).fetchall())
        except sqlite3.Error as exc:
            log.debug("cannot read the build cache %s: %s", self.path, exc)
            return {}

    def sizes(self, keys: Iterable[str]) -> Iterator[tuple[str, int]]:
        """(key, bytes) of each entry found for `keys`, without reading the entries; raises
        sqlite3.Error if the database cannot be read."""
        query = "SELECT key, length(entry) FROM parsed WHERE key IN (SELECT value FROM json_each(?))"
        yield from self._connect().execute(query, (json.dumps(list(keys)),))

    def forget(self, keys: Iterable[str]) -> None:
        """Delete entries (found corrupt, or referring to ones that are), and every bundle,
        which may hold them too (see Bundle)."""
        try:
            for bundle in self.path.parent.glob(f"*{BUNDLE_SUFFIX}"):
                bundle.unlink(missing_ok=True)
        except OSError as exc:
            log.debug("cannot delete a bundle of the build cache %s: %s", self.path.parent, exc)
        try:
            with self._connect() as db:
                db.executemany("DELETE FROM parsed WHERE key = ?", [(key,) for key in keys])
        except sqlite3.Error as exc:
            log.debug("cannot delete from the build cache %s: %s", self.path, exc)

    def _connect(self) -> sqlite3.Connection:
        if self._pid != os.getpid():  # forked: the parent's connection is not ours to use
            self._db, self._pid = None, os.getpid()
        if self._db is None:
            self._db = sqlite3.connect(f"{self.path.as_uri()}?mode=rw", uri=True, check_same_thread=False)
        return self._db

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None


# A bundle says which s3site wrote it before anything is unpickled: the classes it holds
# may have other fields in another version.
BUNDLE_HEADER = f"s3site-bundle {CODE_SALT}\n".encode()
BUNDLE_SUFFIX = ".bundle"


class Bundle:
    """Many entries of the cache, also kept together in one file (ROOT/.s3site-cache/NAME.bundle),
    to be read in one go.

    A rebuild loads every practice from the cache: one by one from the database, the
    10,000 of the benchmark took 0.35 to 0.4 s (an unpickler for each, every class looked
    up by name again), from one pickle 0.17 s. Entries are kept under the database's keys,
    so a bundle that has fallen behind only lacks some (read from the database instead),
    and one from another s3site is not even unpickled.
    """

    def __init__(self, folder: Path | None, name: str) -> None:
        self.path = folder / f"{name}{BUNDLE_SUFFIX}" if folder else None
        self.entries: dict[str, Any] = {}

    def load(self, dereference: Callable[[tuple[str, str]], Any] | None = None) -> dict[str, Any]:
        """The entries kept (none if there is no bundle, or one that is corrupt or not ours)."""
        try:
            data = self.path.read_bytes() if self.path else b""
        except OSError:
            data = b""
        entries = decode(data, dereference, len(BUNDLE_HEADER)) if data.startswith(BUNDLE_HEADER) else None
        self.entries = entries if isinstance(entries, dict) else {}
        return self.entries

    def behind(self, entries: dict[str, Any]) -> bool:
        """Whether more than one in a hundred of `entries` (this build's) are not the ones
        loaded from the bundle (new, or made again), or more than one in a hundred of the
        bundle's are no longer used."""
        shared = sum(1 for key, entry in entries.items() if self.entries.get(key) is entry)
        allowed = len(entries) // 100
        return len(entries) - shared > allowed or len(self.entries) - shared > allowed

    def save(self, entries: dict[str, Any], references: dict[type, Callable[[Any], str]] | None = None) -> None:
        """Keep these entries, and only these (see encode() for `references`)."""
        if self.path is None:
            return
        try:
            atomic_write(self.path, BUNDLE_HEADER + encode(entries, references))
        except OSError:  # costs speed next time, nothing else
            return
        self.entries = entries


class OutputManifest:
    """The key of every file of the last two builds (the published one and the spare).

    A file whose key is unchanged need not be rendered again. Builds are
    named by their build id, which the output folder's marker file records,
    so keys are only ever applied to the folder they describe. A small
    separate file describes the last build, with a digest of everything it
    read, so that "nothing changed" is known without loading every key.
    """

    def __init__(self, folder: Path | None) -> None:
        # Pickled, not JSON: encoding fifty thousand keys as JSON took a tenth
        # of a second of every rebuild.
        self.path = folder / "outputs.pickle" if folder else None
        self.last_path = folder / "last-build.json" if folder else None
        self._builds: dict[str, dict] | None = None

    @property
    def builds(self) -> dict[str, dict]:
        if self._builds is None:
            self._builds = {}
            try:
                data = decode(self.path.read_bytes()) if self.path else None
            except OSError:
                data = None
            if isinstance(data, dict) and data.get("salt") == CODE_SALT and isinstance(data.get("builds"), dict):
                self._builds = {
                    k: v for k, v in data["builds"].items()
                    if isinstance(v, dict) and isinstance(v.get("keys"), dict)
                }
        return self._builds

    @staticmethod
    def _read(path: Path | None) -> dict | None:
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("salt") == CODE_SALT else None

    def last_build(self) -> dict | None:
        """The last build: build_id, inputs, practices, files; None if unknown."""
        data = self._read(self.last_path)
        if data is None or not all(isinstance(data.get(k), str) for k in ("build_id", "inputs")):
            return None
        return data

    def keys_for(self, build_id: str | None) -> dict[str, str] | None:
        build = self.builds.get(build_id or "")
        return build["keys"] if build else None

    def save(
        self, build_id: str, keys: dict[str, str], inputs: str, *, keep: str | None, practices: int
    ) -> None:
        """Record a build, keeping only it and the build `keep` (the spare's)."""
        if self.path is None or self.last_path is None:
            return
        builds = {build_id: {"keys": keys}}
        if keep and keep != build_id and keep in self.builds:
            builds[keep] = self.builds[keep]
        self._builds = builds
        last = {"salt": CODE_SALT, "build_id": build_id, "inputs": inputs, "practices": practices,
                "files": len(keys)}
        try:
            # The keys first: a last-build record never describes keys not yet saved.
            self.last_path.unlink(missing_ok=True)
            atomic_write(self.path, encode({"salt": CODE_SALT, "builds": builds}))
            atomic_write(self.last_path, json.dumps(last, sort_keys=True).encode())
        except OSError as exc:
            log.warning("cannot write the build cache: %s", exc)
