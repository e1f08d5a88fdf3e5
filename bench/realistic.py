"""Flows with the shapes of users' repositories, for the bench (``run.py --corpus real``).

Each file is generated here from a seed number, not copied from any repository: long steps, many
module-level helpers, artifacts whose type cannot be inferred (so many diagnostics), foreach
bodies of many statements with a join over ``inputs``, a nested foreach, branches, a dataclass
and a switch; and, in the same tree, Flyte workflows and KFP pipelines (one file in five each),
in subfolders as a repository lays them out.
"""

from __future__ import annotations

import random
from pathlib import Path


def _helpers(rng: random.Random, count: int) -> list[str]:
    """``count`` module functions of a few shapes; each is called by some step."""
    out = []
    for number in range(count):
        shape = number % 4
        if shape == 0:
            out.append(
                f"def scale_{number}(values: list[float], factor: float) -> list[float]:\n"
                f'    """Multiply every value by ``factor`` (helper {number})."""\n'
                "    return [v * factor for v in values]\n"
            )
        elif shape == 1:
            out.append(
                f"def summary_{number}(values: list[float]) -> dict[str, float]:\n"
                "    if not values:\n"
                '        return {"n": 0.0, "mean": 0.0}\n'
                "    total = sum(values)\n"
                f'    return {{"n": float(len(values)), "mean": total / len(values) + {number}}}\n'
            )
        elif shape == 2:
            out.append(
                f"def clean_{number}(rows):\n"  # untyped: callers' results are not inferred
                "    kept = []\n"
                "    for row in rows:\n"
                "        if row is None:\n"
                "            continue\n"
                "        kept.append(row)\n"
                "    return kept\n"
            )
        else:
            limit = rng.randint(2, 9)
            out.append(
                f"def bucket_{number}(value: float) -> str:\n"
                f"    if value > {limit}:\n"
                '        return "high"\n'
                f"    if value > {limit // 2}:\n"
                '        return "mid"\n'
                '    return "low"\n'
            )
    return out


def _long_body(rng: random.Random, helpers: int, lines: int, source: str) -> list[str]:
    """Statements of a long step: locals, loops, helper calls, some untyped artifacts."""
    body = [f"values = [float(i) for i in {source}]"]
    for number in range(lines):
        helper = rng.randrange(helpers)
        shape = helper % 4
        if shape == 0:
            body.append(f"values = scale_{helper}(values, {rng.randint(1, 5)}.0)")
        elif shape == 1:
            body.append(f"stats_{number} = summary_{helper}(values)")
            body.append(f"if stats_{number}['n'] > {rng.randint(1, 9)}:")
            body.append(f"    values = values[: int(stats_{number}['n']) - 1]")
        elif shape == 2:
            body.append(f"self.rows_{number} = clean_{helper}(values)")  # type unknown: TP301
        else:
            body.append(f"labels_{number} = [bucket_{helper}(v) for v in values]")
            body.append(f"for label in labels_{number}:")
            body.append("    if label == 'high':")
            body.append(f"        print('{number}', label)")
    return body


def _step(name: str, lines: list[str], nxt: str, doc: str = "", join: bool = False) -> str:
    head = "    @step\n" + f"    def {name}(self{', inputs' if join else ''}):\n"
    if doc:
        head += f'        """{doc}"""\n'
    text = "".join(f"        {line}\n" for line in lines)
    return head + text + (f"        {nxt}\n" if nxt else "")


def metaflow(number: int) -> str:
    rng = random.Random(number)
    helpers = rng.randint(12, 24)
    name = f"Pipeline{number}Flow"
    parts = [
        f'"""Repository-shaped flow {number}: long steps, helpers, foreach and join."""\n\n',
        "from dataclasses import dataclass\n\n",
        "from metaflow import FlowSpec, Parameter, current, step\n\n",
        f"THRESHOLD = {rng.randint(1, 50)}\n\n",
        "\n\n".join(_helpers(rng, helpers)),
        "\n\n@dataclass\nclass Record:\n    key: str\n    weight: float = 1.0\n\n",
        f"\nclass {name}(FlowSpec):\n",
        '    size = Parameter("size", default=8, type=int, help="items per shard")\n',
        '    mode = Parameter("mode", default="fast", help="fast or full")\n\n',
    ]
    long = rng.randint(15, 35)
    start = _long_body(rng, helpers, long, "range(self.size)")
    start += [
        "self.shards = [list(range(i, i + self.size)) for i in range(0, 4 * self.size, self.size)]",
        'print("run", current.run_id, current.pathspec)',  # lossy outside Metaflow: TP210
    ]
    steps = [_step("start", start, "self.next(self.shard, foreach='shards')", "Prepare shards.")]
    foreach = _long_body(rng, helpers, rng.randint(20, 40), "self.input")
    foreach += [
        "self.parts = [[v, v + 1] for v in values[:3]]",
        "self.total = sum(values)",
    ]
    steps.append(_step("shard", foreach, "self.next(self.part, foreach='parts')"))
    inner = _long_body(rng, helpers, rng.randint(5, 12), "self.input")
    inner.append("self.piece = sum(values) + self.index")
    steps.append(_step("part", inner, "self.next(self.gather)"))
    steps.append(
        _step(
            "gather",
            ["self.pieces = [i.piece for i in inputs]", "self.total = sum(self.pieces)"],
            "self.next(self.merge)",
            join=True,
        )
    )
    steps.append(
        _step(
            "merge",
            [
                "self.totals = sorted(i.total for i in inputs)",
                "self.records = [Record(str(t), t) for t in self.totals]",
            ],
            "self.next(self.left, self.right)",
            join=True,
        )
    )
    branch = _long_body(rng, helpers, rng.randint(8, 16), "self.totals")
    steps.append(_step("left", [*branch, "self.score = len(values)"], "self.next(self.meet)"))
    steps.append(_step("right", ["self.score = len(self.records)"], "self.next(self.meet)"))
    steps.append(
        _step(
            "meet",
            [
                "self.best = max(inputs.left.score, inputs.right.score)",
                "self.route = 'wide' if self.best > THRESHOLD else 'narrow'",
            ],
            "self.next({'wide': self.wide, 'narrow': self.narrow}, condition='route')",
            join=True,
        )
    )
    steps.append(_step("wide", ["self.result = self.best * 2"], "self.next(self.end)"))
    steps.append(_step("narrow", ["self.result = self.best"], "self.next(self.end)"))
    steps.append(_step("end", ["print('result', self.result)"], ""))
    parts.append("\n".join(steps))
    parts.append(f'\n\nif __name__ == "__main__":\n    {name}()\n')
    return "".join(parts)


def flyte(number: int) -> str:
    rng = random.Random(number)
    tasks = rng.randint(4, 9)
    lines = [
        f'"""Repository-shaped Flyte workflow {number}."""\n',
        "from flytekit import map_task, task, workflow\n",
    ]
    for index in range(tasks):
        lines.append(
            f"@task\ndef stage_{index}(values: list[float], factor: float) -> list[float]:\n"
            "    out = []\n"
            "    for value in values:\n"
            f"        out.append(value * factor + {index})\n"
            "    return out\n"
        )
    lines.append("@task\ndef square(value: float) -> float:\n    return value * value\n")
    lines.append("@task\ndef total(values: list[float]) -> float:\n    return sum(values)\n")
    calls = ["    data = seed"]
    for index in range(tasks):
        calls.append(f"    data = stage_{index}(values=data, factor=factor)")
    calls.append("    squares = map_task(square)(value=data)")
    calls.append("    return total(values=squares)")
    lines.append(
        f"@workflow\ndef pipeline_{number}(seed: list[float] = [1.0, 2.0], factor: float = 2.0)"
        " -> float:\n" + "\n".join(calls) + "\n"
    )
    return "\n\n".join(lines)


def kfp(number: int) -> str:
    rng = random.Random(number)
    components = rng.randint(4, 9)
    lines = [f'"""Repository-shaped KFP pipeline {number}."""\n', "from kfp import dsl\n"]
    for index in range(components):
        lines.append(
            '@dsl.component(base_image="python:3.11")\n'
            f"def step_{index}(values: list[int], offset: int) -> list[int]:\n"
            f"    return [int(v) + offset + {index} for v in values]\n"
        )
    lines.append(
        '@dsl.component(base_image="python:3.11")\n'
        "def square(x: int) -> int:\n    value = int(x)\n    return value * value\n"
    )
    lines.append(
        '@dsl.component(base_image="python:3.11")\n'
        "def add_all(values: list[int]) -> int:\n    return int(sum(values))\n"
    )
    body = ["    data_task = step_0(values=numbers, offset=offset)"]
    for index in range(1, components):
        body.append(f"    data_task = step_{index}(values=data_task.output, offset=offset)")
    body.append("    with dsl.ParallelFor(items=data_task.output) as item:")
    body.append("        square_task = square(x=item)")
    body.append("    add_all(values=dsl.Collected(square_task.output))")
    lines.append(
        f"@dsl.pipeline\ndef pipeline_{number}(numbers: list[int] = [1, 2, 3], offset: int = 1):\n"
        + "\n".join(body)
        + "\n"
    )
    return "\n\n".join(lines)


def generate(count: int, folder: Path) -> list[Path]:
    """``count`` files under ``folder``: three Metaflow flows in five, one Flyte, one KFP."""
    paths = []
    for number in range(count):
        kind = ("metaflow", "metaflow", "flyte", "metaflow", "kfp")[number % 5]
        text = {"metaflow": metaflow, "flyte": flyte, "kfp": kfp}[kind](number)
        path = folder / f"team_{number % 7}" / kind / f"pipeline_{number:04d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
