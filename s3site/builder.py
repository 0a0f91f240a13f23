"""The build, stage by stage: settings, files, parse, resolve, index, render, write.

Everything is read and checked before anything is written: a build with
errors writes nothing and leaves the previous output as it was.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .config import Settings, read_settings
from .content import Parsed, parse_page, parse_practice, parse_themes
from .errors import Diagnostic, SiteError, error
from .indexes import build_site
from .model import Page, Practice, Site, Theme
from .output import StagedOutput, check_output_folder, recover
from .plan import Output, plan_outputs
from .regions import RegionRegistry, load_registry
from .render import Renderer, TemplateSet, template_error
from .resolve import resolve_pages, resolve_practices
from .search import index_site

log = logging.getLogger(__name__)

PRACTICE_SUFFIXES = (".md", ".markdown", ".yaml", ".yml")


@dataclass(slots=True)
class BuildResult:
    """What a build did, for the one-line summary."""

    site: Site
    pages: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    search_seconds: float = 0.0
    warnings: list[Diagnostic] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"Built {len(self.site.practices)} practices: {self.pages} pages, {self.files} files "
            f"({self.written} written, {self.unchanged} unchanged) in {self.seconds:.2f} s"
        )


@dataclass(slots=True)
class Loaded:
    """The site read, parsed, resolved and indexed, ready to render."""

    root: Path
    site: Site
    warnings: list[Diagnostic]


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
) -> Loaded:
    """Read and check the whole site; raise SiteError listing every problem."""
    problems: list[Diagnostic] = []
    settings, found = read_settings(root, base_url=base_url)
    problems += found

    themes_parsed = _parse_file(root, "content/themes.yaml", parse_themes, required=True)
    problems += themes_parsed.diagnostics
    themes: tuple[Theme, ...] = themes_parsed.model or ()

    registry, found = _registry(root)
    problems += found

    trust_html = settings.trust_html if settings else False
    practices: list[Practice] = []
    for source in practice_sources(root):
        parsed = parse_practice(source, (root / source).read_bytes(), trust_html=trust_html)
        problems += parsed.diagnostics
        if parsed.model is not None:
            practices.append(parsed.model)
    pages: list[Page] = []
    for source in page_sources(root):
        parsed = parse_page(source, (root / source).read_bytes(), trust_html=trust_html)
        problems += parsed.diagnostics
        if parsed.model is not None:
            pages.append(parsed.model)

    if not drafts:
        practices = [p for p in practices if not p.draft]
        pages = [p for p in pages if not p.draft]
    today = build_date()
    if settings is not None and themes_parsed.model is not None:
        practices, found = resolve_practices(
            practices, themes, registry, base_path=settings.base_path, today=today
        )
        problems += found
        pages, found = resolve_pages(pages, base_path=settings.base_path)
        problems += found

    if strict:
        problems = [error(d.path, d.message, d.line, d.column) for d in problems]
    errors = [d for d in problems if d.severity == "error"]
    if errors or settings is None:
        raise SiteError(problems)
    site = build_site(settings, practices, pages, themes, registry, build_date=today)
    return Loaded(root, site, [d for d in problems if d.severity == "warning"])


def _registry(root: Path) -> tuple[RegionRegistry, list[Diagnostic]]:
    registry = load_registry()
    extras = root / "content" / "regions.yaml"
    if not extras.is_file():
        return registry, []
    try:
        text = extras.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return registry, [error("content/regions.yaml", "not valid UTF-8 text; save it as UTF-8")]
    return registry.with_extras(text, "content/regions.yaml")


def _parse_file(root: Path, source: str, parse, *, required: bool) -> Parsed:
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
            if name.endswith(suffixes) and not name.startswith((".", "_", "~")) and not name.endswith("~"):
                found.append(Path(directory, name).relative_to(root).as_posix())
    return sorted(found)


def practice_sources(root: Path) -> list[str]:
    return _sources(root, "content/practices", PRACTICE_SUFFIXES)


def page_sources(root: Path) -> list[str]:
    return _sources(root, "content/pages", (".md", ".markdown"))


def render_output(output: Output, renderer: Renderer) -> bytes:
    """The bytes of one planned output file."""
    if output.make is not None:
        return output.make()
    if output.copy_from is not None:
        return output.copy_from.read_bytes()
    return renderer.render(output.template, **output.context).encode()


def build(
    root: Path,
    *,
    output: Path | None = None,
    base_url: str | None = None,
    strict: bool = False,
    drafts: bool = False,
) -> BuildResult:
    """Perform a full site build."""
    started = time.perf_counter()
    root = root.resolve()
    output = (output or root / "output").resolve()
    check_output_folder(output, site_root=root)
    recover(output)
    loaded = load(root, base_url=base_url, strict=strict, drafts=drafts)
    site = loaded.site

    outputs, clashes = plan_outputs(site, static_root=root / "content" / "static")
    if clashes:
        raise SiteError(clashes + loaded.warnings)
    templates = TemplateSet(root / "templates")
    renderer = Renderer(site, templates)

    # Rendering can still fail (a broken template override); until commit()
    # nothing has touched the output folder.
    staged = StagedOutput(output)
    search_seconds = 0.0
    try:
        for item in outputs:
            staged.write(item.path, render_output(item, renderer))
        if site.settings.search:
            # The index is made from the staged pages, so the swap below
            # publishes pages and index together.
            search_seconds = index_site(staged, site)
        staged.commit()
    except jinja2.TemplateError as exc:
        staged.abort()
        raise SiteError([template_error(exc, root)]) from None
    except BaseException:
        staged.abort()
        raise
    return BuildResult(
        site=site,
        pages=sum(1 for o in outputs if o.path.endswith(".html")),
        files=len(outputs),
        written=staged.written,
        unchanged=staged.unchanged,
        seconds=time.perf_counter() - started,
        search_seconds=search_seconds,
        warnings=loaded.warnings,
    )


def check(root: Path, *, strict: bool = False, drafts: bool = False) -> Loaded:
    """Validate the site without writing anything."""
    loaded = load(root.resolve(), strict=strict, drafts=drafts)
    _, clashes = plan_outputs(loaded.site, static_root=root / "content" / "static")
    if clashes:
        raise SiteError(clashes + loaded.warnings)
    return loaded


__all__ = ["BuildResult", "Settings", "build", "check", "load"]
