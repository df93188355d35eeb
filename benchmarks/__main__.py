"""Run every `benchmarks/bench_*.py` module's `main()`: `python -m benchmarks [--record DIR] [NAME ...]`.

With names, only modules whose name contains one of them run. With `--record DIR` (what
`make bench` passes: `results`), what each printed, its wall time and status are filed as a
`bench` record under DIR, from which `make docs` renders the speed tables. The CPU model and its flags are
printed first; each benchmark prints its figures as ratios to a reference measured in the same run. A failing benchmark is reported
and the others still run; the exit status is 1 if any failed.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import sys
import time
import traceback
from pathlib import Path


def discover() -> list[str]:
    here = [str(Path(__file__).parent)]
    return sorted(m.name for m in pkgutil.iter_modules(here) if m.name.startswith("bench_"))


class _Tee(io.TextIOBase):
    """Prints as usual and keeps a copy, so a benchmark's figures go into its record."""

    def __init__(self, out):
        self.out, self.kept = out, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()


def main(argv: list[str]) -> int:
    record = None
    if argv[:1] == ["--record"] and len(argv) > 1:
        record, argv = Path(argv[1]), argv[2:]
    names = [n for n in discover() if not argv or any(a in n for a in argv)]
    if not names:
        print(f"no benchmark matches {' '.join(argv)} (available: {', '.join(discover())})")
        return 1
    from pairzoo.machine import this_cpu

    # Speed ratios flip between CPU kinds (int8 against fp32 above all): name it first.
    print(f"CPU: {this_cpu().describe()}", flush=True)
    failed, ran = [], []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        tee = _Tee(sys.stdout)
        try:
            with contextlib.redirect_stdout(tee):
                importlib.import_module(f"benchmarks.{name}").main()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        ran.append(_outcome(name, time.perf_counter() - started, tee, name in failed))
        print(
            f"== {name}: {time.perf_counter() - started:.1f} s{' (FAILED)' if name in failed else ''}\n",
            flush=True,
        )
    if failed:
        print(f"failed: {', '.join(failed)}")
    if record is not None:
        print(f"record: {_save(record, ran, argv)}")
    return 1 if failed else 0


def _outcome(name: str, seconds: float, tee: _Tee, failed: bool) -> dict:
    lines = [line.rstrip() for line in tee.kept.getvalue().splitlines() if line.strip()]
    return {
        "name": name,
        "status": "failed" if failed else "ok",
        "seconds": round(seconds, 1),
        "output": lines,
    }


def _save(root: Path, ran: list[dict], argv: list[str]) -> Path:
    from pairzoo.results.records import current_commit, save_record

    command = " ".join(["python -m benchmarks", *argv])
    repo = Path(__file__).resolve().parent.parent
    return save_record(root, "bench", {"benchmarks": ran}, command, current_commit(repo))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
