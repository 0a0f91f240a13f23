"""Reading the site's files: which there are, their bytes, and parsing them with the cache.

Files are found in sorted order, so that builds never depend on the order
the file system lists them in. Symbolic links that lead out of their folder
are reported, never followed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from .cache import CODE_SALT, Bundle, ParseCache, atomic_write, decode, digest, encode
from .content import Parsed
from .errors import Diagnostic, error
from .fingerprint import card_digest
from .model import Practice, PracticeText, Theme
from .parallel import cycle_collector, iter_chunks
from .pickling import differences, evolve, quick_pickle
from .regions import Region, RegionRegistry, load_registry
from .related import features_digest
from .resolve import Resolver, reads_static_files, slug_clash
from .texts import STORE, TEXT_REFERENCES, CachedText, text_entry, text_key

PRACTICE_SUFFIXES = (".md", ".markdown", ".yaml", ".yml")
STORE_BATCH = 500  # resolved practices written to the cache at a time
CHUNK_FILES = 1000  # files parsed by a worker at a time, at most
RESOLVED_BUNDLE = "resolved"  # the resolved practices, in one file (cache.Bundle)


def _with_digest(parsed: Parsed, key: str) -> Parsed:
    if parsed.model is None:
        return parsed
    return Parsed(evolve(parsed.model, digest=key), parsed.diagnostics)


def parse_key(salt: str, source: str, scan: Scan) -> str:
    """The cache key of a file's parse result: the parser's salt, its path and its content."""
    return digest(salt, source, scan.files[source])


def _known(sources: list[str], scan: Scan) -> list[str]:
    """The sources whose digest the scan knows (not those left to whoever reads them)."""
    return [source for source in sources if scan.files[source] is not None]


def parse_all(
    root: Path,
    sources: list[str],
    scan: Scan,
    parse_one: Callable[[str, bytes], Parsed],
    cache: ParseCache,
    salt: str,
    workers: int,
) -> list[Parsed]:
    """Parse files, taking unchanged ones from the cache, the rest across workers.

    A file's cache key comes from the digest the scan found for it, so an
    unchanged file is not even read.
    """
    results, missing = _in_cache(sources, scan, cache, salt)

    def parse_chunk(items: Sequence[str]) -> list[tuple[str, str, str, bytes]]:
        # Results travel encoded, as the cache stores them: encoding is then
        # done once, and in the workers.
        made = []
        with cycle_collector(enabled=_collect_cycles(items)):
            for source in items:
                content, key, parsed = _parse(root, source, salt, parse_one)
                made.append((source, content, key, encode(parsed)))
        return made

    entries = []
    for chunk in iter_chunks(parse_chunk, missing, workers=workers, max_items=CHUNK_FILES):
        for source, content, key, entry in chunk:
            if scan.files[source] is None:
                scan.files[source] = content
            results[source] = decode(entry)
            cache.remember(key, results[source])
            entries.append((key, entry))
    cache.store_many(entries)
    return [results[source] for source in sources]


# Markdown leaves reference cycles behind: parsing many files, the cycle collector runs even
# when the build paused it. For an edit's few files the cycles are a few kilobytes, and turning
# it on would make it walk every object of the build (a tenth of a second at 10,000 practices).
MIN_FILES_TO_COLLECT_CYCLES = 50


def _collect_cycles(items: Sequence[object]) -> bool:
    return len(items) >= MIN_FILES_TO_COLLECT_CYCLES


@quick_pickle
@dataclass(frozen=True, slots=True)
class Unresolved:
    """A practice's parse result as the cache keeps it once the practice has resolved: the key
    of the resolved practice, and the fields that resolving changed as parsing left them.

    The resolved practice holds all the rest, so a first build encodes, sends between
    processes and stores each practice's text once, not twice."""

    resolved_key: str
    fields: dict[str, object]
    diagnostics: tuple[Diagnostic, ...]


def unresolved(parsed: Parsed, resolved_key: str, practice: Practice) -> Unresolved:
    """What the cache keeps of a parse result whose practice has resolved to `practice`."""
    return Unresolved(resolved_key, differences(parsed.model, practice), parsed.diagnostics)


def _in_cache(
    sources: list[str], scan: Scan, cache: ParseCache, salt: str
) -> tuple[dict[str, Parsed], list[str]]:
    """Parse results found in the cache, and the files to parse (read by whoever parses them)."""
    keys = {source: parse_key(salt, source, scan) for source in _known(sources, scan)}
    cached = cache.get_many(keys.values())
    cache.misses += len(sources) - len(keys)  # not looked up: nothing can be cached for them
    results = {source: found for source in keys if isinstance(found := cached.get(keys[source]), Parsed)}
    kept = {source: found for source in keys if isinstance(found := cached.get(keys[source]), Unresolved)}
    if kept:
        # Every field that names a region or a theme is one resolving changed, so the
        # resolved practices need none of them: this build may not even have them.
        resolved = cache.peek_many((entry.resolved_key for entry in kept.values()), _texts_only)
        for source, entry in kept.items():
            base = resolved.get(entry.resolved_key)
            if isinstance(base, Resolved):
                practice = evolve(base.practice, **entry.fields)
                _name_source(practice, source, entry.resolved_key)
                results[source] = Parsed(practice, entry.diagnostics)
            else:  # its resolved practice is gone from the cache: parsed again
                cache.hits -= 1
                cache.misses += 1
    return results, [source for source in sources if source not in results]


def _texts_only(reference: tuple[str, str]) -> CachedText | None:
    """A practice's text, to be fetched when read; no region nor theme (see _in_cache)."""
    kind, name = reference
    return CachedText(name) if kind in TEXT_REFERENCES else None


def _name_source(practice: Practice, source: str, owner: str = "") -> None:
    """Tell a practice's CachedText its file and cache entry (`owner`), for should the cache
    lose the text (texts.CachedText)."""
    if type(practice.text) is CachedText and not practice.text.source:
        practice.text.source, practice.text.owner = source, owner


READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
READ_SIZE = 1 << 16  # a practice is read whole by the first call


def read_file(path: str) -> bytes:
    """A file's bytes, read with the system's own calls: Path.read_bytes() makes a Path, a
    file object and a buffer around them, and checks the size twice, three times the cost
    of reading a practice (18 µs against 6) for the 10,000 a cold build reads."""
    descriptor = os.open(path, READ_FLAGS)
    try:
        chunks = []
        while chunk := os.read(descriptor, READ_SIZE):
            chunks.append(chunk)
    finally:
        os.close(descriptor)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _parse(
    root: Path, source: str, salt: str, parse_one: Callable[[str, bytes], Parsed]
) -> tuple[str, str, Parsed]:
    """Read and parse one file (in a worker): the digest of what was read, its cache key, and
    the result. The key is that of what was read, should the file have changed since the scan."""
    data = read_file(f"{os.fspath(root)}/{source}")
    content = digest(data)
    key = digest(salt, source, content)
    return content, key, _with_digest(parse_one(source, data), key)


def parse_file(root: Path, source: str, parse, *, required: bool) -> Parsed:
    path = root / source
    if not path.is_file():
        if required:
            return Parsed(None, (error(source, "missing: the site needs this file"),))
        return Parsed(None)
    return parse(source, path.read_bytes())


@dataclass(slots=True)
class Scan:
    """What the site's folders hold: each file's digest, the sources, bad links."""

    # Site-relative path -> digest of its content; None for a practice left to be digested by
    # whoever reads it to parse it (see FileDigests.defer).
    files: dict[str, str | None]
    practices: list[str]
    pages: list[str]
    problems: list[Diagnostic]

    @property
    def complete(self) -> bool:
        """Whether the digest of every file is known."""
        return None not in self.files.values()

    def digest(self, output: Path, options: Sequence[str]) -> str:
        """Everything a build reads, as one digest: equal digests mean equal output (once complete)."""
        return digest(CODE_SALT, str(output), *options, *map(str, self.problems),
                      *(f"{p}:{d}" for p, d in sorted(self.files.items())))


def _is_source(relative: str, folder: str, suffixes: tuple[str, ...]) -> bool:
    if not relative.startswith(folder + "/"):
        return False
    *folders, name = relative[len(folder) + 1 :].split("/")
    return (
        name.endswith(suffixes)
        and not name.startswith((".", "_", "~"))
        and not name.endswith("~")
        and not any(f.startswith(".") for f in folders)
    )


def scan(root: Path, known: FileDigests) -> Scan:
    """Walk content/ and templates/ once: digests, sources, and links that leave.

    Symbolic links that point outside their folder are reported, never read.
    Static files can be large and are only copied, so their size and time
    stand for their content.
    """
    files: dict[str, str] = {}
    problems: list[Diagnostic] = []
    top = os.fspath(root)

    def walk(folder: str, relative: str, real_base: Path) -> None:
        with os.scandir(f"{top}/{relative}") as listing:
            entries = sorted(listing, key=lambda e: e.name)
        for entry in entries:
            path = f"{relative}/{entry.name}"
            if entry.is_symlink():
                target = Path(entry.path).resolve()
                if target != real_base and real_base not in target.parents:
                    problems.append(error(path, f"a symbolic link to {target}, outside {folder}/; "
                                                "copy the file in instead"))
                    continue
                if target.is_dir():
                    continue  # not followed: the folder it points to is walked anyway
            if entry.is_dir():
                walk(folder, path, real_base)
            elif entry.is_file():
                files[path] = known.of(entry.path, path, static=path.startswith("content/static/"),
                                       deferrable=_is_source(path, "content/practices", PRACTICE_SUFFIXES))

    for folder in ("content", "templates"):
        if (root / folder).is_dir():
            walk(folder, folder, (root / folder).resolve())
    return Scan(
        files=files,
        practices=sorted(p for p in files if _is_source(p, "content/practices", PRACTICE_SUFFIXES)),
        pages=sorted(p for p in files if _is_source(p, "content/pages", (".md", ".markdown"))),
        problems=problems,
    )


class FileDigests:
    """The digest of each file's content, remembered by its size and times.

    A file whose size, times and inode match the last scan is not read
    again. Like git's index, an entry is only trusted when the file was last
    changed a while before that scan: a file written in the same clock tick
    as the scan could have changed without its times showing it.

    With `defer` set (a build with nothing cached to look up), a practice
    file unknown to the last scan is not read here: the worker that parses
    it reads it and tells its digest (see settle()), so that it is read once,
    not twice.
    """

    MARGIN_NS = 2_000_000_000

    def __init__(self, path: Path | None, memory: dict | None = None) -> None:
        self.path = path
        self.memory = memory
        self.old: dict[str, list] = {}
        self.trusted_before = 0
        self.new: dict[str, list] = {}
        self.started = time.time_ns()
        self.read = 0
        self.defer = False
        kept = memory.get("files") if memory is not None else None
        record = kept if kept is not None else self._load()
        if record is not None:
            self.old, self.trusted_before = record["files"], record["scanned"] - self.MARGIN_NS

    def _load(self) -> dict | None:
        if self.path is None:
            return None
        try:
            record = decode(self.path.read_bytes())
        except OSError:
            return None
        if (not isinstance(record, dict) or record.get("salt") != CODE_SALT
                or not isinstance(record.get("files"), dict) or not isinstance(record.get("scanned"), int)):
            return None
        return record

    def of(self, path: str, relative: str, *, static: bool, deferrable: bool = False) -> str | None:
        stat = os.stat(path)
        signature = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        if static:
            return f"{stat.st_size}:{stat.st_mtime_ns}"
        old = self.old.get(relative)
        if (isinstance(old, list) and len(old) == 5 and old[:4] == signature and isinstance(old[4], str)
                and stat.st_ctime_ns < self.trusted_before and stat.st_mtime_ns < self.trusted_before):
            self.new[relative] = old
            return old[4]
        if deferrable and self.defer:
            self.new[relative] = [*signature, None]
            return None
        content = digest(read_file(path))
        self.read += 1
        self.new[relative] = [*signature, content]
        return content

    def settle(self, files: dict[str, str | None]) -> None:
        """Take the digests of deferred files, as their readers found them."""
        for relative, entry in self.new.items():
            if entry[4] is None:
                entry[4] = files[relative]

    def save(self) -> None:
        record = {"salt": CODE_SALT, "scanned": self.started, "files": self.new}
        if self.memory is not None:
            self.memory["files"] = record
        if self.path is None or (self.read == 0 and self.new.keys() == self.old.keys()):
            return
        try:
            atomic_write(self.path, encode(record))
        except OSError:
            pass  # costs speed next time, nothing else


@quick_pickle
@dataclass(frozen=True, slots=True)
class Resolved:
    """A practice as resolved, with what parsing its file had to say (warnings)."""

    practice: Practice
    diagnostics: tuple[Diagnostic, ...]
    card: str  # fingerprint.card_digest() of it, for output keys
    features: str  # related.features_digest() of it, for the key of the related practices
    static: str  # the digest of the static files it was resolved with; "" if it reads none


# Stored by name: regions and themes, as they are to be the objects of each build's registry
# and themes; texts, as they are entries of their own (texts.py).
_REFERENCES = {Region: attrgetter("code"), Theme: attrgetter("id"), PracticeText: text_key, CachedText: text_key}


class _Referenced(dict):
    """What cached practices name (see _REFERENCES): this build's regions and themes, texts
    just made, and any other text as a CachedText, fetched when read."""

    def __missing__(self, reference: tuple[str, str]) -> object:
        kind, name = reference
        if kind in TEXT_REFERENCES:
            return CachedText(name)
        raise KeyError(reference)


def resolve_all(
    root: Path,
    scan: Scan,
    parse_one: Callable[[str, bytes], Parsed],
    cache: ParseCache,
    salt: str,
    workers: int,
    resolver: Resolver,
    context: str,
    static: str,
    *,
    drafts: bool,
) -> tuple[list[Practice], list[Diagnostic], dict[int, Resolved]]:
    """Every practice read, parsed and resolved, in source order, with every problem found,
    and each practice's Resolved (its card and features digests), by id().

    An unchanged practice comes from the cache already resolved, without its
    parse result even being loaded: the cache keeps it under its file's parse
    key and `context`, a digest of everything the resolver reads but the day
    and the static files (`static`, their digest). Both change often and
    change few practices, so neither means resolving every practice again
    (twice the time of a rebuild after one edit, at 10,000 practices): the
    day decides only the status, which is set again for this build's day on
    each practice loaded; and the few practices that show local images (whose
    sizes the resolver reads) are resolved again when a static file changed.
    """
    def resolved_key(parse_key: str) -> str:
        return digest("resolved", parse_key, context)

    def make_resolved(practice: Practice, diagnostics: tuple[Diagnostic, ...]) -> Resolved:
        return Resolved(practice, diagnostics, card_digest(practice), features_digest(practice),
                        static if reads_static_files(practice) else "")

    parse_keys = {source: parse_key(salt, source, scan) for source in _known(scan.practices, scan)}
    keys = {source: resolved_key(key) for source, key in parse_keys.items()}
    registry, theme_by_id = resolver.registry, resolver.theme_by_id

    # Looked up by the unpickler itself, with no Python call for each of the seven or so
    # references a practice holds.
    referenced = _Referenced({("Region", region.code): region for region in registry})
    referenced.update((("Theme", theme_id), theme) for theme_id, theme in theme_by_id.items())
    dereference = referenced.__getitem__

    def parsed_again(source: str) -> PracticeText:
        """A practice's text, should the cache have lost it."""
        _, _, result = _parse(root, source, salt, parse_one)
        practice = resolver.resolve(result.model, []) if result.model is not None else None
        if practice is None:
            raise RuntimeError(f"{source} no longer makes a practice")
        return practice.text

    STORE.use(cache.path.parent if cache.path else None, parsed_again, shared=cache.memory is not None)
    # The preview keeps its practices in memory after its first build: no bundle then.
    bundle = Bundle(cache.path.parent if cache.path and not cache.memory else None, RESOLVED_BUNDLE)
    found = cache.get_many(keys.values(), dereference, bundle.load(dereference))
    hits = {source: found[key] for source, key in keys.items()
            if isinstance(found.get(key), Resolved) and found[key].static in ("", static)}
    for source, hit in hits.items():
        _name_source(hit.practice, source, keys[source])
        changes: dict[str, object] = {}
        status = resolver.status_of(hit.practice)
        if status != hit.practice.status:  # the practice has ended since it was cached
            changes["status"] = status
        # Unpickled, a practice's themes are this build's already; kept in memory (the
        # preview's), they are those of the build that made it, whose titles may be others.
        # (Equal ones are kept: copying every practice cost a tenth of each preview rebuild.)
        if any(theme is not theme_by_id[theme.id] and theme != theme_by_id[theme.id]
               for theme in hit.practice.theme_objects):
            changes["theme_objects"] = tuple(theme_by_id[theme.id] for theme in hit.practice.theme_objects)
        if changes:
            practice = evolve(hit.practice, **changes)
            # Neither its text nor its image changed: it reads the static files as it did. Nor did
            # what related practices read of it.
            hits[source] = Resolved(practice, hit.diagnostics, card_digest(practice), hit.features, hit.static)
    # Their parse results and texts stay in the cache, for a build whose context has changed.
    cache.keep(parse_keys[source] for source in hits)
    cache.keep(hit.practice.text.key for hit in hits.values() if hit.practice.text.key)
    fresh = [source for source in scan.practices if source not in hits]
    parsed, missing = _in_cache(fresh, scan, cache, salt)
    # Resolving practices reads their texts: those of practices put back together from the
    # cache (see _in_cache) are fetched in one query rather than one by one.
    STORE.fetch(result.model.text for result in parsed.values() if result.model is not None)

    def parse_and_resolve(items: Sequence[str]) -> list[tuple[str, str, str, bytes, bytes | None,
                                                            tuple[str, bytes] | None]]:
        # In the workers, as far as it goes without the other practices: the parent only
        # checks slugs, in file order. What does not resolve is resolved there again, for
        # its messages in that order.
        made = []
        with cycle_collector(enabled=_collect_cycles(items)):
            for source in items:
                content, key, result = _parse(root, source, salt, parse_one)
                practice, resolved, text = result.model, None, None
                if practice is not None and (drafts or not practice.draft):
                    problems: list[Diagnostic] = []
                    practice = resolver.resolve(practice, problems)
                    if practice is not None and not problems:
                        entry = make_resolved(practice, result.diagnostics)
                        text = text_entry(practice.text)  # before the practice that names it
                        resolved = encode(entry, _REFERENCES)
                made.append((source, content, key,
                             encode(result if resolved is None else unresolved(result, resolved_key(key), practice)),
                             resolved, text))
        return made

    new_entries: list[tuple[str, bytes]] = []
    new_texts: list[CachedText] = []  # texts made by the workers, whose entries are among new_entries

    def store(key: str, entry: bytes) -> None:
        """Write an entry (in batches), counted as used by this build."""
        cache.keep([key])
        new_entries.append((key, entry))
        if len(new_entries) == STORE_BATCH:  # not every practice's HTML in memory at once
            flush()

    def flush() -> None:
        nonlocal new_entries, new_texts
        if cache.store_many(new_entries):  # stored, a text can be let go of (see texts.TEXT_BUDGET)
            STORE.let_go(new_texts)
        new_entries, new_texts = [], []

    for chunk in iter_chunks(parse_and_resolve, missing, workers=workers, max_items=CHUNK_FILES):
        for source, content, key, parse_entry, resolved_entry, text in chunk:
            if scan.files[source] is None:
                scan.files[source] = content
                keys[source] = resolved_key(key)
                parse_keys[source] = key
            store(key, parse_entry)
            entry = None
            if resolved_entry and text:
                made = decode(text[1])
                if isinstance(made, PracticeText):
                    # Its text as just made, not fetched from the cache when first read.
                    reference = ("PracticeText", text[0])
                    referenced[reference] = made_text = CachedText(text[0], source, keys[source])
                    STORE.hold(made_text, made, len(text[1]))
                    entry = decode(resolved_entry, dereference)
                    del referenced[reference]
            if isinstance(entry, Resolved):
                hits[source] = entry
                cache.remember(keys[source], entry)
                store(keys[source], resolved_entry)
                new_texts.append(made_text)
                store(*text)  # type: ignore[misc]
            else:
                parsed[source] = decode(parse_entry)
                cache.remember(key, parsed[source])

    practices: list[Practice] = []
    parse_problems: list[Diagnostic] = []
    problems: list[Diagnostic] = []
    first_source_of_slug: dict[str, str] = {}
    known: dict[int, Resolved] = {}
    resolved: dict[str, Resolved] = {}  # by key: what the bundle is to hold
    for source in scan.practices:
        hit = hits.get(source)
        if hit is not None:
            parse_problems += hit.diagnostics
            practice: Practice | None = hit.practice
            known[id(hit.practice)] = hit
            resolved[keys[source]] = hit
        else:
            parse_problems += parsed[source].diagnostics
            practice = parsed[source].model
        if practice is None or (practice.draft and not drafts):
            continue
        clash = slug_clash(practice, first_source_of_slug)
        if clash:
            problems.append(clash)
        if hit is None:
            before = len(problems)
            practice = resolver.resolve(practice, problems)
            if practice is not None and len(problems) == before:
                entry = make_resolved(practice, tuple(parsed[source].diagnostics))
                known[id(practice)] = entry
                resolved[keys[source]] = entry
                cache.remember(keys[source], entry)
                if practice.text.key:  # a text stored already, which resolving left as it was
                    cache.keep([practice.text.key])
                else:
                    store(*text_entry(practice.text))
                store(keys[source], encode(entry, _REFERENCES))
                # Its parse result now names this resolved practice, not one the cache may drop.
                kept_as = unresolved(parsed[source], keys[source], practice)
                cache.remember(parse_keys[source], kept_as)
                store(parse_keys[source], encode(kept_as))
        if practice is not None and not clash:
            practices.append(practice)
    flush()
    # Written by a build that took practices from the cache, once the bundle has fallen
    # behind (0.4 to 1 s at 10,000 practices): not by a first build, which would pay for it in
    # every cold build; nor before the practices' texts are stored, which it names.
    if found and bundle.path is not None and bundle.behind(resolved):
        bundle.save(resolved, _REFERENCES)
    return practices, parse_problems + problems, known


def site_regions(root: Path) -> tuple[RegionRegistry, list[Diagnostic]]:
    registry = load_registry()
    extras = root / "content" / "regions.yaml"
    if not extras.is_file():
        return registry, []
    try:
        text = extras.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return registry, [error("content/regions.yaml", "not valid UTF-8 text; save it as UTF-8")]
    return registry.with_extras(text, "content/regions.yaml")
