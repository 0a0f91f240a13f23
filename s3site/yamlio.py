"""YAML reading that keeps line numbers and turns every failure into a message.

The libyaml C loader is used when PyYAML was built with it. Besides the data,
`load_yaml` returns where each key of the top-level mapping (and of nested
mappings one level down) was written, so that errors found later can point
at the right line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

try:
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader, with YAML 1.2 booleans: only true and false.

    YAML 1.1 also reads yes/no/on/off as booleans, so Norway's country code
    `NO` would become false; editors write country codes unquoted.
    """


Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp) for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:bool"
    ] + ([("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))]
         if first in "tTfF" else [])
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

# An anchor in the text is rare in content files; only then do we pay for the
# event scan that guards against alias bombs ("billion laughs").
ANCHOR_RE = re.compile(r"(?:^|[\s\[{,:-])&[^\s]", re.MULTILINE)
MAX_EXPANDED_NODES = 10_000

Position = tuple[int, int]


@dataclass(slots=True)
class YamlDocument:
    """Parsed YAML and the (line, column) of its keys, both 1-based."""

    data: Any
    positions: dict[str, Position] = field(default_factory=dict)


class YamlError(ValueError):
    """The text is not valid YAML; line and column are 1-based, relative to the text."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def check_text(text: str) -> bool:
    """Raise YamlError for tab indentation and alias bombs, before parsing; tell whether the
    text has anchors."""
    if "\t" in text:
        _check_tabs(text)
    # "&" first: the expression starts with alternatives, tried at every position.
    if "&" in text and ANCHOR_RE.search(text):
        _check_aliases(text)
        return True
    return False


def load_yaml(text: str) -> YamlDocument:
    """Parse one YAML document, or raise YamlError with a position."""
    anchored = check_text(text)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None)
        try:
            if anchored:  # shared and recursive values: the loader's own way
                raise _NotPlain
            data = _construct_plain(node, loader)
        except _NotPlain:
            data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise YamlError(f"invalid YAML: {problem}") from None
        raise YamlError(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlError(
            f"invalid YAML: the character #x{exc.character:04x} is not allowed; remove it",
            line,
            column,
        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlError("invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    return YamlDocument(data, _positions(node))


class _NotPlain(Exception):
    """A document with more than plain mappings, lists and scalars (merge keys, tags)."""


_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_SCALARS = {tag: make for tag, make in Loader.yaml_constructors.items()
            if tag in {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")}}


def _construct_plain(node: yaml.Node, loader: Any) -> Any:
    """What the loader's construct_document() gives for a document of plain mappings, lists
    and scalars, in a quarter of the time (a tenth of parsing a practice); raises _NotPlain
    for anything else, left to the loader."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        if node.tag == _STR:
            return node.value
        make = _SCALARS.get(node.tag)
        if make is None:
            raise _NotPlain
        return make(loader, node)
    if kind is yaml.MappingNode and node.tag == _MAP:
        mapping = {}
        for key, value in node.value:
            if type(key) is not yaml.ScalarNode or key.tag not in _PLAIN_KEY_TAGS:
                raise _NotPlain  # merge keys ("<<"), "=" keys, unhashable keys
            mapping[_construct_plain(key, loader)] = _construct_plain(value, loader)
        return mapping
    if kind is yaml.SequenceNode and node.tag == _SEQ:
        return [_construct_plain(item, loader) for item in node.value]
    raise _NotPlain


_PLAIN_KEY_TAGS = {_STR, *_SCALARS}


def _positions(node: yaml.Node) -> dict[str, Position]:
    """Where each key was written: "title", "location.region" one level down, "3" for list items."""
    positions: dict[str, Position] = {}
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value, 1):
            positions[str(i)] = (item.start_mark.line + 1, item.start_mark.column + 1)
        return positions
    if not isinstance(node, yaml.MappingNode):
        return positions
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        name = str(key.value)
        positions[name] = (key.start_mark.line + 1, key.start_mark.column + 1)
        if isinstance(value, yaml.MappingNode):
            for sub_key, _ in value.value:
                if isinstance(sub_key, yaml.ScalarNode):
                    mark = sub_key.start_mark
                    positions[f"{name}.{sub_key.value}"] = (mark.line + 1, mark.column + 1)
        elif isinstance(value, yaml.SequenceNode):
            for i, item in enumerate(value.value, 1):
                mark = item.start_mark
                positions[f"{name}.{i}"] = (mark.line + 1, mark.column + 1)
    return positions


def _check_tabs(text: str) -> None:
    """YAML forbids tabs in indentation; say so plainly instead of libyaml's riddle."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            column = len(line) - len(stripped) + 1
            raise YamlError("a tab is used for indentation; YAML needs spaces", number, column)


def _check_aliases(text: str) -> None:
    """Refuse documents whose aliases expand to a huge tree ("billion laughs").

    A few anchors and aliases are fine; what is counted is the number of
    nodes the document would have with every alias written out.
    """
    sizes: dict[str, int] = {}  # anchor -> nodes in the anchored value, expanded
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes so far) per open collection
    total = 0
    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.AliasEvent):
                added = sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                added = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.CollectionStartEvent):
                open_nodes.append((event.anchor, 1))
                continue
            elif isinstance(event, yaml.CollectionEndEvent):
                anchor, added = open_nodes.pop()
                if anchor:
                    sizes[anchor] = added
                if open_nodes:
                    parent_anchor, count = open_nodes.pop()
                    open_nodes.append((parent_anchor, count + added))
                continue
            else:
                continue
            total += added
            if open_nodes:
                parent_anchor, count = open_nodes.pop()
                open_nodes.append((parent_anchor, count + added))
            if total > MAX_EXPANDED_NODES or (open_nodes and open_nodes[-1][1] > MAX_EXPANDED_NODES):
                mark = event.start_mark
                raise YamlError(
                    "the YAML aliases (*name) here expand to more than "
                    f"{MAX_EXPANDED_NODES:,} values; write the values out",
                    mark.line + 1,
                    mark.column + 1,
                )
    except yaml.YAMLError:
        return  # load_yaml reports the syntax error with its position
