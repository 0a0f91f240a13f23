"""Keys for output files: what each page was made from, as one digest.

A page needs rendering again only when its key changes. The key covers
everything global (settings, registry, themes, the titles and addresses of
the free pages), the templates it is made with (its own and every one it
extends or includes, so that editing one makes again only the pages it is
part of) and what the page's own context holds: each
practice by the digest of its source file and its status, each index term by
the practices it lists (those of the lists its template reads; of the others,
how many; and when the template reaches a region's neighbours, every list of
its country). Templates that read the whole site (the home page, the indexes)
also cover the digest of every practice, and those showing the day of the
build, the day. What a template reads is found in its Jinja syntax tree and in
those of the templates it extends or includes, erring on the side of reading more.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from jinja2 import meta, nodes

from .cache import CODE_SALT, digest
from .model import TEXT_FIELDS, Page, Practice, RegionTerm, Site, ThemeTerm, TypeTerm
from .plan import Output
from .render import Meta, Pager, TemplateSet

# What a template may read of `site` without depending on every practice:
# the settings and the links to the free pages (menu, footer), which the global key covers.
SITE_LOCAL_FIELDS = frozenset({"menu", "page_links", "settings"})
# Helpers that look up index terms of the whole site (render.py): a template using one
# depends on every practice, as if it read `site` itself.
SITE_READING_HELPERS = frozenset({"region_term", "europe_map", "europe_map_legend", "stats_charts"})
# What every page's context holds (render.py, plan.py), none of them a practice.
CONTEXT_OBJECTS = frozenset({"site", "settings", "meta", "term", "pager", "loop"})
# What of them holds practices: a term's lists, the site's practices, a pager's items.
PRACTICE_HOLDERS = frozenset({"practices", "located", "leads", "joins", "items", "previtem", "nextitem"})
# Helpers (render.py) whose results hold no practice.
HELPERS_OF_NO_PRACTICE = frozenset({"url", "absolute", "card", "europe_map", "europe_map_legend", "stats_charts",
                                    "chart_svg"})
# Filters whose first argument names an attribute of each item: selectattr("summary").
ATTRIBUTE_FILTERS = frozenset({"selectattr", "rejectattr", "groupby", "attr", "sum"})
# What holds practices, or terms holding some: a term's neighbours and a practice's related ones
# too. (What `site` holds is covered anyway: a template reading it depends on every practice.)
HOLDERS = PRACTICE_HOLDERS | {"related", "children", "chain"}
# Filters that give back items of what they are given (a practice of a list of them)...
ITEM_KEEPING_FILTERS = frozenset({"first", "last", "random", "list", "sort", "reverse", "unique", "batch", "slice",
                                  "select", "reject", "selectattr", "rejectattr", "default", "d"})
# ... and filters that turn what they are given into text, showing every field of a practice.
WHOLE_VALUE_FILTERS = frozenset({
    "pprint", "string", "tojson", "join", "e", "escape", "forceescape", "safe", "format", "trim", "upper", "lower",
    "capitalize", "title", "replace", "truncate", "wordwrap", "center", "indent", "striptags", "urlencode",
    "urlize", "wordcount", "unique",
})

# The lists of practices an index term holds, and what else a template may read of one
# (its key always covers these, and how many practices each list holds). A page showing a
# term is made again when a practice in one of its lists changes only if the template reads
# that list: the theme pages show their practices through the pager, not the term.
TERM_LISTS = frozenset({"practices", "located", "leads", "joins"})
TERM_FIELDS = frozenset({"id", "title", "url", "theme", "count", "code", "name", "region", "regions", "involvement"})
# A template reading anything else of a term (a region's `children` or `chain`, or the term
# passed on whole) may reach every region of its country and their lists: the region pages
# get what they show of other regions as `crumbs` and `subregions` instead (plan.py).
NEIGHBOURS = "neighbours"
ANY_USE = ""
EVERYTHING_OF_A_TERM = TERM_LISTS | {NEIGHBOURS}

# What a practice shows where it is listed (cards, related practices). When no
# template lists more than these, editing a practice's text re-renders its own
# page, not every list it appears in.
CARD_FIELDS = frozenset({
    "title", "summary", "url", "city", "place", "start", "end", "status", "slug", "draft",
    "lang", "location", "location_chain", "country_region", "date", "published", "updated",
})
PRACTICE_ATTRIBUTES = frozenset(
    {f.name for f in fields(Practice)} | {"country_region", "date", "sections", "place", *TEXT_FIELDS}
)
# The package's own templates that show a whole practice; their lists use cards.
WHOLE_PRACTICE_TEMPLATES = ("practice.html", "feed.xml")
# The outputs (by template; "" for those made by code) whose `practice` or `practices` show whole.
WHOLE_PRACTICE_CONTEXTS = frozenset({"", *WHOLE_PRACTICE_TEMPLATES})
WHOLE_PRACTICE_NAMES = frozenset({"practice", "practices"})
CARD_TEMPLATE = "partials/card.html"


def card_digest(practice: Practice) -> str:
    """A digest of what a list shows of a practice."""
    return digest(
        practice.title, practice.summary, practice.url, practice.city, practice.place,
        str(practice.start), str(practice.end), practice.status, practice.slug, str(practice.draft),
        practice.lang, ",".join(r.code for r in practice.location_chain), str(practice.date),
    )


def lists_show_only_cards(templates: TemplateSet) -> bool:
    """Whether no template reads more of a listed practice than CARD_FIELDS."""
    heavy = PRACTICE_ATTRIBUTES - CARD_FIELDS
    seen: set[str] = set()
    for index, folder in enumerate(templates.search_path):
        is_package = index == len(templates.search_path) - 1
        for path in Path(folder).rglob("*"):
            name = path.relative_to(folder).as_posix()
            if not path.is_file() or name in seen:
                continue
            seen.add(name)
            if is_package and name in WHOLE_PRACTICE_TEMPLATES:
                continue
            try:
                tree = templates.environment.parse(path.read_text(encoding="utf-8", errors="replace"))
            except jinja2.TemplateSyntaxError:  # rendering reports it; until then, assume the worst
                return False
            if _attributes_read(tree) & heavy:
                return False
    return True


def _attributes_read(tree: nodes.Template) -> set[str]:
    """Attributes a template reads of what may be a practice: of anything but the context's
    own objects (`meta.description`, `term.region`) and what helpers return; all of them
    when it names one by a variable (`item[field]`), gives one to the jsonld filter or prints one whole."""
    everything = set(PRACTICE_ATTRIBUTES)
    if _shows_a_practice_whole(tree):
        return everything
    context = CONTEXT_OBJECTS - _names_assigned(tree)  # a loop over practices may call one `term`
    used = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if _never_a_practice(node.node, context):
            continue
        if isinstance(node, nodes.Getattr):
            used.add(node.attr)
        elif _constant_name(node.arg):
            used.add(node.arg.value)
        elif not isinstance(node.arg, nodes.Slice | nodes.Const):  # not practices[0], practices[:6]
            return everything
    for node in tree.find_all(nodes.Filter):
        name, args = node.name, list(node.args)
        if name == "map" and args:  # map("attr", "summary"), map("lower"), map(some_filter)
            if not _constant_name(args[0]):
                return everything
            name, args = args[0].value, args[1:]
        if name == "jsonld":  # reads most of the practice it is given
            return everything
        named = [k.value for k in node.kwargs if k.key == "attribute"]
        if name in ATTRIBUTE_FILTERS and args:
            named.append(args[0])  # selectattr("summary")
        if not all(_constant_name(name) for name in named):
            return everything
        used.update(name.value.split(".")[0] for name in named)  # "author.name" reads the author
    return used


def _shows_a_practice_whole(tree: nodes.Template) -> bool:
    """Whether a template prints what may be a practice, or holds some, as a whole
    (`{{ p }}`, `{{ p | pprint }}`, `{{ pager.items | join }}`, `{{ term }}`): its text then
    shows every field."""
    names = _names_of_practices(tree)
    for node in tree.find_all((nodes.Output, nodes.Filter, nodes.Concat, nodes.Mod)):
        if isinstance(node, nodes.Output):
            shown = [child for child in node.nodes if not isinstance(child, nodes.TemplateData)]
        elif isinstance(node, nodes.Filter):
            # map("string") turns each item into text, as the string filter does one.
            name = node.args[0].value if node.name == "map" and node.args and _constant_name(node.args[0]) \
                else node.name
            if name not in WHOLE_VALUE_FILTERS or any(k.key == "attribute" for k in node.kwargs):
                continue
            shown = [node.node, *node.args]
        elif isinstance(node, nodes.Concat):
            shown = list(node.nodes)
        else:  # "%s" % p
            shown = [node.right]
        if any(_holds_practices(value, names) for value in shown):
            return True
    return False


def _names_of_practices(tree: nodes.Template) -> set[str]:
    """The names that may stand for a practice, or for what holds some: the context's
    `term` and `pager`, what lists and cards are given (`items`, `item`), macro arguments,
    and what loops, {% set %} and {% with %} take from any of them."""
    names = {"term", "pager", "items", "item", "related"}
    for macro in tree.find_all(nodes.Macro):
        names.update(arg.name for arg in macro.args)
    bindings: list[tuple[nodes.Node, nodes.Node]] = []
    for node in tree.find_all((nodes.For, nodes.Assign, nodes.With)):
        if isinstance(node, nodes.For):
            bindings.append((node.target, node.iter))
        elif isinstance(node, nodes.Assign):
            bindings.append((node.target, node.node))
        else:
            bindings.extend(zip(node.targets, node.values, strict=True))
    grown = True
    while grown:  # a loop over a name bound by another loop
        grown = False
        for target, value in bindings:
            if _holds_practices(value, names):
                # A name, or several: {% for i, p in practices | batch(2) %}
                bound = {target.name} if isinstance(target, nodes.Name) else {
                    name.name for name in target.find_all(nodes.Name)}
                grown = grown or not bound <= names
                names |= bound
    return names


def _holds_practices(value: nodes.Node, names: set[str]) -> bool:
    """Whether an expression may be a practice, or a list, term or pager holding some."""
    while True:
        if isinstance(value, nodes.Filter) and value.name in ITEM_KEEPING_FILTERS and value.node is not None:
            value = value.node
        elif isinstance(value, nodes.Getitem) and not _constant_name(value.arg):  # p[0], items[:3]
            value = value.node
        else:
            break
    if isinstance(value, nodes.Name):
        return value.name in names
    if isinstance(value, nodes.Getitem):  # p["summary"], term["located"]
        return value.arg.value in HOLDERS
    return isinstance(value, nodes.Getattr) and value.attr in HOLDERS


def _constant_name(value: nodes.Node) -> bool:
    return isinstance(value, nodes.Const) and isinstance(value.value, str)


def _names_assigned(tree: nodes.Template) -> set[str]:
    """Names a template gives values to: loop variables, {% set %}, {% with %}, macro arguments, imports."""
    names = {node.name for node in tree.find_all(nodes.Name) if node.ctx in ("store", "param")}
    names.update(node.target for node in tree.find_all(nodes.Import))
    for node in tree.find_all(nodes.FromImport):
        names.update(name if isinstance(name, str) else name[1] for name in node.names)
    return names


def _never_a_practice(value: nodes.Node, context: frozenset[str]) -> bool:
    """Whether an expression is one of the context's own objects (`meta`, `term.region`,
    `site.settings`), or what a helper returns, rather than what may be a practice."""
    if isinstance(value, nodes.Call):
        return isinstance(value.node, nodes.Name) and value.node.name in HELPERS_OF_NO_PRACTICE
    if isinstance(value, nodes.Getattr) and value.attr not in PRACTICE_HOLDERS:
        value = value.node
    return isinstance(value, nodes.Name) and value.name in context


class _TemplateReads(NamedTuple):
    """What one template reads (fingerprint.py's view of it), from its syntax tree."""

    site: bool  # the site's content, not only its settings and free pages
    dated: bool  # the day of the build (site.build_date), which decides what is ongoing
    term: set[str]  # attributes of `term` it reads, and ANY_USE for any other use of it
    references: list[str | None]  # the templates it extends or includes; None: a computed name


def _template_reads(tree: nodes.Template) -> _TemplateReads:
    site, dated, term, references = False, False, set(), list(meta.find_referenced_templates(tree))
    # A practice's key covers its related practices, and theirs only as far as it lists them:
    # a template going further than the page's own practice's related ones reads the site.
    own_practice_only = "practice" not in _names_assigned(tree)
    for node in tree.find_all(nodes.Getattr):
        if node.attr == "related" and not (own_practice_only and isinstance(node.node, nodes.Name)
                                           and node.node.name == "practice"):
            site = True
    stack: list[tuple[nodes.Node, nodes.Node | None]] = [(tree, None)]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name == "term":
                term.add(_field_read(node, parent))
            elif node.name == "site":
                field = _field_read(node, parent)
                dated = dated or field == "build_date"
                site = site or field not in SITE_LOCAL_FIELDS | {"build_date"}
            site = site or node.name in SITE_READING_HELPERS
            if node.name == "card":  # the card() helper renders it with this page's globals
                references.append(CARD_TEMPLATE)
        elif isinstance(node, nodes.Filter | nodes.Test):
            site = site or node.name in SITE_READING_HELPERS
        elif isinstance(node, nodes.Const):  # map("region_term")
            site = site or (isinstance(node.value, str) and node.value in SITE_READING_HELPERS)
        stack.extend((child, node) for child in node.iter_child_nodes())
    return _TemplateReads(site, dated, term, references)


def _field_read(name: nodes.Name, parent: nodes.Node | None) -> str:
    """The attribute read of a name (`term.url`, `term["url"]`), or ANY_USE: passed on, indexed
    by a variable..."""
    if isinstance(parent, nodes.Getattr) and parent.node is name:
        return parent.attr
    if isinstance(parent, nodes.Getitem) and parent.node is name and isinstance(parent.arg, nodes.Const):
        return str(parent.arg.value)
    return ANY_USE


def site_digest(site: Site) -> str:
    """One digest of every practice and page the site shows."""
    return digest(
        "\n".join(f"{p.digest} {p.status}" for p in site.practices),
        "\n".join(p.digest for p in site.pages),
    )


def global_key(site: Site, extra: Iterable[str]) -> str:
    """What every page depends on (but the templates: see Fingerprinter.templates_part)."""
    settings = repr(site.settings.to_dict())
    pages = repr([(p.title, p.url, p.menu) for p in site.pages])
    return digest(CODE_SALT, settings, pages, *extra)


class Fingerprinter:
    """Computes output keys, remembering the parts several pages share."""

    def __init__(self, site: Site, templates: TemplateSet, templates_digest: str, global_part: str,
                 cards: dict[int, str] | None = None) -> None:
        """`templates_digest` is TemplateSet.digest(); `cards` holds card_digest() of practices
        known beforehand, by id()."""
        self.global_part = global_part
        self.templates_digest = templates_digest
        # Kept with the findings, which last as long as no template file changes.
        self._templates_parts: dict[str, str] = templates.findings.setdefault("templates_parts", {})
        self.site_part = site_digest(site)
        self.build_date = str(site.build_date)
        self.env = templates.environment
        if "cards" not in templates.findings:
            templates.findings["cards"] = lists_show_only_cards(templates)
        self.cards = templates.findings["cards"]
        self._site_wide: dict[str, bool] = templates.findings.setdefault("site_wide", {})
        self._dated: dict[str, bool] = templates.findings.setdefault("dated", {})
        self._terms: dict[tuple[int, frozenset[str]], str] = {}
        self._term_lists: dict[str, frozenset[str]] = templates.findings.setdefault("term_lists", {})
        self._locals: dict[str, _TemplateReads] = {}
        self._sources: dict[str, str | None] = {}
        self._countries: dict[str, str] = {}
        # By id(): the practices live as long as the build. Lists are looked
        # up with map() over this dict, not item by item in Python: a
        # practice is listed fifteen times or so (its places, themes, years).
        known = cards if cards and self.cards else {}
        self._listed_by_id = {id(p): known.get(id(p)) or self._listed(p) for p in site.practices}
        self._whole: dict[int, str] = {}
        self._heads: dict[str, str] = {}
        self._walks_by_class: dict[type, Callable[..., str]] = {}

    def key(self, output: Output) -> str:
        if output.copy_from is not None:
            stat = output.copy_from.stat()
            return digest("copy", str(output.copy_from), str(stat.st_size), str(stat.st_mtime_ns))
        head = self._heads.get(output.template)
        if head is None:
            head = self._heads[output.template] = self._head(output.template)
        parts = [head, output.path]
        if output.site_wide:
            parts.append(self.site_part)
        whole_template = output.template in WHOLE_PRACTICE_CONTEXTS
        # The practice a page or a feed is about is shown whole; any other
        # practice in the context is listed.
        # In the order plan.py made the context: the same for the same site.
        for name, value in output.context.items():
            if name == "term" and isinstance(value, RegionTerm | ThemeTerm | TypeTerm):
                parts.append(f"term={self._term(value, self.term_lists_read(output.template))}")
                continue
            parts.append(f"{name}={self._walk(value, whole=whole_template and name in WHOLE_PRACTICE_NAMES)}")
        return digest(*parts)

    def _head(self, template: str) -> str:
        """What the key of every output made with `template` starts with."""
        head = [self.global_part, template, self.templates_part(template)]
        if self.reads_site(template):
            head.append(self.site_part)
        if self.reads_date(template):
            head.append(self.build_date)
        return "\0".join(head)

    def templates_part(self, template: str) -> str:
        """What an output's key takes of the templates: the source of its template and of
        every one it extends or includes (or all of them, when one has a computed name)."""
        if not template:  # made by code alone (the open data, copied files)
            return ""
        part = self._templates_parts.get(template)
        if part is None:
            closure = self._closure(template)
            if closure is None:
                part = self.templates_digest
            else:
                part = digest(*(f"{name}:{self._source_digest(name)}" for name in sorted(closure)))
            self._templates_parts[template] = part
        return part

    def _source_digest(self, template: str) -> str:
        source = self._source(template)
        # None: included with "ignore missing", and adding it changes the page.
        return "missing" if source is None else digest(source)

    def _source(self, template: str) -> str | None:
        """A template's source (None if there is no such template), read once for both what
        it reads and its digest."""
        if template not in self._sources:
            try:
                self._sources[template] = self.env.loader.get_source(self.env, template)[0]  # type: ignore[union-attr]
            except jinja2.TemplateNotFound:
                self._sources[template] = None
        return self._sources[template]

    def reads_site(self, template: str) -> bool:
        """Whether a template (or one it extends or includes) reads the site's content."""
        return self._closure_reads(template, self._site_wide, lambda reads: reads.site)

    def reads_date(self, template: str) -> bool:
        """Whether a template (or one it extends or includes) shows the day of the build."""
        return self._closure_reads(template, self._dated, lambda reads: reads.dated)

    def _closure_reads(self, template: str, found: dict[str, bool], read: Callable[[_TemplateReads], bool]) -> bool:
        """Whether `read` holds of a template or of one it extends or includes, kept in `found`."""
        if not template:
            return False
        if template not in found:
            closure = self._closure(template)
            found[template] = closure is None or any(read(self._local(name)) for name in closure)
        return found[template]

    def term_lists_read(self, template: str) -> frozenset[str]:
        """The lists of practices a template (or one it extends or includes) reads of `term`:
        all of them and the term's neighbours when it reads more of it than TERM_FIELDS."""
        if template not in self._term_lists:
            closure = self._closure(template)
            read = set() if closure is not None else {ANY_USE}
            for name in closure or ():
                read |= self._local(name).term
            self._term_lists[template] = (
                EVERYTHING_OF_A_TERM if read - TERM_LISTS - TERM_FIELDS else frozenset(read & TERM_LISTS)
            )
        return self._term_lists[template]

    def _closure(self, template: str) -> set[str] | None:
        """A template and every one it extends or includes, however deep; None when one
        of them has a computed name, which could be any template."""
        found, todo = {template}, [template]
        while todo:
            for name in self._local(todo.pop()).references:
                if name is None:
                    return None
                if name not in found:
                    found.add(name)
                    todo.append(name)
        return found

    def _local(self, template: str) -> _TemplateReads:
        """What a template itself reads, not counting the ones it extends or includes."""
        reads = self._locals.get(template)
        if reads is None:
            source = self._source(template)
            if source is None:  # included with "ignore missing", or one of a list
                reads = _TemplateReads(site=False, dated=False, term=set(), references=[])
            else:
                try:
                    reads = _template_reads(self.env.parse(source))
                except jinja2.TemplateSyntaxError:  # rendering reports it; until then, assume the worst
                    reads = _TemplateReads(site=True, dated=True, term={ANY_USE}, references=[None])
            self._locals[template] = reads
        return reads

    def _listed(self, practice: Practice) -> str:
        """A listed practice: its card, or all of it when templates may show more (with its
        related practices, which are not in its digest)."""
        if self.cards:
            return card_digest(practice)
        related = ",".join(f"{r.digest}:{r.status}" for r in practice.related)
        return f"{practice.digest}:{practice.status}[{related}]"

    def _list(self, practices: Iterable[Practice]) -> str:
        """Listed practices, in order."""
        try:
            return ",".join(map(self._listed_by_id.__getitem__, map(id, practices)))
        except KeyError:  # not only the site's practices: item by item
            return ",".join(self._walk(item) for item in practices)

    def _walk(self, value: Any, whole: bool = False) -> str:
        """What a value of a page's context adds to its key."""
        # By the value's class: the first of _WALKS it is an instance of. Looked up once
        # per class, as the keys walk some 100,000 values.
        walk = self._walks_by_class.get(value.__class__)
        if walk is None:
            walk = next((w for kind, w in self._WALKS if isinstance(value, kind)), Fingerprinter._walk_other)
            self._walks_by_class[value.__class__] = walk
        return walk(self, value, whole)

    def _walk_practice(self, value: Practice, whole: bool) -> str:
        if not whole:
            return "P" + (self._listed_by_id.get(id(value)) or self._listed(value))
        shown = self._whole.get(id(value))
        if shown is None:  # a practice's page and its index.json both show it whole
            shown = self._whole[id(value)] = f"P{value.digest}:{value.status}[{self._list(value.related)}]"
        return shown

    def _walk_page(self, value: Page, whole: bool) -> str:
        return f"G{value.digest}"

    def _walk_term(self, value: RegionTerm | ThemeTerm | TypeTerm, whole: bool) -> str:
        return self._term(value, EVERYTHING_OF_A_TERM)

    def _walk_pager(self, value: Pager, whole: bool) -> str:
        # Every page's URL follows from the first one and the count.
        head = f"N{value.number}/{value.count}/{value.total}/{value.start}/{value.urls[0]}"
        return head + self._walk(value.items)

    def _walk_meta(self, value: Meta, whole: bool) -> str:
        return f"M{value.title}|{value.url}|{value.kind}|{value.description}|{value.noindex}"

    def _walk_dict(self, value: dict, whole: bool) -> str:
        return "{" + ",".join(f"{k}={self._walk(v)}" for k, v in sorted(value.items())) + "}"

    def _walk_sequence(self, value: list | tuple, whole: bool) -> str:
        if not whole and value and isinstance(value[0], Practice):
            return "[" + self._list(value) + "]"
        return "(" + ",".join([self._walk(v, whole) for v in value]) + ")"

    def _walk_other(self, value: Any, whole: bool) -> str:
        """Text, numbers and records of them (RegionLink, Subregion): their repr()."""
        return repr(value)

    _WALKS: tuple[tuple[type | types.UnionType, Callable[..., str]], ...] = (
        (Practice, _walk_practice), (Page, _walk_page), (RegionTerm | ThemeTerm | TypeTerm, _walk_term),
        (Pager, _walk_pager), (Meta, _walk_meta), (dict, _walk_dict), (list | tuple, _walk_sequence),
    )

    def _term(self, term: RegionTerm | ThemeTerm | TypeTerm, read: frozenset[str]) -> str:
        """A term's key: what it is, how many practices each list holds, and the lists `read`
        (with NEIGHBOURS, those of every region in a region's country)."""
        cached = self._terms.get((id(term), read))
        if cached is not None:
            return cached
        if isinstance(term, RegionTerm):
            lists = {"located": term.located, "leads": term.leads, "joins": term.joins}
            head = f"R{term.code}|" + (self._country(term.chain[0]) if NEIGHBOURS in read else "")
        else:
            lists = {"practices": term.practices}
            regions = ",".join(r.code for r in term.regions) if isinstance(term, TypeTerm) else ""
            head = f"T{term.id}|{term.title}|{term.url}|{regions}"
        counts = ",".join(str(len(listed)) for listed in lists.values())
        body = "|".join(self._list(listed) if name in read else "" for name, listed in lists.items())
        key = self._terms[(id(term), read)] = digest(head, counts, body)
        return key

    def _country(self, country: RegionTerm) -> str:
        """Every list of every region in a country: what its regions can reach of each other."""
        key = self._countries.get(country.code)
        if key is None:
            parts, todo = [], [country]
            while todo:
                term = todo.pop()
                parts.append(f"{term.code}:{self._list(term.located)}|{self._list(term.leads)}|{self._list(term.joins)}")
                todo.extend(term.children)
            key = self._countries[country.code] = digest(*parts)
        return key
