"""Every claim in SECURITY.md names a test that exists: each `tests/...py::name` (and each `::name` after it, in
the same file) is a test function in that file, so a renamed or deleted test cannot leave a claim unbacked."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_every_test_named_in_security_md_exists():
    text = (ROOT / "SECURITY.md").read_text()
    named, current = [], None
    for match in re.finditer(r"`(tests/[\w/]+\.py)?::(\w+)(\[\w+\])?`", text):
        current = match.group(1) or current
        named.append((current, match.group(2)))
    files = set(re.findall(r"`(tests/[\w/]+\.py)`", text)) | {f for f, _ in named}
    assert len(named) >= 20
    missing = [f"{file}::{name}" for file, name in named if name not in _functions(ROOT / file)]
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"
    assert all((ROOT / file).exists() for file in files)
    for script in re.findall(r"`(bench/\w+\.py)`", text):
        assert (ROOT / script).exists(), script
