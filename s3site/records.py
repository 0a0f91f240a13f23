"""Records of the open-data files, copied from the published file when unchanged.

practices.json and practices.csv hold one record a practice. After one edit
all but one of ten thousand records are bytes the published file already
holds, yet making them again took a third of a one-edit rebuild. So each
build notes where each record sits in the file it writes, under the key of
the practice's own index.json (which covers everything a record shows), and
the next build copies the records whose key is unchanged from the published
file. A note is trusted only for the very file it was made for (same inode,
size and modification time); anything else is made again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .cache import atomic_write, decode, encode

log = logging.getLogger(__name__)

NOTES_FILE = "records.pickle"


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class FileRecords:
    """The records of one data file: the published ones to copy, the new ones noted."""

    def __init__(self, published: Path | None, spans: dict[str, tuple[int, int]],
                 key_of: Callable[[Any], str | None]) -> None:
        self._published = published
        self._old = spans
        self._key_of = key_of
        self._fd: int | None = None
        self.new: dict[str, tuple[int, int]] = {}

    def copy_run(self, items: Sequence[Any], first: int, offset: int, separator: bytes,
                 limit: int) -> tuple[int, bytes]:
        """The records of items[first:], as published, for as many items as are unchanged and
        stood one after another in the published file (about `limit` bytes at most): how
        many, and their bytes with the separators between them. Each is noted as starting
        where it lands, the run starting at `offset`. (0, b"") when items[first] is to be made.

        After an edit nearly every record is in a run of thousands: one read for each run,
        not a read, a slice and a join for each record.
        """
        keys: list[str] = []
        start = end = -1
        for index in range(first, len(items)):  # not islice(), which would walk items[:first] each time
            key = self._key_of(items[index])
            span = self._old.get(key) if key else None
            if span is None or (keys and span[0] != end + len(separator)):
                break
            if not keys:
                start = span[0]
            keys.append(key)  # type: ignore[arg-type]
            end = span[1]
            if end - start >= limit:
                break
        data = self._read(start, end) if keys else None
        if data is None:
            return 0, b""
        shift = offset - start
        for key in keys:
            old_start, old_end = self._old[key]
            self.new[key] = (old_start + shift, old_end + shift)
        return len(keys), data

    def _read(self, start: int, end: int) -> bytes | None:
        """Bytes start:end of the published file; None when it cannot give them all."""
        if self._published is None:
            return None
        if self._fd is None:
            try:
                self._fd = os.open(self._published, os.O_RDONLY)
            except OSError:
                self._published = None
                return None
        try:
            data = os.pread(self._fd, end - start, start)
        except OSError:
            return None
        return data if len(data) == end - start else None

    def note(self, item: Any, start: int, end: int) -> None:
        """Where an item's record sits in the file being written."""
        key = self._key_of(item)
        if key:
            self.new[key] = (start, end)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class RecordNotes:
    """Every data file's record positions, kept in the build cache between builds."""

    def __init__(self, cache_folder: Path | None, output: Path, keys: dict[str, str]) -> None:
        self.path = cache_folder / NOTES_FILE if cache_folder else None
        self.output = output
        self.keys = keys
        self.saved: dict[str, tuple[tuple[int, int, int], dict[str, tuple[int, int]]]] = {}
        self.files: dict[str, FileRecords] = {}
        self._found_keys: dict[Callable, dict[int, str]] = {}
        if self.path is not None and self.path.exists():
            loaded = decode(self.path.read_bytes())
            if isinstance(loaded, dict) and loaded.get("output") == str(output):
                self.saved = loaded.get("files", {})
            else:
                log.debug("record notes %s: not for this output, or unreadable; ignored", self.path)

    def records(self, name: str, key_path: Callable[[Any], str]) -> FileRecords:
        """The records of data file `name`; an item's key is that of the output at key_path(item)."""
        identity, spans = self.saved.get(name, (None, {}))
        published = self.output / name
        if identity is None or identity != _identity(published):
            published, spans = None, {}
        records = self.files[name] = FileRecords(published, spans, self._key_of(key_path))
        return records

    def made(self, name: str) -> dict[str, tuple[int, int]] | None:
        """Where each record sits in data file `name`, as made by this build (None if not made)."""
        records = self.files.get(name)
        return records.new if records is not None else None

    def made_elsewhere(self, name: str, spans: dict[str, tuple[int, int]]) -> None:
        """Take what made() told in another process, which made data file `name`."""
        records = self.files[name] = FileRecords(None, {}, lambda item: None)
        records.new = spans

    def _key_of(self, key_path: Callable[[Any], str]) -> Callable[[Any], str | None]:
        """An item's key, found once for all the data files (by id: items live as long as the build)."""
        found = self._found_keys.setdefault(key_path, {})

        def key_of(item: Any) -> str | None:
            key = found.get(id(item))
            if key is None:
                key = found[id(item)] = self.keys.get(key_path(item), "")
            return key

        return key_of

    def save(self) -> None:
        """After the build is published: note where each record of each data file is."""
        if self.path is None:
            return
        files = {}
        for name in sorted({*self.saved, *self.files}):
            identity = _identity(self.output / name)
            made = self.files.get(name)
            if made is not None:
                spans = made.new
            elif self.saved[name][0] == identity:  # not made again: still the published file
                spans = self.saved[name][1]
            else:
                continue
            if identity is not None and spans:
                files[name] = (identity, spans)
        try:
            atomic_write(self.path, encode({"output": str(self.output), "files": files}))
        except OSError as exc:
            log.warning("could not save %s (%s); the next build makes the data files whole", self.path, exc)
