"""`cognix path-info`: store entries of an image with own and closure sizes."""

from __future__ import annotations

from cognix.engines.native.plan import closure
from cognix.image.plan import ImagePlan


def path_info(plan: ImagePlan) -> dict:
    entries = {e.name: e for layer in plan.layers for e in layer.entries}
    rows = []
    for name in sorted(entries):
        needed = closure(entries, name)
        rows.append({"name": name, "size": entries[name].size, "closure_size": sum(entries[n].size for n in needed)})
    return {"entries": rows, "total_size": sum(e.size for e in entries.values()), "layers": len(plan.layers)}


def _h(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return str(n)


def render(info: dict) -> str:
    width = max((len(r["name"]) for r in info["entries"]), default=10)
    lines = [f"{r['name']:<{width}}  {_h(r['size']):>10}  {_h(r['closure_size']):>10}" for r in info["entries"]]
    lines.append(f"{'total (' + str(info['layers']) + ' layers)':<{width}}  {_h(info['total_size']):>10}")
    return "\n".join(lines)
