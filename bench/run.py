"""Run the benchmarks: `python -m bench.run [NAME …]` (all of them when no name is given).

Each benchmark is a module of this package with a ``main() -> bool`` that prints what it
measured and returns False when a target is missed; the exit status is 1 if any missed.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("roster_import", "http_pages")
BENCHMARKS += ("dashboard_scale",)  # SCALE_MEMBERS=1000000 for the full size


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark: {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
        return 2
    ok = True
    for name in names:
        print(f"== {name}")
        ok = importlib.import_module(f"bench.{name}").main() and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
