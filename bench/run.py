"""Benchmark ``transpile convert`` and ``transpile lint`` against the floor of a libcst tool.

Usage: python bench/run.py [--corpus fixtures|real] [--sizes 10,100,300,1000] [--repeat 5]
                           [--target flyte]

Generates N files: with ``--corpus fixtures``, Metaflow flows from the fixtures (each flow class
renamed, so every file is distinct); with ``--corpus real``, files of the shapes users'
repositories have (``realistic.py``: long steps, many helpers and diagnostics, large foreach
bodies, Metaflow, Flyte and KFP files in one tree). Then times, as fresh processes in alternating
order, the floor (one process that parses every file with libcst and regenerates its code), a
batch ``convert`` with ``-j 1`` and with ``-j 2``, and a ``lint``. Prints a Markdown table of
median seconds, files per second and the ratio to the floor, then the one-file lint check, then
the budgets, measured against each; exits 1 when one is exceeded.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realistic  # beside this script, which is not a package

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
FLOOR = Path(__file__).resolve().parent / "floor.py"
FLOW_CLASS = re.compile(r"^class (\w+)\((?:\w+\.)?FlowSpec\)", re.MULTILINE)
# The one-file lint budget's reference: start Python, import libcst, parse the file.
Command = Callable[[], list[str]]
PARSE_ONE = "import sys, libcst; libcst.parse_module(open(sys.argv[1], encoding='utf-8').read())"
# the issue-22 budgets: (what, limit); checked for the sizes measured
CONVERT_RATIO = 1.5  # batch convert of 300 real-shaped files, -j 2, over the libcst floor
POOL_SPEEDUP = 1.6  # -j 1 over -j 2 seconds, same batch (on an idle machine)
ONE_FILE_LINT = 1.2  # one-file lint over python + import libcst + parse
BUDGET_SIZE = 300


def seeds() -> list[str]:
    """The Metaflow fixtures that our writers convert (each has a golden), in name order."""
    return [
        path.read_text(encoding="utf-8")
        for path in sorted(FIXTURES.glob("*/metaflow.py"))
        if (path.parent / "expected" / "flyte.py").is_file() and not needs_siblings(path)
    ]


def needs_siblings(flow: Path) -> bool:
    """A flow importing modules beside it (its base classes): it cannot be copied alone."""
    return any(p.suffix == ".py" and p.name != "metaflow.py" for p in flow.parent.iterdir())


def generate(count: int, folder: Path) -> list[Path]:
    """``count`` flows in ``folder``, cycling through the fixtures, flow class ``<Name><i>``."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = seeds()
    paths = []
    for number in range(count):
        text = texts[number % len(texts)]
        name = FLOW_CLASS.search(text).group(1)
        path = folder / f"flow_{number:04d}.py"
        path.write_text(re.sub(rf"\b{name}\b", f"{name}{number}", text), encoding="utf-8")
        paths.append(path)
    return paths


def environment() -> dict[str, str]:
    """Run the checkout's transpile when there is one, else the installed one."""
    env = dict(os.environ)
    if (REPO / "src" / "transpile").is_dir():
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO / "src"), env.get("PYTHONPATH")])
        )
    return env


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one fresh process; exit 0 or 1 (findings, lossy) is a normal run."""
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"bench: {' '.join(command)} failed:\n{result.stderr.decode()[-2000:]}")
    return seconds


def commands(folder: Path, scratch: Path, target: str) -> dict[str, Command]:
    """The measured tools for one folder of flows; convert writes to a fresh folder each run."""
    python = sys.executable
    return {
        "libcst floor": lambda: [python, str(FLOOR), str(folder)],
        "convert -j 1": lambda: [
            *(python, "-m", "transpile", "convert", str(folder), "--to", target, "-j", "1"),
            *("-o", tempfile.mkdtemp(dir=scratch)),
        ],
        "convert -j 2": lambda: [
            *(python, "-m", "transpile", "convert", str(folder), "--to", target, "-j", "2"),
            *("-o", tempfile.mkdtemp(dir=scratch)),
        ],
        "lint": lambda: [python, "-m", "transpile", "lint", str(folder)],
    }


def medians(tools: dict[str, Command], repeat: int, env: dict[str, str]) -> dict[str, float]:
    """Median seconds per tool, the tools alternating within each repetition."""
    samples: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(repeat):
        for name, command in tools.items():
            samples[name].append(timed(command(), env))
    return {name: statistics.median(values) for name, values in samples.items()}


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}"
    )


GENERATORS = {"fixtures": generate, "real": realistic.generate}


def table(
    sizes: list[int], repeat: int, target: str, scratch: Path, corpus: str, found: dict
) -> list[str]:
    """The Markdown rows; ``found`` receives each size's median seconds per tool."""
    env = environment()
    rows = [
        "| N | tool | seconds | files/s | ratio to floor |",
        "|---:|---|---:|---:|---:|",
    ]
    for size in sizes:
        folder = scratch / f"flows{size}"
        GENERATORS[corpus](size, folder)
        times = medians(commands(folder, scratch, target), repeat, env)
        found[size] = times
        floor = times["libcst floor"]
        for name, seconds in times.items():
            rows.append(
                f"| {size} | {name} | {seconds:.2f} | {size / seconds:.0f} | {seconds / floor:.2f} |"
            )
    return rows


def one_file_lint(repeat: int, scratch: Path) -> tuple[str, float]:
    """``transpile lint`` of one flow against starting Python, importing libcst and parsing it;
    also lint with its own rules only (``--ignore TP515,TP516``: no reading as convert does)."""
    env = environment()
    path = generate(1, scratch / "one")[0]
    tools = {
        "parse": lambda: [sys.executable, "-c", PARSE_ONE, str(path)],
        "lint": lambda: [sys.executable, "-m", "transpile", "lint", str(path)],
        "own rules": lambda: [
            sys.executable,
            "-m",
            "transpile",
            "lint",
            "--ignore",
            "TP515,TP516",
            str(path),
        ],
    }
    times = medians(tools, repeat, env)
    ratio = times["lint"] / times["parse"]
    own = times["own rules"] / times["parse"]
    return (
        f"lint one flow: {times['lint']:.3f} s; its own rules only: {times['own rules']:.3f} s "
        f"(ratio {own:.2f}); python + import libcst + parse: {times['parse']:.3f} s; "
        f"ratio {ratio:.2f}"
    ), ratio


def budgets(found: dict[int, dict[str, float]], lint_ratio: float, corpus: str) -> list[str]:
    """Each budget measured: (line, within); convert budgets at N = 300 only, the ratio for the
    real-shaped corpus only (the one the budget is written for)."""
    rows = [
        ("one-file lint / floor", lint_ratio, f"<= {ONE_FILE_LINT}", lint_ratio <= ONE_FILE_LINT)
    ]
    times = found.get(BUDGET_SIZE)
    if times:
        if corpus == "real":
            ratio = times["convert -j 2"] / times["libcst floor"]
            rows.append(
                (
                    f"convert {BUDGET_SIZE} -j 2 / floor",
                    ratio,
                    f"<= {CONVERT_RATIO}",
                    ratio <= CONVERT_RATIO,
                )
            )
        speedup = times["convert -j 1"] / times["convert -j 2"]
        rows.append(
            (
                f"convert {BUDGET_SIZE} -j 1 / -j 2",
                speedup,
                f">= {POOL_SPEEDUP}",
                speedup >= POOL_SPEEDUP,
            )
        )
    return [
        f"budget {name}: measured {value:.2f}, budget {limit}: {'ok' if ok else 'EXCEEDED'}"
        for name, value, limit, ok in rows
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,300,1000", help="flow counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="runs per tool (median is shown)")
    parser.add_argument("--target", default="flyte", choices=("flyte", "kfp"))
    parser.add_argument("--corpus", default="real", choices=sorted(GENERATORS))
    options = parser.parse_args(argv)
    sizes = [int(size) for size in options.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="transpile-bench-") as scratch:
        print(f"machine: {machine()}; median of {options.repeat} alternating runs")
        print(f"corpus {options.corpus}; convert --to {options.target}, as one batch per N\n")
        found: dict[int, dict[str, float]] = {}
        rows = table(sizes, options.repeat, options.target, Path(scratch), options.corpus, found)
        for row in rows:
            print(row, flush=True)
        print()
        line, ratio = one_file_lint(max(options.repeat, 5), Path(scratch))
        print(line)
        checks = budgets(found, ratio, options.corpus)
        print("\n".join(checks))
    if any(check.endswith("EXCEEDED") for check in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
