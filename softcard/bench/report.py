"""The benchmark's report model: sections of rows and targets, printed and saved as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Target:
    name: str
    value: float
    goal: float
    higher_is_better: bool
    unit: str = "x"

    @property
    def met(self) -> bool:
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def line(self) -> str:
        cmp = ">=" if self.higher_is_better else "<="
        return (
            f"{self.name} = {self.value:,.2f}{self.unit} (target {cmp} {self.goal:,}"
            f"{self.unit}: {'met' if self.met else 'NOT met'})"
        )


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self, number: int) -> str:
        out = [f"{number}. {self.title}"]
        cells = [[_fmt(c) for c in row] for row in self.rows]
        widths = [
            max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
            for i, h in enumerate(self.columns)
        ]
        out.append("   " + "  ".join(h.ljust(w) for h, w in zip(self.columns, widths, strict=True)))
        for r in cells:
            out.append(
                "   "
                + "  ".join(
                    c.rjust(w) if _numeric(c) else c.ljust(w)
                    for c, w in zip(r, widths, strict=True)
                )
            )
        out += [f"   {t.line()}" for t in self.targets]
        out += [f"   {n}" for n in self.notes]
        return "\n".join(out)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for t, src in zip(d["targets"], self.targets, strict=True):
            t["met"] = src.met
        return d


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").isdigit()
