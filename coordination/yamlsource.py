"""YAML files reviewed like code: parsed with the line of every field, validated whole.

Plans and drill scenarios are written by people in an editor and reviewed in
pull requests, so an error must point at a line: ``plans/drills/plague.yaml:42:
injects.3.offset: …``. PyYAML's composer keeps the position of every node; the
parser builds the plain data a pydantic model validates *and* a map from each
field path to its line. A file yields a whole valid model or errors, never half.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

FieldPath = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class SourceError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '(file)'}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field,
                "message": self.message}


class Lines:
    """Field path -> line (1-based) of its value, for every node of the document."""

    def __init__(self) -> None:
        self.lines: dict[FieldPath, int] = {}

    def line_of(self, path: Iterable[str | int]) -> int:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _construct(node: yaml.Node, path: FieldPath, lines: Lines) -> Any:
    lines.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain word", key_node.start_mark)
            key = _scalar(key_node)
            key = key if isinstance(key, str) else str(key)
            if key in out:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            out[key] = _construct(value_node, (*path, key), lines)
            lines.lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), lines) for i, v in enumerate(node.value)]
    return _scalar(node)


def parse(text: str) -> tuple[Any, Lines]:
    """YAML text -> (data, lines); raises yaml.YAMLError with a mark on bad syntax."""
    lines = Lines()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None, lines
    return _construct(node, (), lines), lines


def dotted(path: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in path)


@dataclass(frozen=True)
class Loaded(Generic[M]):
    """One file: its content hash, and either a model or the errors that keep it out."""

    path: str
    file_hash: str
    model: M | None
    errors: tuple[SourceError, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.model is not None and not self.errors


CrossCheck = Callable[[M], list[tuple[FieldPath, str]]]


def load_model(text: str, *, name: str, model: type[M], what: str,
               checks: CrossCheck[M] | None = None) -> Loaded[M]:
    """Parse, validate against ``model``, then run ``checks`` (references between parts).

    ``what`` names the document in the one error a non-mapping file gets
    ("a scenario file must be a mapping").
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        data, lines = parse(text)
    except yaml.YAMLError as exc:
        # The context mark is where the unfinished construct began (an unclosed bracket),
        # which is where the fix goes; the problem mark is where the parser gave up.
        problem_mark = getattr(exc, "problem_mark", None)
        context_mark = getattr(exc, "context_mark", None)
        mark = context_mark or problem_mark
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        if context_mark is not None and problem_mark is not None \
                and problem_mark.line != context_mark.line:
            problem += f" (noticed on line {problem_mark.line + 1})"
        return Loaded(name, digest, None,
                      (SourceError(name, line, "", f"YAML syntax error: {problem}"),))
    if not isinstance(data, dict):
        return Loaded(name, digest, None,
                      (SourceError(name, 1, "", f"a {what} file must be a mapping"),))
    errors: list[SourceError] = []
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        for e in exc.errors():
            loc = tuple(p for p in e["loc"] if p != "[key]")
            message = e["msg"].removeprefix("Value error, ")
            errors.append(SourceError(name, lines.line_of(loc), dotted(loc), message))
        # Cross-references are checked on what did validate, so a reviewer sees a
        # duplicate id beside a bad offset in one run rather than after fixing it.
        parsed = loose(model, data)
    problems = _run_checks(checks, parsed) if checks else []
    seen = {(e.field, e.message) for e in errors}
    errors += [SourceError(name, lines.line_of(p), dotted(p), m) for p, m in problems
               if (dotted(p), m) not in seen]
    if errors:
        return Loaded(name, digest, None, tuple(sorted(errors, key=lambda e: e.line)))
    return Loaded(name, digest, parsed, ())


def _run_checks(checks: CrossCheck[M], parsed: M) -> list[tuple[FieldPath, str]]:
    """The checks of a whole model; on a partly valid one they may trip over a raw value,
    and then the field errors already name what is wrong."""
    try:
        return checks(parsed)
    except (AttributeError, TypeError, ValueError, KeyError):
        return []


def loose(model: type[M], data: Any) -> M:
    """``model`` built without failing: each field validated on its own, nested models
    built the same way, a field that does not validate kept as its raw value (a missing
    one as its default, or None). Only for cross-checks after a failed validation."""
    values: dict[str, Any] = {}
    raw = data if isinstance(data, dict) else {}
    for fname, info in model.model_fields.items():
        if fname in raw:
            values[fname] = _loose_value(info.annotation, raw[fname])
        elif not info.is_required():
            values[fname] = info.get_default(call_default_factory=True)
        else:
            values[fname] = None
    return model.model_construct(**values)


def _loose_value(annotation: Any, value: Any) -> Any:
    try:
        return TypeAdapter(annotation).validate_python(value)
    except (ValidationError, TypeError, ValueError):
        pass
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return loose(annotation, value)
    if origin is list and isinstance(value, list) and args:
        return [_loose_value(args[0], v) for v in value]
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return {_loose_value(args[0], k): _loose_value(args[1], v) for k, v in value.items()}
    if origin in (Union, UnionType):
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel) and isinstance(value, dict):
                return loose(arg, value)
    return value
