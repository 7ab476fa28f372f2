"""The packages form layers that point one way: a module imports only from its own package or from lower layers,
and never a private name of another package. The README's "Code map" draws the same picture."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent.parent / "src" / "depthgauge"

# lowest first; each may import from those before it
LAYERS = ["errors", "version", "units", "metrics", "money", "files", "pages", "yamlfile",
          "store", "workspace", "data", "train", "zoo", "contract", "govern", "registry", "cost", "assessment",
          "endpoint", "serve", "monitor", "genai", "advice", "web", "server", "cli", "__init__", "__main__"]


def _package(path: Path) -> str:
    parts = path.relative_to(SOURCE).parts
    return parts[0] if len(parts) > 1 else path.stem


def _imports(path: Path):
    """(line, imported package, names) for every import of depthgauge in the module, at any depth."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "depthgauge":
            parts = node.module.split(".")
            if len(parts) == 1:  # from depthgauge import x: x is a package, or a name of the root package
                for alias in node.names:
                    yield node.lineno, alias.name if alias.name in LAYERS else "__init__", []
            else:
                yield node.lineno, parts[1], [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "depthgauge":
                    yield node.lineno, parts[1] if len(parts) > 1 else "__init__", []


MODULES = sorted(SOURCE.rglob("*.py"))


def test_every_package_has_a_layer():
    assert {_package(path) for path in MODULES} <= set(LAYERS), "give a new package its place in LAYERS and the README"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_imports_point_down_and_never_at_another_package_s_private_names(path):
    package = _package(path)
    wrong = []
    for line, imported, names in _imports(path):
        if imported == package:
            continue
        if LAYERS.index(imported) > LAYERS.index(package):
            wrong.append(f"line {line}: {package} imports {imported}, a higher layer")
        wrong += [f"line {line}: {name} is private to {imported}" for name in names if _private(name)]
    assert not wrong, "; ".join(wrong)


def test_the_check_finds_an_upward_import(tmp_path, monkeypatch):
    module = SOURCE / "store" / "tables.py"
    upward = tmp_path / "tables.py"
    upward.write_text("from depthgauge.serve.app import create_api\nfrom depthgauge.zoo.encoding import _number\n")
    monkeypatch.setattr(ast, "parse", lambda _text, _real=ast.parse: _real(upward.read_text()))
    with pytest.raises(AssertionError, match="store imports serve, a higher layer.*_number is private to zoo"):
        test_imports_point_down_and_never_at_another_package_s_private_names(module)
