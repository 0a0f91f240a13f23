"""Reading the site's files: which there are, their bytes, and parsing them with the cache.

Files are found in sorted order, so that builds never depend on the order
the file system lists them in. Symbolic links that lead out of their folder
are reported, never followed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from .cache import CODE_SALT, ParseCache, decode, digest, encode
from .content import Parsed
from .errors import Diagnostic, error
from .parallel import map_chunks
from .regions import RegionRegistry, load_registry

PRACTICE_SUFFIXES = (".md", ".markdown", ".yaml", ".yml")


def read_sources(root: Path, sources: Sequence[str], salt: str) -> list[tuple[str, bytes, str]]:
    """Each file's bytes and its cache key: its path, its content and what parses it."""
    items = []
    for source in sources:
        data = (root / source).read_bytes()
        items.append((source, data, digest(salt, source, data)))
    return items


def _with_digest(parsed: Parsed, key: str) -> Parsed:
    if parsed.model is None:
        return parsed
    return Parsed(replace(parsed.model, digest=key), parsed.diagnostics)


def parse_all(
    root: Path,
    sources: list[str],
    parse_one: Callable[[str, bytes], Parsed],
    cache: ParseCache,
    salt: str,
    workers: int,
) -> list[Parsed]:
    """Parse files, taking unchanged ones from the cache, the rest across workers."""
    results: dict[str, Parsed] = {}
    missing: list[tuple[str, bytes, str]] = []
    for source, data, key in read_sources(root, sources, salt):
        cached = cache.get(key)
        if isinstance(cached, Parsed):
            results[source] = cached
        else:
            missing.append((source, data, key))

    def parse_chunk(items: Sequence[tuple[str, bytes, str]]) -> list[tuple[str, str, bytes]]:
        # Results travel encoded, as the cache stores them: encoding is then
        # done once, and in the workers.
        return [(source, key, encode(_with_digest(parse_one(source, data), key))) for source, data, key in items]

    entries = []
    for chunk in map_chunks(parse_chunk, missing, workers=workers):
        for source, key, entry in chunk:
            results[source] = decode(entry)
            cache.remember(key, results[source])
            entries.append((key, entry))
    cache.store_many(entries)
    return [results[source] for source in sources]


def parse_file(root: Path, source: str, parse, *, required: bool) -> Parsed:
    path = root / source
    if not path.is_file():
        if required:
            return Parsed(None, (error(source, "missing: the site needs this file"),))
        return Parsed(None)
    return parse(source, path.read_bytes())


def _sources(root: Path, folder: str, suffixes: tuple[str, ...]) -> list[str]:
    """Files below a content folder, sorted, as site-relative POSIX paths."""
    base = root / folder
    if not base.is_dir():
        return []
    found = []
    for directory, subdirs, files in os.walk(base):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(directory, name)
            if path.is_symlink() and base.resolve() not in path.resolve().parents:
                continue  # reported by links_leaving()
            if name.endswith(suffixes) and not name.startswith((".", "_", "~")) and not name.endswith("~"):
                found.append(path.relative_to(root).as_posix())
    return sorted(found)


def links_leaving(root: Path, folders: Sequence[str]) -> list[Diagnostic]:
    """Symbolic links that point outside their folder: never followed, always reported."""
    problems = []
    for folder in folders:
        base = (root / folder).resolve()
        if not base.is_dir():
            continue
        for directory, subdirs, files in os.walk(root / folder):
            subdirs.sort()
            for name in sorted(subdirs + files):
                path = Path(directory, name)
                if path.is_symlink():
                    target = path.resolve()
                    if target != base and base not in target.parents:
                        problems.append(error(path.relative_to(root).as_posix(),
                                              f"a symbolic link to {target}, outside {folder}/; "
                                              "copy the file in instead"))
    return problems


def practice_sources(root: Path) -> list[str]:
    return _sources(root, "content/practices", PRACTICE_SUFFIXES)


def page_sources(root: Path) -> list[str]:
    return _sources(root, "content/pages", (".md", ".markdown"))


def input_digest(root: Path, output: Path, options: Sequence[str]) -> str:
    """Everything a build reads, as one digest: equal digests mean equal output."""
    parts = [CODE_SALT, str(output), *options]
    for folder in ("content", "templates"):
        base = root / folder
        if not base.is_dir():
            continue
        for directory, subdirs, files in os.walk(base):
            subdirs.sort()
            for name in sorted(files):
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, root)
                if relative.startswith(os.path.join("content", "static") + os.sep):
                    # Static files can be large; they are only copied, so their
                    # size and time are enough to notice a change.
                    stat = os.stat(path)
                    parts.append(f"{relative}:{stat.st_size}:{stat.st_mtime_ns}")
                else:
                    with open(path, "rb") as handle:
                        parts.append(f"{relative}:{digest(handle.read())}")
    return digest(*parts)


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
