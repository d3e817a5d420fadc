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
from typing import Any, Generic, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

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
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            loc = tuple(p for p in e["loc"] if p != "[key]")
            message = e["msg"].removeprefix("Value error, ")
            errors.append(SourceError(name, lines.line_of(loc), dotted(loc), message))
        errors.sort(key=lambda e: e.line)
        return Loaded(name, digest, None, tuple(errors))
    problems = checks(parsed) if checks else []
    if problems:
        errors = sorted((SourceError(name, lines.line_of(p), dotted(p), m) for p, m in problems),
                        key=lambda e: e.line)
        return Loaded(name, digest, None, tuple(errors))
    return Loaded(name, digest, parsed, ())
