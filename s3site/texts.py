"""Practices' texts, kept in the build cache apart from the practices and fetched when read.

A practice's text (its sections as HTML) is most of its size, yet a rebuild
after an edit shows few practices whole: most pages list practices by their
cards. So the cache stores each text as an entry of its own, named by a
digest of its content, and a resolved practice refers to it by that name.
A practice loaded from the cache gets a CachedText, which fetches the text
the first time any of it is read: in this process or in a worker forked to
render (each with a database connection of its own). Those rendering many
pages fetch the texts they show in one query (fetch()). Should the cache
have lost a text (deleted while the preview runs, a corrupt entry), the
practice's file is parsed again for it: a text is never missing, only slower.

A process keeps the texts it has read up to TEXT_BUDGET; beyond it, each is
let go once used (let_go()) and fetched again if read again, so that neither
the build, which reads every text its workers make, nor a render worker,
which reads those of the pages it makes, grows with the whole site's HTML.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from .cache import CacheReader, decode, digest, encode
from .model import TEXT_FIELDS, PracticeText

log = logging.getLogger(__name__)

# The kinds of reference a resolved practice's entry holds for its text (see cache.encode).
TEXT_REFERENCES = ("PracticeText", "CachedText")
# Bytes of cache entries a process keeps as texts: all of them at 10,000 practices (60 MB),
# where fetching them again would only cost time; a fifth of them at 100,000.
TEXT_BUDGET = 128 * 2**20


class CachedText(PracticeText):
    """A practice's text known by its cache key, fetched the first time it is read."""

    __slots__ = ("source", "owner", "loaded", "size")

    def __init__(self, key: str, source: str = "", owner: str = "") -> None:
        # Not PracticeText's: the fields stay unset until fetched (see __getattr__).
        self.key = key
        # Should the cache have lost the text: the practice's file, parsed again for it, and
        # the cache entry of the practice, dropped so that the next build parses it anew.
        self.source = source
        self.owner = owner
        self.loaded = False
        self.size = 0  # of its cache entry, while loaded: counted against TEXT_BUDGET

    def __getattr__(self, name: str) -> object:
        # Only called for what is not set: a field of a text not fetched yet.
        if name not in TEXT_FIELDS or self.loaded:
            raise AttributeError(name)
        STORE.fetch([self])
        return getattr(self, name)

    def take(self, text: PracticeText, size: int = 0) -> None:
        for name, value in zip(TEXT_FIELDS, text.values(), strict=True):
            setattr(self, name, value)
        self.size = size
        self.loaded = True

    def release(self) -> None:
        """Forget the fields; read again, they are fetched again."""
        self.loaded = False  # first: a field found missing is then fetched, never an error
        for name in TEXT_FIELDS:
            delattr(self, name)
        self.size = 0


def is_pending(text: PracticeText) -> bool:
    """Whether reading the text would fetch it."""
    return type(text) is CachedText and not text.loaded


def text_entry(text: PracticeText) -> tuple[str, bytes]:
    """A text as a cache entry, and its key (also set as text.key)."""
    entry = encode(text)
    text.key = digest("text", entry)
    return text.key, entry


def text_key(text: PracticeText) -> str:
    """How a practice's cache entry names its text (cache.encode's `references`)."""
    if not text.key:
        raise ValueError("a practice's text is stored by reference before it has been stored itself")
    return text.key


class TextStore:
    """Where this process fetches texts: the build's cache, else the practices' files."""

    def __init__(self) -> None:
        self._reader: CacheReader | None = None
        self._reparse: Callable[[str], PracticeText] | None = None
        self._lock = threading.Lock()  # the preview renders a page while a build may fetch
        self.held = 0  # bytes of the texts read since use() (a forked process starts with its parent's)
        self._fetched: list[CachedText] = []  # since use(), in order (see fetched_since)
        self._keeping_pid = 0  # a process that never lets a text go (see use())

    def use(self, folder: Path | None, reparse: Callable[[str], PracticeText], *, shared: bool = False) -> None:
        """Fetch from the cache in `folder` (none: from the files only), or by `reparse(source)`.

        `shared`: other threads of this process read its texts too (the preview's, which
        render pages while a build runs), so it lets none go; the build's forked workers do.
        """
        with self._lock:
            self._keeping_pid = os.getpid() if shared else 0
            if self._reader is not None:
                self._reader.close()
            self._reader = CacheReader(folder) if folder is not None else None
            self._reparse = reparse
            self.held = 0  # a build counts the texts it reads; the preview keeps others besides
            self._fetched = []

    def fetch(self, texts: Iterable[PracticeText]) -> list[CachedText]:
        """Fetch every text not fetched yet, in one query; return those fetched."""
        pending = {id(text): text for text in texts if is_pending(text)}  # each once: shown on several pages
        if not pending:
            return []
        with self._lock:
            pending = {key: text for key, text in pending.items() if not text.loaded}  # type: ignore[attr-defined]
            found = self._reader.entries({text.key for text in pending.values()}) if self._reader else {}
            lost: list[str] = []
            for text in pending.values():
                entry = found.get(text.key)
                value = decode(entry) if entry is not None else None
                if not isinstance(value, PracticeText):
                    value = self._parsed_again(text)
                    lost += [text.key, text.owner]  # type: ignore[attr-defined]
                    entry = None  # parsed again, not stored again: kept, never let go
                self._take(text, value, len(entry) if entry is not None else 0)  # type: ignore[arg-type]
            if lost and self._reader:
                self._reader.forget(lost)
            fetched: list[CachedText] = list(pending.values())  # type: ignore[arg-type]
            self._fetched += fetched
        return fetched

    def mark(self) -> int:
        """Where fetched_since() is to start: the texts fetched until now are not counted."""
        return len(self._fetched)

    def fetched_since(self, mark: int) -> list[CachedText]:
        """The texts fetched since mark() (also one by one, as read): given once, to let go of."""
        with self._lock:
            texts = self._fetched[mark:]
            del self._fetched[mark:]
        return texts

    def fit(self, texts: Iterable[PracticeText]) -> bool:
        """Whether these texts, fetched, would keep this process within TEXT_BUDGET (not if
        the cache cannot tell: those it lost would be parsed again, and kept)."""
        pending = Counter(text.key for text in texts if is_pending(text))  # a text may be shared
        if not pending:
            return True
        if self._reader is None:
            return False
        room = TEXT_BUDGET - self.held
        try:
            for key, size in self._reader.sizes(pending):
                room -= size * pending[key]
                if room < 0:  # no need to look further
                    return False
        except sqlite3.Error as exc:
            log.debug("cannot read the build cache: %s", exc)
            return False
        return True

    def hold(self, text: CachedText, value: PracticeText, size: int) -> None:
        """Give a CachedText the text just made for it (`size`: of its cache entry)."""
        with self._lock:
            self._take(text, value, size)

    def _take(self, text: CachedText, value: PracticeText, size: int) -> None:
        text.take(value, size)
        self.held += size

    def let_go(self, texts: Iterable[CachedText]) -> None:
        """Over TEXT_BUDGET, forget these texts, stored in the cache and no longer needed here
        (unless other threads may be reading them: see use())."""
        if self.held <= TEXT_BUDGET or os.getpid() == self._keeping_pid:
            return
        with self._lock:
            for text in texts:
                if text.loaded and text.size:
                    self.held -= text.size
                    text.release()

    def _parsed_again(self, text: CachedText) -> PracticeText:
        log.warning("the build cache has lost the text of %s; parsing it again", text.source or "a practice")
        if self._reparse is None or not text.source:
            raise RuntimeError(f"the text of {text.source or 'a practice'} is neither cached nor parsable")
        return self._reparse(text.source)

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()


STORE = TextStore()
