"""Keys for output files: what each page was made from, as one digest.

A page needs rendering again only when its key changes. The key covers
everything global (settings, templates, registry, themes, free pages in the
menu) and what the page's own context holds: each practice by the digest of
its source file and its status, each index term by the practices it lists.
Templates that read the whole site (the home page, the indexes) also cover
the digest of every practice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import astuple, is_dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from .cache import CODE_SALT, digest
from .model import Page, Practice, RegionTerm, Site, ThemeTerm, TypeTerm
from .plan import Output
from .render import Meta, Pager, TemplateSet

# What a template may read of `site` without depending on every practice:
# the settings and the free pages (menu, footer), which the global key covers.
SITE_LOCAL_RE = re.compile(r"\bsite\.(?!menu\b|pages\b|settings\b)")


def site_digest(site: Site) -> str:
    """One digest of every practice and page the site shows."""
    return digest(
        "\n".join(f"{p.digest} {p.status}" for p in site.practices),
        "\n".join(p.digest for p in site.pages),
    )


def global_key(site: Site, templates: TemplateSet, extra: Iterable[str]) -> str:
    """What every page depends on."""
    settings = repr(site.settings.to_dict())
    pages = repr([(p.title, p.url, p.menu) for p in site.pages])
    sources = []
    for folder in templates.search_path:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                sources.append(f"{path.relative_to(folder)}:{digest(path.read_bytes())}")
    return digest(CODE_SALT, settings, pages, "\n".join(sources), *extra)


class Fingerprinter:
    """Computes output keys, remembering the parts several pages share."""

    def __init__(self, site: Site, templates: TemplateSet, global_part: str) -> None:
        self.global_part = global_part
        self.site_part = site_digest(site)
        self.env = templates.environment
        self._site_wide: dict[str, bool] = {}
        self._terms: dict[int, str] = {}

    def key(self, output: Output) -> str:
        if output.copy_from is not None:
            stat = output.copy_from.stat()
            return digest("copy", str(output.copy_from), str(stat.st_size), str(stat.st_mtime_ns))
        parts = [self.global_part, output.path, output.template]
        if output.site_wide or self.reads_site(output.template):
            parts.append(self.site_part)
        parts.append(self._walk(output.context))
        return digest(*parts)

    def reads_site(self, template: str) -> bool:
        """Whether a template (or one it extends or includes) reads the site's content."""
        if not template:
            return False
        if template not in self._site_wide:
            self._site_wide[template] = False  # guards against include cycles
            source = self.env.loader.get_source(self.env, template)[0]  # type: ignore[union-attr]
            found = bool(SITE_LOCAL_RE.search(source))
            try:
                references = meta.find_referenced_templates(self.env.parse(source))
            except jinja2.TemplateSyntaxError:
                references = []
            for name in references:
                # A computed template name could be anything: assume the worst.
                found = found or name is None or self.reads_site(name)
            self._site_wide[template] = found
        return self._site_wide[template]

    def _walk(self, value: Any) -> str:
        if isinstance(value, Practice):
            related = ",".join(f"{r.digest}:{r.status}" for r in value.related)
            return f"P{value.digest}:{value.status}[{related}]"
        if isinstance(value, Page):
            return f"G{value.digest}"
        if isinstance(value, RegionTerm | ThemeTerm | TypeTerm):
            cached = self._terms.get(id(value))
            if cached is None:
                cached = self._terms[id(value)] = self._term(value)
            return cached
        if isinstance(value, Pager):
            return f"N{value.number}/{value.count}/{value.total}/{value.start}/{value.urls}" + self._walk(value.items)
        if isinstance(value, Meta):
            return repr(astuple(value))
        if isinstance(value, dict):
            return "{" + ",".join(f"{k}={self._walk(v)}" for k, v in sorted(value.items())) + "}"
        if isinstance(value, list | tuple):
            return "(" + ",".join(self._walk(v) for v in value) + ")"
        if is_dataclass(value):
            return repr(value)
        return repr(value)

    def _term(self, term: RegionTerm | ThemeTerm | TypeTerm) -> str:
        if isinstance(term, RegionTerm):
            lists = (term.located, term.leads, term.joins)
            children = ",".join(f"{c.code}:{c.count}:{c.involvement}" for c in term.children)
            chain = ",".join(t.code for t in term.chain)
            head = f"R{term.code}|{children}|{chain}"
        else:
            lists = (term.practices,)
            head = f"T{term.id}|{term.title}|{term.url}"
        body = "|".join(",".join(f"{p.digest}:{p.status}" for p in items) for items in lists)
        return digest(head, body)
