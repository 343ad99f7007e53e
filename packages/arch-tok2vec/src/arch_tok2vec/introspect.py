"""What a registered function is: where it comes from and what its parameters mean.

Parameter descriptions are read from the function's docstring, where each
parameter is described on a line of its own as ``name: description`` (further
lines of the same description are indented).
"""

import inspect
import re
from dataclasses import dataclass, field
from importlib.metadata import Distribution, EntryPoint, distributions
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .registry import ENTRY_POINT_GROUPS

REQUIRED = "(required)"
_PARAM_LINE = re.compile(r"^(\w+): (.*)$")


@dataclass
class Registered:
    """One function declared through an entry point."""

    registry: str
    name: str
    entry_point: EntryPoint
    dist: Distribution

    @property
    def package(self) -> str:
        return self.dist.metadata["Name"]

    @property
    def version(self) -> str:
        return self.dist.version

    @property
    def target(self) -> str:
        return self.entry_point.value

    def load(self) -> Callable:
        return self.entry_point.load()


def registered(registries: Optional[List[str]] = None) -> Iterator[Registered]:
    """Every function declared in the entry-point groups of our registries, by group and
    name. Read from each installed distribution (Python 3.9's entry points do not know the
    distribution that declares them)."""
    declared: Dict[str, List[Tuple[EntryPoint, Distribution]]] = {}
    for dist in distributions():
        for ep in dist.entry_points:
            if ep.group in ENTRY_POINT_GROUPS:
                declared.setdefault(ep.group, []).append((ep, dist))
    seen = set()
    for group, registry_name in ENTRY_POINT_GROUPS.items():
        if registries and registry_name not in registries:
            continue
        for ep, dist in sorted(declared.get(group, []), key=lambda pair: pair[0].name):
            if (registry_name, ep.name) not in seen:
                seen.add((registry_name, ep.name))
                yield Registered(registry_name, ep.name, ep, dist)


def find(name: str) -> List[Registered]:
    """The entry points declaring ``name`` (in any of our registries)."""
    return [item for item in registered() if item.name == name]


@dataclass
class Param:
    name: str
    annotation: str
    default: str
    description: str


@dataclass
class FunctionInfo:
    summary: str
    params: List[Param] = field(default_factory=list)
    notes: str = ""


def describe(func: Callable) -> FunctionInfo:
    """Summary, parameters (type, default, description) and notes of a function."""
    signature = inspect.signature(func)
    descriptions, summary, notes = parse_docstring(inspect.getdoc(func) or "")
    params = []
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        params.append(
            Param(
                name=name,
                annotation=_format_annotation(param.annotation),
                default=_format_default(param.default),
                description=descriptions.get(name, ""),
            )
        )
    return FunctionInfo(summary=summary, params=params, notes=notes)


def parse_docstring(doc: str) -> "tuple[Dict[str, str], str, str]":
    """Split a docstring into (parameter descriptions, summary, notes)."""
    descriptions: Dict[str, str] = {}
    summary: List[str] = []
    notes: List[str] = []
    current: Optional[str] = None
    for line in doc.splitlines():
        match = _PARAM_LINE.match(line)
        if match:
            current = match.group(1)
            descriptions[current] = match.group(2).strip()
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            descriptions[current] += " " + line.strip()
        elif descriptions:
            current = None
            notes.append(line)
        else:
            summary.append(line)
    return descriptions, "\n".join(summary).strip(), "\n".join(notes).strip()


def _format_default(default: Any) -> str:
    if default is inspect.Parameter.empty:
        return REQUIRED
    if callable(default) and hasattr(default, "__qualname__"):
        return f"{default.__module__}.{default.__qualname__}"
    return repr(default)


def _format_annotation(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, type):
        return annotation.__name__
    text = str(annotation)
    text = re.sub(r"\b(typing|thinc\.model|thinc\.types)\.", "", text)
    return text.replace("NoneType", "None")
