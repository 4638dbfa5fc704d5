"""The layers import only what docs/architecture.md allows (an AST check of every module).

wire/ (the neutral wire layer) imports neither side; driver/ (the host) never imports the
card; emulator/ (the card) never imports the host or the command line; softcard/ (the
command line, stack and runtime glue) may import all of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("wire", "emulator", "driver", "softcard")
# layer -> the project's top-level packages it may import (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "wire": frozenset(),
    "emulator": frozenset({"wire"}),
    "driver": frozenset({"wire"}),
    "softcard": frozenset({"wire", "emulator", "driver"}),
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """(top-level project package, line) of every absolute import in a module, nested too."""
    out: set[tuple[str, int]] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS:
                out.add((top, node.lineno))
    return out


@pytest.mark.parametrize("layer", LAYERS)
def test_layer_imports_only_what_it_may(layer: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {top}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        for top, line in sorted(imported_packages(path))
        if top != layer and top not in ALLOWED[layer]
    ]
    assert not wrong, f"{layer}/ may import only {sorted(ALLOWED[layer])}:\n" + "\n".join(wrong)


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from emulator.core import card\n")
    assert imported_packages(module) == {("emulator", 2)}
