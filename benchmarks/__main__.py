"""Run every `benchmarks/bench_*.py` module's `main()`: `python -m benchmarks [NAME ...]`.

With names, only modules whose name contains one of them run. The CPU model and its flags are
printed first; each benchmark prints its figures as ratios to a reference measured in the same run. A failing benchmark is reported
and the others still run; the exit status is 1 if any failed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def discover() -> list[str]:
    here = [str(Path(__file__).parent)]
    return sorted(m.name for m in pkgutil.iter_modules(here) if m.name.startswith("bench_"))


def main(argv: list[str]) -> int:
    names = [n for n in discover() if not argv or any(a in n for a in argv)]
    if not names:
        print(f"no benchmark matches {' '.join(argv)} (available: {', '.join(discover())})")
        return 1
    from pairzoo.machine import this_cpu

    # Speed ratios flip between CPU kinds (int8 against fp32 above all): name it first.
    print(f"CPU: {this_cpu().describe()}", flush=True)
    failed = []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(
            f"== {name}: {time.perf_counter() - started:.1f} s{' (FAILED)' if name in failed else ''}\n",
            flush=True,
        )
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
