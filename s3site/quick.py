"""An edited practice's own pages, made alone for the preview, ahead of the rebuild.

A rebuild after an edit reads, plans and keys the whole site: at 10,000
practices that is most of a second. The page being edited needs only its
file: parsed, resolved against the last good build's themes and regions, and
rendered with its templates, it is in the browser within a few
milliseconds of the save being noticed. The rebuild follows and makes
everything else that shows the practice (lists, related practices of
others, feeds, open data); until it is done, the page lists the related
practices it had before the edit.

Anything this cannot make exactly as a build would (a new, renamed or
deleted practice, a file with errors, any other kind of file) is left to
the rebuild alone: `render_edited` returns None.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .content import parse_practice
from .errors import Diagnostic
from .model import Site
from .plan import practice_outputs
from .render import Renderer, TemplateSet
from .resolve import Resolver


@dataclass(slots=True)
class Basis:
    """What the last good build leaves behind for making a practice's pages alone."""

    root: Path
    site: Site
    resolver: Resolver
    templates: TemplateSet
    trust_html: bool
    engine: str
    drafts: bool


def render_edited(basis: Basis, changed: Iterable[str]) -> dict[str, bytes] | None:
    """The page and the record of each edited practice, by output path; None when the
    edit needs the whole rebuild to show."""
    by_source = {practice.source: practice for practice in basis.site.practices}
    renderer: Renderer | None = None
    made: dict[str, bytes] = {}
    for source in changed:
        before = by_source.get(source)
        if before is None:  # a new file, a deleted one, or not a practice at all
            return None
        try:
            data = (basis.root / source).read_bytes()
        except OSError:
            return None
        parsed = parse_practice(source, data, trust_html=basis.trust_html, engine=basis.engine)
        if parsed.model is None or any(d.severity == "error" for d in parsed.diagnostics):
            return None
        if parsed.model.draft and not basis.drafts:
            return None
        problems: list[Diagnostic] = []
        practice = basis.resolver.resolve(parsed.model, problems)
        if practice is None or practice.slug != before.slug:
            return None
        # Related practices depend on every practice: the rebuild works them out again.
        object.__setattr__(practice, "related", before.related)
        renderer = renderer or Renderer(basis.site, basis.templates, basis.resolver.registry)
        page, record = practice_outputs(basis.site, practice)
        made[page.path] = renderer.render(page.template, **page.context).encode()
        made[record.path] = record.make()
    return made or None
