"""A YAML reader that builds plain data and remembers where each value stood.

PyYAML's ``safe_load`` already refuses Python tags, but it silently keeps the last of duplicated
keys, expands alias bombs, and forgets line numbers. We compose the node graph ourselves and
construct only str / int / float / bool / null scalars, mappings and sequences.

Limits (:class:`~vpcsim.scenario.limits.Limits`) are enforced while the file is being composed, not
after: a document with more values than ``max_values``, nested deeper than ``max_depth``, or larger
than ``max_bytes`` is refused as soon as the limit is crossed, so a hostile file costs at most a fraction of a second.
Aliases are allowed, but every use counts its whole subtree again (a "billion laughs" document is
refused, never expanded). When PyYAML was built with libyaml, its C parser produces the events and
our Python composer (with the limits) builds the nodes; otherwise the pure-Python parser does both.

A document libyaml refuses is read again by the pure-Python parser before it is refused. libyaml has
limits of its own (newer releases stop flow collections nested about 1,000 deep with "exceeded
maximum nesting depth", and its scanner reads a flow collection's openings ahead, before our
composer sees level 41); the second reading lets our limits speak first, so a document gets the
same answer with or without libyaml, whatever its version. A plain syntax error keeps libyaml's
wording, which is the clearer one. Only documents libyaml refuses pay for the second reading.
"""

from __future__ import annotations

import re
from typing import Any, cast

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from vpcsim.errors import ScenarioError
from vpcsim.scenario.limits import DEFAULT_LIMITS, Limits

Path = tuple[str | int, ...]

MAX_NUMBER_DIGITS = 40
"""Longest integer literal; nothing in a scenario needs more (ports, seeds, times)."""

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {_STR, _INT, _FLOAT, _BOOL, _NULL}
_AS_TEXT_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value", _MERGE}
"""Tags YAML 1.1 resolves plain words to that a scenario reads as the text written (``2024-01-01``, ``=``)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
"""A ``\\ud800``-style escape decodes to half a UTF-16 pair: not a character, and unprintable."""

# YAML's printable set (the same as PyYAML's reader): anything else is refused with its position.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def path_text(path: Path) -> str:
    """``("instances", "cvm-vpc1", "ip")`` → ``instances.cvm-vpc1.ip``; list indexes as ``[0]``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            text = p if len(p) <= 80 else p[:77] + "..."
            out += ("." if out else "") + text
    return out


def tag_text(tag: str) -> str:
    """``tag:yaml.org,2002:python/object/apply:os.system`` → ``!!python/object/apply:os.system``."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix) :] if tag.startswith(prefix) else tag


class _LimitError(Exception):
    def __init__(self, mark: yaml.Mark | None, problem: str) -> None:
        super().__init__(problem)
        self.mark = mark
        self.problem = problem


class _LimitedComposer(Composer):
    """PyYAML's composer, counting nodes and depth as it goes."""

    _nodes = 0
    _depth = 0
    limits: Limits = DEFAULT_LIMITS
    saw_anchor = False
    """Whether the document defines an anchor (only then can aliases make it larger than it looks)."""

    def _next_mark(self) -> yaml.Mark | None:
        events: Any = self  # the parser half of the loader
        mark: yaml.Mark | None = events.peek_event().start_mark
        return mark

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._nodes += 1
        if self._nodes > self.limits.max_values:
            raise _LimitError(self._next_mark(), f"document too large: more than {self.limits.max_values} values")
        self._depth += 1
        if self._depth > self.limits.max_depth + 1:
            raise _LimitError(self._next_mark(), f"nesting deeper than {self.limits.max_depth} levels")
        try:
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1
            if self.anchors:
                self.saw_anchor = True


class _PyLoader(
    _LimitedComposer, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, SafeConstructor, Resolver
):
    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _LimitedComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


_Loader: Any = _PyLoader
if getattr(yaml, "__with_libyaml__", False):  # pragma: no branch - PyYAML's wheels bundle libyaml
    from yaml._yaml import CParser

    class _CLoader(_LimitedComposer, CParser, SafeConstructor, Resolver):
        """libyaml's parser (events) under our Python composer (limits, marks)."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            _LimitedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _Loader = _CLoader


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class _Builder:
    def __init__(self, source: str, loader: Any, limits: Limits) -> None:
        self.limits = limits
        self.source = source
        self.loader = loader
        self.marks: dict[Path, tuple[int, int]] = {}
        self.count = 0

    def fail(self, node: yaml.Node, path: Path, problem: str) -> ScenarioError:
        return ScenarioError(
            self.source,
            path_text(path),
            problem,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
        )

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > self.limits.max_values:
            raise self.fail(
                node, path, f"document too large: more than {self.limits.max_values} values (alias expansion?)"
            )
        if len(path) > self.limits.max_depth:
            raise self.fail(node, path, f"nesting deeper than {self.limits.max_depth} levels (a recursive alias?)")
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise self.fail(node, path, _tag_problem(node.tag))
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise self.fail(node, path, _tag_problem(node.tag))
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, path)
                if key in result:
                    raise self.fail(key_node, (*path, key), f"duplicated key {key!r}: each key may appear once")
                result[key] = self.build(value_node, (*path, key))
            return result
        raise self.fail(node, path, "unsupported YAML node")  # pragma: no cover

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        self._whole_characters(node, path)
        if node.tag in _AS_TEXT_TAGS:
            return str(node.value)
        if node.tag not in _SCALAR_TAGS:
            raise self.fail(node, path, _tag_problem(node.tag))
        if node.tag == _INT and len(node.value) > MAX_NUMBER_DIGITS:
            raise self.fail(node, path, f"number too large ({len(node.value)} characters, at most {MAX_NUMBER_DIGITS})")
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError):
            raise self.fail(node, path, f"{str(node.value)[:40]!r} is not a valid {tag_text(node.tag)[2:]}") from None

    def _whole_characters(self, node: yaml.ScalarNode, path: Path) -> None:
        """libyaml refuses an escaped lone surrogate; PyYAML's Python parser decodes it. Both refuse here."""
        half = _SURROGATE.search(node.value)
        if half is not None:
            raise self.fail(
                node, path, f"the escape \\u{ord(half.group()):04x} is half of a UTF-16 pair, not a character"
            )

    def _key(self, key_node: yaml.Node, path: Path) -> str:
        """Keys are the text as written: ``80:``, ``yes:`` and ``2024-01-01:`` are the strings they look like."""
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
            raise self.fail(key_node, path, f"a mapping key must be plain text, not {kind}")
        self._whole_characters(key_node, path)
        if key_node.tag == _MERGE:
            raise self.fail(key_node, path, "YAML merge keys ('<<') are not supported: write the keys out")
        if key_node.tag not in _SCALAR_TAGS and key_node.tag not in _AS_TEXT_TAGS:
            raise self.fail(key_node, path, _tag_problem(key_node.tag))
        return str(key_node.value)


def _check_expansion(root: yaml.Node, source: str, limits: Limits) -> None:
    """Refuse a document whose aliases expand past ``max_values`` values, before expanding anything.

    Each distinct node's expanded size is computed once (aliases share nodes), so a "billion laughs"
    document costs as much as its text, not as much as its expansion.
    """
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in busy or depth > limits.max_depth:
            raise ScenarioError(
                source,
                "",
                "an alias refers to a value that contains it (a recursive alias)"
                if key in busy
                else f"nesting deeper than {limits.max_depth} levels",
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
            )
        busy.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(v, depth + 1) for _, v in node.value)
        busy.discard(key)
        sizes[key] = total
        return total

    total = size(root, 0)
    if total <= limits.max_values:
        return
    # Point at the value that blows up: descend while one child alone is over the limit.
    node, path = root, cast(Path, ())
    while True:
        children: list[tuple[str | int, yaml.Node]] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            children = [(str(k.value), v) for k, v in node.value]
        big = next(((k, c) for k, c in children if sizes[id(c)] > limits.max_values), None)
        if big is None:
            break
        path = (*path, big[0])
        node = big[1]
    raise ScenarioError(
        source,
        path_text(path),
        f"document too large: aliases expand it to {total} values (at most {limits.max_values})",
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
    )


def _tag_problem(tag: str) -> str:
    return (
        f"YAML tag {tag_text(tag)} is not allowed: a scenario holds only plain values, lists and mappings "
        "(loading never runs code)"
    )


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def _char_at(text: str, mark: yaml.Mark) -> str | None:
    lines = text.split("\n", mark.line + 1)
    if mark.line < len(lines) and mark.column < len(lines[mark.line]):
        return lines[mark.line][mark.column]
    return None


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, source: str) -> ScenarioError:
    mark = exc.problem_mark or exc.context_mark
    problem = str(exc.problem or "YAML syntax error")
    if "cannot start any token" in problem and mark is not None:
        ch = _char_at(text, mark)
        if ch == "\t":
            problem = "a tab character cannot indent YAML: use spaces"
        elif ch is not None and "found character '" not in problem:
            problem += f": {ch!r}"
    if exc.context:
        context = str(exc.context)
        cm = exc.context_mark
        if cm is not None and mark is not None and (cm.line, cm.column) != (mark.line, mark.column):
            context += f" that starts at line {cm.line + 1}, column {cm.column + 1}"
        problem += f" ({context})"
    return ScenarioError(
        source,
        "",
        f"YAML syntax error: {problem}",
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def read_yaml(text: str, source: str, limits: Limits = DEFAULT_LIMITS) -> tuple[Any, dict[Path, tuple[int, int]]]:
    """Parse ``text``; return the plain data and a map from key path to (line, column)."""
    if len(text) > limits.max_bytes:
        raise ScenarioError(source, "", f"file too large: {len(text)} bytes (at most {limits.max_bytes})")
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        line, column = _position(text, bad.start())
        raise ScenarioError(
            source,
            "",
            f"character U+{ord(bad.group()):04X} is not allowed in a YAML file (control characters and "
            "invalid code points must be written as escapes in a double-quoted string)",
            line=line,
            column=column,
        )
    try:
        return _read_with(_Loader, text, source, limits)
    except yaml.YAMLError as exc:
        error = exc
    if _Loader is not _PyLoader:
        try:
            return _read_with(_PyLoader, text, source, limits)
        except yaml.YAMLError:
            pass  # a syntax error under both parsers: libyaml words it more clearly
    if isinstance(error, yaml.MarkedYAMLError):
        raise _syntax_error(error, text, source)
    raise ScenarioError(source, "", f"YAML error: {' '.join(str(error).split())}")


def _read_with(loader_class: Any, text: str, source: str, limits: Limits) -> tuple[Any, dict[Path, tuple[int, int]]]:
    """One reading with ``loader_class``: our limits and checks as ScenarioError, YAML syntax errors raw."""
    try:
        loader = loader_class(text)
        loader.limits = limits
    except (yaml.YAMLError, ValueError) as exc:  # pragma: no cover - the text was checked above
        raise ScenarioError(source, "", f"cannot read the YAML text: {str(exc).splitlines()[0]}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(source, "", "the file is empty: a scenario needs at least 'version' and 'vpcs'")
        if loader.saw_anchor:
            _check_expansion(node, source, limits)
        builder = _Builder(source, loader, limits)
        return builder.build(node, ()), builder.marks
    except _LimitError as exc:
        mark = exc.mark
        raise ScenarioError(
            source,
            "",
            exc.problem,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except RecursionError:  # pragma: no cover - the composer stops at max_depth first
        raise ScenarioError(source, "", f"nesting too deep (at most {limits.max_depth} levels)") from None
    finally:
        loader.dispose()
