"""The build, stage by stage: settings, files, parse, resolve, index, render, write.

Everything is read and checked before anything is written: a build with
errors writes nothing and leaves the previous output as it was. Parsing and
rendering are pure, so both are cached (by content) and split across
processes; a page whose inputs did not change is taken from the previous
output instead of being rendered again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .cache import CACHE_DIR, CODE_SALT, OutputManifest, ParseCache, digest
from .config import Settings, read_settings
from .content import Parsed, parse_page, parse_practice, parse_themes
from .errors import Diagnostic, SiteError, error
from .fingerprint import WHOLE_PRACTICE_TEMPLATES, Fingerprinter, global_key
from .indexes import build_site
from .model import Page, Practice, PracticeText, Site, Theme
from .output import (
    StagedOutput,
    build_id_of,
    check_output_folder,
    recover,
    spare_folder,
)
from .parallel import cycle_collector, default_workers, in_two_processes, map_chunks
from .plan import Output, plan_outputs
from .quick import Basis
from .records import RecordNotes
from .regions import RegionRegistry
from .render import Renderer, TemplateSet, template_error
from .resolve import Resolver, resolve_pages
from .search import index_site
from .sources import FileDigests, Scan, parse_all, parse_file, resolve_all, scan, site_regions
from .texts import STORE

log = logging.getLogger(__name__)

@dataclass(slots=True)
class BuildResult:
    """What a build did, for the one-line summary."""

    site: Site | None  # None when nothing had changed and nothing was loaded
    practices: int = 0
    pages: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    rendered: int = 0
    seconds: float = 0.0
    search_seconds: float = 0.0
    search_given_up: bool = False  # the previous search index was kept, out of date (give_up_search)
    warnings: list[Diagnostic] = field(default_factory=list)
    up_to_date: bool = False
    # Output files whose bytes may differ from the previously published ones, deleted ones
    # included: the preview reloads only the pages among them.
    changed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.up_to_date:
            return (f"Up to date: {self.practices} practices, {self.files} files; "
                    f"nothing changed since the last build ({self.seconds:.2f} s)")
        search = f", search {self.search_seconds:.2f} s" if self.search_seconds else ""
        if self.search_given_up:
            search = ", search index left for a later build"
        return (
            f"Built {self.practices} practices: {self.pages} pages, {self.files} files "
            f"({self.written} written, {self.unchanged} unchanged) in {self.seconds:.2f} s{search}"
        )


@dataclass(slots=True)
class Loaded:
    """The site read, parsed, resolved and indexed, ready to render."""

    root: Path
    site: Site
    warnings: list[Diagnostic]
    registry: RegionRegistry
    themes_digest: str
    cards: dict[int, str]  # each practice's card digest, by id(): made once, kept in the cache
    resolver: Resolver


def build_date() -> dt.date:
    """Today, or the day SOURCE_DATE_EPOCH names, for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


def load(
    root: Path,
    *,
    base_url: str | None = None,
    strict: bool = False,
    drafts: bool = False,
    cache: ParseCache | None = None,
    workers: int = 1,
    scanned: Scan | None = None,
) -> Loaded:
    """Read and check the whole site; raise SiteError listing every problem."""
    cache = cache or ParseCache(None)
    scanned = scanned or scan(root, FileDigests(None))
    problems: list[Diagnostic] = []
    settings, found = read_settings(root, base_url=base_url)
    problems += found

    themes_parsed = parse_file(root, "content/themes.yaml", parse_themes, required=True)
    problems += themes_parsed.diagnostics
    themes: tuple[Theme, ...] = themes_parsed.model or ()
    themes_digest = digest(repr(themes))  # for output keys: what pages show of the themes

    registry, found = site_regions(root)
    problems += found
    problems += scanned.problems

    trust_html = settings.trust_html if settings else False
    engine = settings.markdown if settings else "python-markdown"
    salt = digest(CODE_SALT, str(trust_html), engine)

    def parse_one_practice(source: str, data: bytes) -> Parsed:
        return parse_practice(source, data, trust_html=trust_html, engine=engine)

    def parse_one_page(source: str, data: bytes) -> Parsed:
        return parse_page(source, data, trust_html=trust_html, engine=engine)

    today = build_date()
    practices: list[Practice] = []
    cards: dict[int, str] = {}
    related_digests: dict[int, str] = {}
    resolver = None
    if settings is not None and themes_parsed.model is not None:
        resolver = Resolver(themes, registry, base_path=settings.base_path, today=today,
                            static_root=root / "content" / "static")
        # Everything a resolved practice depends on besides its own file, but the day and the
        # static files, which resolve_all checks for each practice it loads. Of the themes, only
        # which ones there are: a cached practice holds its themes by id, and gets this build's.
        context = digest(*sorted(resolver.theme_by_id), registry.fingerprint, settings.base_path)
        static = digest(*(f"{path}={value}" for path, value in scanned.files.items()
                          if path.startswith("content/static/")))
        practices, found, known = resolve_all(root, scanned, parse_one_practice, cache, salt, workers,
                                              resolver, context, static, drafts=drafts)
        problems += found
        cards = {key: resolved.card for key, resolved in known.items()}
        related_digests = {key: resolved.features for key, resolved in known.items()}
    else:  # nothing to resolve against: only what the files themselves get wrong
        for parsed in parse_all(root, scanned.practices, scanned, parse_one_practice, cache, salt, workers):
            problems += parsed.diagnostics
    pages: list[Page] = []
    for parsed in parse_all(root, scanned.pages, scanned, parse_one_page, cache, salt, workers):
        problems += parsed.diagnostics
        if parsed.model is not None and (drafts or not parsed.model.draft):
            pages.append(parsed.model)
    if settings is not None:
        pages, found = resolve_pages(pages, base_path=settings.base_path)
        problems += found

    if strict:
        problems = [error(d.path, d.message, d.line, d.column) for d in problems]
    errors = [d for d in problems if d.severity == "error"]
    if errors or settings is None or resolver is None:
        raise SiteError(problems)
    site = build_site(settings, practices, pages, themes, registry, build_date=today, cache=cache,
                      workers=workers, related_digests=related_digests)
    warnings = [d for d in problems if d.severity == "warning"]
    return Loaded(root, site, warnings, registry, themes_digest, cards, resolver)


def render_output(output: Output, renderer: Renderer, staged: StagedOutput,
                  notes: RecordNotes) -> bytes | Iterable[bytes]:
    """The bytes of one planned output file (in chunks for large data files)."""
    if output.make is not None:
        return output.make(staged.read, notes) if output.late else output.make()
    if output.copy_from is not None:
        return output.copy_from.read_bytes()
    return renderer.render(output.template, **output.context).encode()


def _texts_shown(outputs: Iterable[Output]) -> Iterator[PracticeText]:
    """The texts of the practices these outputs show whole (their pages, their open data, the
    feeds), to fetch at once: other templates may read more, and have it fetched as they do."""
    for output in outputs:
        if output.template in ("", *WHOLE_PRACTICE_TEMPLATES):
            shown = output.context.get("practice")
            if isinstance(shown, Practice):
                yield shown.text
            for practice in output.context.get("practices", ()):
                if isinstance(practice, Practice):
                    yield practice.text


RU_MAXRSS_BYTES = 1 if sys.platform == "darwin" else 1024  # kilobytes on Linux, bytes on macOS


class _StageTimer:
    """Logs how long each stage of a build took, and this process's peak memory so far
    (shown with --debug)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if log.isEnabledFor(logging.DEBUG):
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RU_MAXRSS_BYTES / 2**20
            log.debug("%6.2f s  %-60s peak %4.0f MB", now - self.last, name, peak)
        self.last = now


# A build makes hundreds of thousands of objects that live until it ends, and
# rendering leaves no reference cycles behind: Python's cycle collector would
# only walk the same objects again and again (a quarter of a small rebuild's
# time). Parsing, which does leave cycles, turns it back on for itself.
@cycle_collector(enabled=False)
def build(
    root: Path,
    *,
    output: Path | None = None,
    base_url: str | None = None,
    strict: bool = False,
    drafts: bool = False,
    workers: int | None = None,
    use_cache: bool = True,
    memory: dict | None = None,
    give_up_search: Callable[[], bool] | None = None,
) -> BuildResult:
    """Perform a full site build.

    `memory` is a dict a long-running caller keeps between builds, so that
    unchanged files are taken from memory rather than from the disk cache.
    `give_up_search()`, asked while Pagefind runs, says whether to stop it and
    keep the previous search index (the preview: a newer change is waiting).
    """
    started = time.perf_counter()
    root = root.resolve()
    output = (output or root / "output").resolve()
    workers = workers or default_workers()
    check_output_folder(output, site_root=root)
    recover(output)
    cache_folder = root / CACHE_DIR if use_cache else None
    manifest = OutputManifest(cache_folder)
    published_id = build_id_of(output)
    stage = _StageTimer()
    file_digests = FileDigests(cache_folder / "files.pickle" if cache_folder else None, memory)
    parse_cache = ParseCache(cache_folder, memory)
    # With nothing cached to look up, practices are read only by the workers that parse them.
    file_digests.defer = parse_cache.is_empty()
    scanned = scan(root, file_digests)
    # The day matters too: it decides which practices are ongoing.
    options = [str(build_date()), repr(base_url), repr(strict), repr(drafts)]
    stage(f"scan files ({file_digests.read} read)")
    complete = scanned.complete
    if complete:
        file_digests.save()
        inputs = scanned.digest(output, options)
        last = manifest.last_build()
        if published_id and last and last["build_id"] == published_id and last["inputs"] == inputs:
            # Nothing the build reads has changed since the published build.
            return BuildResult(site=None, practices=last.get("practices", 0), files=last.get("files", 0),
                               unchanged=last.get("files", 0), seconds=time.perf_counter() - started,
                               up_to_date=True)

    loaded = load(root, base_url=base_url, strict=strict, drafts=drafts, cache=parse_cache, workers=workers,
                  scanned=scanned)
    if not complete:  # the workers have told the digests left to them
        file_digests.settle(scanned.files)
        file_digests.save()
        inputs = scanned.digest(output, options)
    stage(f"load, parse ({parse_cache.hits} cached, {parse_cache.misses} parsed), resolve, index")
    parse_cache.forget_unused()
    parse_cache.close()
    site = loaded.site
    outputs, clashes = plan_outputs(site, static_root=root / "content" / "static")
    if clashes:
        raise SiteError(clashes + loaded.warnings)
    templates, templates_digest = _templates(root, cache_folder, memory)
    renderer = Renderer(site, templates, loaded.registry)
    fingerprints = Fingerprinter(
        site, templates, templates_digest, global_key(site, [loaded.registry.fingerprint, loaded.themes_digest]),
        loaded.cards,
    )
    # In this process: a forked one would halve 0.2 s at 10,000 practices, but the copies it
    # makes of the pages it touches, and this process's own first writes to every page of
    # the site after a fork, cost as much (one edit took 0.09 s longer, measured 16 times).
    keys = {item.path: fingerprints.key(item) for item in outputs}
    if cache_folder is not None:
        templates.save_findings(cache_folder / FINDINGS_FILE, digest(CODE_SALT, templates_digest))
    stage("plan and keys")
    build_id = digest(*(f"{path}={key}" for path, key in keys.items()))  # in plan order: the same for the same site

    # Rendering can still fail (a broken template override); until commit()
    # nothing has touched the output folder.
    spare_id = build_id_of(spare_folder(output))
    staged = StagedOutput(output, manifest.keys_for(published_id), manifest.keys_for(spare_id))
    notes = RecordNotes(cache_folder, output, keys)
    search_seconds, search_given_up = 0.0, False
    try:
        kept = staged.keep_all([(item.path, keys[item.path]) for item in outputs])
        to_render = [i for i, here in enumerate(kept) if not here]
        stage(f"keep unchanged files ({len(outputs) - len(to_render)})")

        def render_chunk(indices: Sequence[int]) -> tuple[int, int, list[str]]:
            before = (staged.written, staged.unchanged, len(staged.changed))
            mark = STORE.mark()
            # Late outputs read files made before them, so theirs are written at once; the
            # open-data files copy each practice's record from there, with its text.
            late = any(outputs[i].late for i in indices)
            if fetch_all and not late:
                STORE.fetch(practice.text for practice in site.practices)
            else:  # any other text a template reads is fetched as it does (if the cards are off)
                STORE.fetch(_texts_shown(outputs[i] for i in indices))
            with contextlib.nullcontext() if late else staged.writing_behind():
                for i in indices:
                    staged.write(outputs[i].path, render_output(outputs[i], renderer, staged, notes))
            STORE.let_go(STORE.fetched_since(mark))
            return (staged.written - before[0], staged.unchanged - before[1], staged.changed[before[2]:])

        # When templates may show more of a listed practice than its card, any page may show
        # any text: all are fetched at once, if they fit in memory (see texts.TEXT_BUDGET).
        fetch_all = not fingerprints.cards and bool(to_render) and STORE.fit(p.text for p in site.practices)

        # Files differ in cost (a practice's page, a list of hundreds): with many small
        # chunks, neither worker is left alone with a long last one (0.4 s of 3.5 s at
        # 10,000 practices). The files of one folder (a practice's page and its record)
        # are made in one chunk: its text is then fetched once, and the folder made once.
        results = map_chunks(render_chunk, [i for i in to_render if not outputs[i].late], workers=workers,
                             per_worker=RENDER_CHUNKS_PER_WORKER,
                             together=lambda i: outputs[i].path.rpartition("/")[0])
        if len(results) > 1:  # done in worker processes: add up what they did
            staged.count_elsewhere(results)
        # The late files read those made before them, so they come after; they are a
        # handful (the open-data files), for which one bare fork costs less than a pool.
        late = [i for i in to_render if outputs[i].late]
        if workers > 1 and len(late) > 1 and len(to_render) >= MIN_OUTPUTS_FOR_TWO_PROCESSES:
            _render_late_in_two_processes(late, outputs, render_chunk, staged, notes)
        else:
            render_chunk(late)
        stage(f"render and write ({len(to_render)})")
        staged.remove_stale(keys)
        if site.settings.search:
            # The index is made from the staged pages, so the swap below
            # publishes pages and index together.
            indexed = index_site(staged, site, give_up_search)
            search_given_up = indexed is None
            if search_given_up:  # not up to date: the next build indexes again
                inputs = digest(inputs, "search index given up")
            search_seconds = indexed or 0.0
        staged.commit(build_id)
        stage("search index and swap")
    except jinja2.TemplateError as exc:
        staged.abort()
        raise SiteError([template_error(exc, root)]) from None
    except OSError as exc:  # a full disk, a folder without permission: not a bug
        staged.abort()
        where = str(exc.filename or output).replace(str(staged.staging), str(output), 1)
        raise SiteError([error(where, f"cannot write the site: {exc.strerror or exc}")]) from None
    except BaseException:
        staged.abort()
        raise
    rendered = {outputs[i].path for i in to_render}
    written = set(staged.changed)
    published = manifest.keys_for(published_id) or {}
    changed = [path for path, key in keys.items()
               if published.get(path) != key and (path not in rendered or path in written)]
    changed += [path for path in published if path not in keys]
    manifest.save(build_id, keys, inputs, keep=published_id, practices=len(site.practices))
    notes.save()
    STORE.close()  # the preview keeps texts it fetched; a later fetch connects again
    if memory is not None:  # for the preview, which makes an edited practice's pages alone first
        memory["quick"] = Basis(root, site, loaded.resolver, templates, site.settings.trust_html,
                                site.settings.markdown, drafts)
    return BuildResult(
        site=site,
        practices=len(site.practices),
        pages=sum(1 for o in outputs if o.path.endswith(".html")),
        files=len(outputs),
        written=staged.written,
        unchanged=staged.unchanged,
        rendered=len(to_render),
        seconds=time.perf_counter() - started,
        search_seconds=search_seconds,
        search_given_up=search_given_up,
        warnings=loaded.warnings,
        changed=changed,
    )


RENDER_CHUNKS_PER_WORKER = 16
# From this many files to render on, the late ones are made in two processes.
MIN_OUTPUTS_FOR_TWO_PROCESSES = 4000


def _render_late_in_two_processes(late: list[int], outputs: list[Output], render_chunk: Callable,
                                  staged: StagedOutput, notes: RecordNotes) -> None:
    """The late files (the open-data files, a fifth of a second each at 10,000 practices) made
    side by side: half here, half in a forked process, whose counts and record notes come back."""
    here = os.getpid()

    def render_each(indices: Sequence[int]) -> list[tuple[int, str, tuple, dict | None]]:
        return [(os.getpid(), outputs[i].path, render_chunk([i]), notes.made(outputs[i].path)) for i in indices]

    # What this process did is counted and noted already.
    elsewhere = [(path, counts, spans) for pid, path, counts, spans in in_two_processes(render_each, late)
                 if pid != here]
    staged.count_elsewhere(counts for _, counts, _ in elsewhere)
    for path, _, spans in elsewhere:
        if spans is not None:
            notes.made_elsewhere(path, spans)


# In the cache folder: what the templates were found to read (see TemplateSet.findings).
FINDINGS_FILE = "template-findings.pickle"


def _templates(root: Path, cache_folder: Path | None, memory: dict | None) -> tuple[TemplateSet, str]:
    """The site's templates, reused from memory while no template file changed, with what an
    earlier build found by reading them."""
    templates = TemplateSet(root / "templates", cache_folder / "templates" if cache_folder else None)
    templates_digest = templates.digest()
    if memory is not None:
        kept = memory.get("templates")
        if kept is not None and kept[1] == templates_digest:
            return kept
        memory["templates"] = (templates, templates_digest)
    if cache_folder is not None:
        templates.read_findings(cache_folder / FINDINGS_FILE, digest(CODE_SALT, templates_digest))
    return templates, templates_digest


def check(root: Path, *, strict: bool = False, drafts: bool = False) -> Loaded:
    """Validate the site without writing anything."""
    root = root.resolve()
    loaded = load(root, strict=strict, drafts=drafts, workers=default_workers())
    _, clashes = plan_outputs(loaded.site, static_root=root / "content" / "static")
    if clashes:
        raise SiteError(clashes + loaded.warnings)
    return loaded


__all__ = ["BuildResult", "Settings", "build", "check", "load"]
