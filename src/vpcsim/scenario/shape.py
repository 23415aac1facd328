"""A scenario's shape (a front-end's pydantic document) checked, and its errors in plain words.

pydantic's messages name Python types; a user wrote YAML. Each shape error becomes one sentence
with its key path: what was expected there, what was found, and the keys allowed.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from vpcsim.errors import ScenarioError
from vpcsim.scenario.locate import Locator
from vpcsim.scenario.values import shown
from vpcsim.scenario.yamlsafe import Path

Nouns = Mapping[type[BaseModel], str]


@dataclass(frozen=True, slots=True)
class Shape:
    """A front-end's document model and what to call each of its parts in a message."""

    root: type[BaseModel]
    nouns: Nouns
    """Model class → noun (``VPC``, ``security group``); every model of the document needs one."""

    def parse(self, data: Any, locator: Locator, context: Mapping[str, Any] | None = None) -> BaseModel:
        """Validate ``data``; the first problem in the file becomes one :class:`ScenarioError`."""
        if not isinstance(data, dict):
            raise locator.error((), f"a scenario is a mapping of sections (version, vpcs, ...), not {shown(data)}")
        try:
            return self.root.model_validate(data, context=dict(context or {}))
        except ValidationError as exc:
            raise _first_error(self, exc, locator) from None
        except RecursionError:
            raise locator.error((), "nesting too deep") from None


def _strip(tp: Any) -> Any:
    """``Annotated[X, ...]`` → X; ``X | None`` → X."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _a(noun: str) -> str:
    if noun in ("settings", "delay settings", "TCP settings"):
        return f"the {noun}"
    return ("an " if noun[0] in "aeiouAEIU" else "a ") + noun


def _keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _type_at(root: type[BaseModel], loc: Path) -> Any:
    """The schema type expected at ``loc`` (a model class, ``dict[...]``, ``list[...]``, a scalar type), or None."""
    tp: Any = root
    for part in loc:
        tp = _strip(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None
            tp = field.annotation
        elif origin in (dict, Mapping):
            tp = typing.get_args(tp)[1]
        elif origin is list:
            tp = typing.get_args(tp)[0]
        else:
            return None
    return _strip(tp)


def _expected(nouns: Nouns, tp: Any) -> str:
    """What a value of schema type ``tp`` looks like, for 'expected ..., got ...'."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"a mapping ({_a(nouns[tp])} with keys such as {', '.join(_keys(tp)[:6])})"
    origin = typing.get_origin(tp)
    if origin in (dict, Mapping):
        value = _strip(typing.get_args(tp)[1])
        item = nouns.get(value) if isinstance(value, type) else None
        return f"a mapping of ids to {item} definitions (id: {{...}})" if item else "a mapping (key: value)"
    if origin is list:
        return "a list ([a, b] or one '- item' per line)"
    return "a mapping"


def _mark_of(locator: Locator, loc: Path) -> tuple[int, int]:
    probe = loc
    while probe not in locator.marks and probe:
        probe = probe[:-1]
    return locator.marks.get(probe, (0, 0))


def _loc(err: ErrorDetails) -> tuple[Path, bool]:
    loc: list[str | int] = []
    key_problem = False
    for part in err["loc"]:
        if part == "[key]":
            key_problem = True
            continue
        loc.append(part)
    return tuple(loc), key_problem


def _first_error(shape: Shape, exc: ValidationError, locator: Locator) -> ScenarioError:
    """The error that comes first in the file, as one sentence with its key path."""
    errors = exc.errors(include_url=False)
    # Values that are there but wrong come before keys that are missing, each in file order.
    err = min(errors, key=lambda e: (e["type"] == "missing", _mark_of(locator, _loc(e)[0])))
    path, key_problem = _loc(err)
    if err["type"] == "missing":
        return locator.error(path[:-1], _sentence(shape, err, path, key_problem))
    return locator.error(path, _sentence(shape, err, path, key_problem))


def _sentence(shape: Shape, err: ErrorDetails, path: Path, key_problem: bool) -> str:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    got = err.get("input")
    msg = str(err["msg"])
    if kind == "missing":
        parent = _type_at(shape.root, path[:-1])
        if isinstance(parent, type) and issubclass(parent, BaseModel):
            required = [f.alias or n for n, f in parent.model_fields.items() if f.is_required()]
            return f"missing required key {path[-1]!r} ({_a(shape.nouns[parent])} needs {', '.join(required)})"
        return f"missing required key {path[-1]!r}"
    if kind == "extra_forbidden":
        parent = _type_at(shape.root, path[:-1])
        allowed = _keys(parent) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        key = str(path[-1])
        lowered = {a.lower(): a for a in allowed}
        close = [lowered[m] for m in difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.6)]
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key {key!r} ({hint}allowed: {', '.join(allowed)})" if allowed else f"unknown key {key!r}"
    if key_problem or kind == "string_pattern_mismatch":
        what = "id" if key_problem else "value"
        if key_problem and kind == "string_type":
            return f"id {shown(got)} must be text"
        return (
            f"{what} {shown(got)} is not a valid id: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "literal_error":
        return f"expected {ctx.get('expected', 'one of the allowed values')}, got {shown(got)}"
    if kind in ("model_type", "model_attributes_type", "dict_type", "list_type"):
        tp = _type_at(shape.root, path)
        empty = "[]" if typing.get_origin(tp) is list else "{}"
        hint = f" (write {empty} for none, or leave the key out)" if got is None else ""
        return f"expected {_expected(shape.nouns, tp)}, got {shown(got)}{hint}"
    if kind == "string_type":
        hint = " (put it in quotes to make it text)" if isinstance(got, int | float) or got is None else ""
        return f"expected text, got {shown(got)}{hint}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"expected a whole number, got {shown(got)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {shown(got)}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {shown(got)}"
    if kind == "too_long" or kind == "string_too_long":
        limit = ctx.get("max_length")
        if kind == "string_too_long":
            return f"text too long: {len(got) if isinstance(got, str) else '?'} characters (at most {limit})"
        return f"too many entries: {ctx.get('actual_length', '?')} (at most {limit})"
    if kind in ("too_short", "string_too_short"):
        return "must not be empty: define at least one"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}, got {shown(got)}"
    return f"{msg[0].lower()}{msg[1:]}, got {shown(got)}"
