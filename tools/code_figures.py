"""Structure figures of the pairzoo package, so a refactor can say what it moved.

`python tools/code_figures.py [--root DIR] [--json]` counts, over `pairzoo/`: the longest
functions, functions over 60 lines, functions with more than 6 parameters (inside and outside
`cli/`), imports of pairzoo's own modules made inside functions outside `cli/`, `# fmt: skip`
markers, parameters named `registry` typed `Any`, files over 400 lines, and circles between
pairzoo's subpackages (every import counted, deferred ones too). `--detail` lists what is counted.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

LONG_FUNCTION = 60
MANY_PARAMETERS = 6
LONG_FILE = 400


def _modules(root: Path):
    for path in sorted((root / "pairzoo").rglob("*.py")):
        yield path, path.relative_to(root).with_suffix("").parts


def _parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    a = fn.args
    every = a.posonlyargs + a.args + a.kwonlyargs
    every += [x for x in (a.vararg, a.kwarg) if x is not None]
    return [p for p in every if p.arg not in ("self", "cls")]


def _own_import(node: ast.AST, parts: tuple[str, ...]) -> str | None:
    """The pairzoo module an import names, relative imports resolved; None for others."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names if a.name.split(".")[0] == "pairzoo"]
        return names[0] if names else None
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = list(parts[: len(parts) - node.level])
            return ".".join(base + ([node.module] if node.module else []))
        if node.module and node.module.split(".")[0] == "pairzoo":
            return node.module
    return None


def _subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pairzoo"


def _package_of(parts: tuple[str, ...]) -> str:
    return parts[1] if len(parts) > 2 else "pairzoo"


class _Walker(ast.NodeVisitor):
    """Records functions and imports of one module, knowing whether it is inside a function."""

    def __init__(self, name: str, parts: tuple[str, ...]):
        self.name, self.parts = name, parts
        self.functions: list[dict] = []
        self.imports: list[tuple[str, bool]] = []
        self._depth = 0

    def _function(self, node):
        self.functions.append({
            "name": f"{self.name}:{node.name}",
            "lines": node.end_lineno - node.lineno + 1,
            "parameters": len(_parameters(node)),
            "registry_any": any(
                p.arg == "registry" and isinstance(p.annotation, ast.Name)
                and p.annotation.id == "Any" for p in _parameters(node)),
        })  # fmt: skip
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _import(self, node):
        module = _own_import(node, self.parts)
        if module:
            self.imports.append((module, self._depth > 0))

    visit_Import = visit_ImportFrom = _import


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one subpackage (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def figures(root: Path) -> dict:
    functions, deferred, fmt_skips, long_files = [], 0, 0, []
    edges: dict[str, set[str]] = {}
    for path, parts in _modules(root):
        text = path.read_text()
        name = "/".join(parts[1:])
        walker = _Walker(name, parts)
        walker.visit(ast.parse(text))
        functions += walker.functions
        in_cli = len(parts) > 2 and parts[1] == "cli"
        deferred += sum(inside for _, inside in walker.imports) if not in_cli else 0
        fmt_skips += text.count("# fmt: skip")
        if len(text.splitlines()) > LONG_FILE:
            long_files.append(name)
        source = _package_of(parts)
        for module, _ in walker.imports:
            target = _subpackage(module)
            if target != source and source != "pairzoo" and target != "pairzoo":
                edges.setdefault(source, set()).add(target)
    many = [f for f in functions if f["parameters"] > MANY_PARAMETERS]
    longest = sorted(functions, key=lambda f: -f["lines"])[:5]
    return {
        "functions": len(functions),
        "longest": [f"{f['name']} ({f['lines']} lines)" for f in longest],
        "over_60_lines": sum(f["lines"] > LONG_FUNCTION for f in functions),
        "over_6_parameters": len(many),
        "over_6_parameters_in_cli": sum(f["name"].startswith("cli/") for f in many),
        "deferred_own_imports_outside_cli": deferred,
        "fmt_skip_markers": fmt_skips,
        "registry_typed_any": sum(f["registry_any"] for f in functions),
        "files_over_400_lines": long_files,
        "package_circles": _circles(edges),
        "detail": {
            "over_6_parameters": sorted(f"{f['name']} ({f['parameters']})" for f in many),
            "registry_typed_any": sorted(f["name"] for f in functions if f["registry_any"]),
            "edges_between_subpackages": {k: sorted(v) for k, v in sorted(edges.items())},
        },
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--detail", action="store_true", help="also list what each count counts")
    args = ap.parse_args(argv)
    result = figures(args.root)
    if not args.detail:
        result.pop("detail")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
