"""Read a user's YAML file and remember where every value came from, so errors can name the line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from depthgauge.errors import DepthgaugeError


@dataclass
class YamlDocument:
    """The parsed data of a YAML file, with the line (1-based) of every key and list item."""

    path: Path
    data: object
    lines: dict[tuple, int]

    def where(self, *field: str | int) -> str:
        """Return 'FILE:LINE (field a.b[2])' for an error message."""
        line = None
        for size in range(len(field), -1, -1):
            line = self.lines.get(tuple(field[:size]))
            if line is not None:
                break
        name = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(field))
        return f"{self.path}:{line or 1}" + (f" (field {name})" if field else "")

    def error(self, message: str, *field: str | int) -> DepthgaugeError:
        return DepthgaugeError(f"{self.where(*field)}: {message}")


def _walk(node, path: tuple, lines: dict) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = path + (key.value,)
            lines[child] = key.start_mark.line + 1
            _walk(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines)


def read_yaml(path: str | Path, what: str) -> YamlDocument:
    """Return the document at `path`; a missing file or invalid YAML is a clear error naming the line."""
    path = Path(path)
    if not path.is_file():
        raise DepthgaugeError(f"{what} '{path}' not found. Check the path.")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DepthgaugeError(f"{path}{line}: invalid YAML in {what.lower()}: {problem}. Fix the syntax on that line.") from exc
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return YamlDocument(path, data, lines)
