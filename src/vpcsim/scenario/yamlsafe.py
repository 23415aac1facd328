"""A YAML reader that builds plain data and remembers where each value stood.

PyYAML's ``safe_load`` already refuses Python tags, but it silently keeps the last of duplicated
keys, expands alias bombs, and forgets line numbers. We compose the node graph ourselves and
construct only str / int / float / bool / null scalars, mappings and sequences.
"""

from __future__ import annotations

from typing import Any

import yaml

from vpcsim.errors import ScenarioError

Path = tuple[str | int, ...]

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 40

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


def path_text(path: Path) -> str:
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + p
    return out


class _Builder:
    def __init__(self, source: str, loader: yaml.SafeLoader) -> None:
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
        if self.count > MAX_NODES:
            raise self.fail(node, path, f"document too large: more than {MAX_NODES} values (alias expansion?)")
        if len(path) > MAX_DEPTH:
            raise self.fail(node, path, f"nesting deeper than {MAX_DEPTH} levels")
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise self.fail(node, path, f"YAML tag {node.tag!r} is not allowed (plain values only)")
            try:
                return self.loader.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError) as exc:
                raise self.fail(node, path, f"bad scalar: {exc}") from None
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self.fail(node, path, f"YAML tag {node.tag!r} is not allowed (plain lists only)")
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise self.fail(node, path, f"YAML tag {node.tag!r} is not allowed (plain mappings only)")
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                    raise self.fail(key_node, path, "mapping keys must be plain scalars")
                if key_node.tag == "tag:yaml.org,2002:str" and key_node.value == "<<":
                    raise self.fail(key_node, path, "YAML merge keys ('<<') are not supported")
                key = self.loader.construct_object(key_node)
                if not isinstance(key, str):
                    key = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
                if not isinstance(key, str):
                    raise self.fail(key_node, path, f"mapping key {key!r} must be a string")
                if key in result:
                    raise self.fail(key_node, (*path, key), "duplicated key")
                result[key] = self.build(value_node, (*path, key))
            return result
        raise self.fail(node, path, "unsupported YAML node")  # pragma: no cover


def read_yaml(text: str, source: str) -> tuple[Any, dict[Path, tuple[int, int]]]:
    """Parse ``text``; return the plain data and a map from key path to (line, column)."""
    if len(text) > MAX_BYTES:
        raise ScenarioError(source, "", f"file too large: {len(text)} bytes (at most {MAX_BYTES})")
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(source, "", "the file is empty")
        builder = _Builder(source, loader)
        return builder.build(node, ()), builder.marks
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "YAML syntax error"
        raise ScenarioError(
            source,
            "",
            f"YAML syntax error: {problem}",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(source, "", f"YAML error: {exc}") from None
    except RecursionError:
        raise ScenarioError(source, "", f"nesting too deep (at most {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
