"""The package's layers (docs/architecture.md): every import of an rsu_isac module, at the
top of a file or inside a function, points to the same package or a lower layer."""

import ast
from pathlib import Path

import rsu_isac

# lowest first; packages on one line are siblings and never import each other
LAYERS = (
    ("(root)", "platform"),
    ("core",),
    ("sim", "perception", "beamforming", "scheduling"),
    ("loop", "nodes"),
    ("bags", "learning"),
    ("experiments", "runtime"),
    ("cli",),
)
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
ROOT = Path(rsu_isac.__file__).parent


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else
            [a.name for a in node.names] if isinstance(node, ast.Import) else []
        )  # fmt: skip
        for name in names:
            parts = name.split(".")
            if parts[0] == "rsu_isac":
                found.add(parts[1] if len(parts) > 1 else "(root)")
    return found


def test_every_package_is_in_a_layer():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert packages | {"(root)"} == set(RANK)


def test_imports_point_downward_only():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        package = parts[0] if len(parts) > 1 else "(root)"
        for target in _imports(path) - {package}:
            if RANK[target] >= RANK[package]:
                upward.append(f"{path.relative_to(ROOT)} imports rsu_isac.{target}")
    assert upward == []
