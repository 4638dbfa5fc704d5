"""Each spec's constants live in one place: the wire layer's module for that spec.

A spec constant is a name the spec module defines with a literal value (module level or an
enum member). The test fails when any other module of the tree spells the same name with
the same value again, instead of importing it. PIV and GIDS are separate specs that may
share a name and value by coincidence (RSA_1024 = 06 in both); what they take from ISO
7816-4 they must take by reference (`VERIFY = IsoIns.VERIFY.value`).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("wire", "emulator", "driver", "softcard")
# spec -> its modules (the minidriver's constants are one package, a module per area).
SPECS: dict[str, tuple[str, ...]] = {
    "iso7816": ("wire/iso7816.py", "wire/atr.py"),
    "piv": ("wire/piv.py",),
    "gids": ("wire/gids.py",),
    "minidriver": tuple(
        str(p.relative_to(ROOT)) for p in sorted((ROOT / "wire/minidriver").glob("*.py"))
    ),
}
# Specs built on ISO 7816-4: their copies of an ISO fact are duplicates too.
BUILT_ON_ISO = ("piv", "gids")

Definition = tuple[str, int]  # module path, line


def _literal(node: ast.expr) -> object | None:
    """The value of a constant spelled out: an int, a string, bytes, bytes.fromhex("..")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | str | bytes):
        if isinstance(node.value, bool):
            return None
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand)
        return -inner if isinstance(inner, int) else None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "fromhex"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return bytes.fromhex(node.args[0].value)
    return None


def _assignments(body: list[ast.stmt], prefix: str = "") -> list[tuple[str, object, int]]:
    out: list[tuple[str, object, int]] = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if not isinstance(target, ast.Name) or not target.id.isupper():
            continue
        literal = _literal(value)
        if literal is not None and not isinstance(literal, str):
            out.append((prefix + target.id, literal, stmt.lineno))
    return out


def definitions(path: Path) -> list[tuple[str, object, int]]:
    """(name, value, line) of the module's literal constants and enum members (Enum.NAME)."""
    tree = ast.parse(path.read_text(), str(path))
    found = _assignments(tree.body)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id.endswith(("Enum", "Flag")) for b in node.bases
        ):
            # Qualified by the enum: PinPolicy.NEVER and TouchPolicy.NEVER are two facts.
            found += _assignments(node.body, f"{node.name}.")
    return found


def _spec_of(module: str) -> str | None:
    return next((spec for spec, modules in SPECS.items() if module in modules), None)


def test_no_spec_constant_is_defined_twice() -> None:
    where: dict[tuple[str, object], list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = str(path.relative_to(ROOT))
            for name, value, line in definitions(path):
                where[(name, value)].append(f"{module}:{line}")
    twice: list[str] = []
    for (name, value), places in where.items():
        specs = {_spec_of(p.rsplit(":", 1)[0]) for p in places}
        if len(places) < 2 or specs == {None}:
            continue  # not a spec constant, or defined once
        spec_places = [p for p in places if _spec_of(p.rsplit(":", 1)[0]) is not None]
        others = [p for p in places if _spec_of(p.rsplit(":", 1)[0]) is None]
        spec_names = {_spec_of(p.rsplit(":", 1)[0]) for p in spec_places}
        same_spec_twice = len(spec_places) > len(spec_names)
        iso_copied = "iso7816" in spec_names and bool(spec_names & set(BUILT_ON_ISO))
        if others or same_spec_twice or iso_copied:
            twice.append(f"{name} = {value!r}: {', '.join(places)}")
    assert not twice, "spec constants defined more than once:\n" + "\n".join(sorted(twice))


def test_the_check_sees_a_copy() -> None:
    # The check itself can fail: a copied ISO instruction byte is found.
    tree = ast.parse("class Ins(IntEnum):\n    SELECT = 0xA4\n")
    assert _assignments(tree.body[0].body, "Ins.") == [("Ins.SELECT", 0xA4, 2)]  # type: ignore[attr-defined]
    assert ("Ins.SELECT", 0xA4) in {(n, v) for n, v, _ in definitions(ROOT / "wire/iso7816.py")}
