"""Failure handlers across frameworks (issues 15 and 16): Flyte's ``@workflow(on_failure=...)``
becomes a KFP ``dsl.ExitHandler`` whose exit task calls the handler only when the run failed
(KFP runs an exit task after every run: ``PipelineTaskFinalStatus`` says how the run ended), and
Metaflow's ``@exit_hook(on_error=...)``. Where KFP cannot carry it (a pipeline with results:
the KFP compiler refuses outputs from inside an ExitHandler), a TODO says why. The tests of
record run a failing and a succeeding input on both sides and compare what the handler left."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from transpile.api import Converted, convert_file, convert_text

FIXTURES = Path(__file__).parents[1] / "fixtures"
CLEANUP = FIXTURES / "flyte_wild_cleanup" / "flyte.py"


def converted(text: str, target: str) -> Converted:
    result = convert_text(text, "wf.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    return result


HANDLED = textwrap.dedent(
    """\
    from flytekit import task, workflow


    @task
    def note(tag: str, n: int) -> None:
        print(tag, n)


    @task
    def work(n: int) -> None:
        assert n < 3


    @workflow(on_failure=note)
    def wf(tag: str = "a", n: int = 1):
        work(n=n)
    """
)


def test_on_failure_becomes_an_exit_handler_that_checks_the_status():
    result = converted(HANDLED, "kfp")
    code = result.code
    assert "def note_on_failure(status: dsl.PipelineTaskFinalStatus, tag: str, n: int):" in code
    assert '    if status.state == "FAILED":\n        note(tag=tag, n=n)\n' in code
    assert "    def note(tag: str, n: int) -> None:\n        print(tag, n)\n" in code
    body = code[code.index("def wf(") :]
    assert (
        "    note_on_failure_task = note_on_failure(tag=tag, n=n)\n"
        "    note_on_failure_task.set_caching_options(enable_caching=False)\n"
        "    with dsl.ExitHandler(note_on_failure_task):\n"
        "        work_task = work(n=n)\n"
    ) in body
    assert "TODO" not in code
    notes = [d for d in result.diagnostics if "ExitHandler" in d.message]
    assert len(notes) == 1 and notes[0].code == "TP201" and not notes[0].lossy
    assert "after every run" in notes[0].message


def test_a_pipeline_input_named_status_leaves_the_status_another_name():
    text = HANDLED.replace("tag", "status")
    code = converted(text, "kfp").code
    assert "def note_on_failure(status_: dsl.PipelineTaskFinalStatus, status: str, n: int):" in (
        code
    )
    assert 'if status_.state == "FAILED":' in code


def test_a_pipeline_with_results_keeps_them_and_says_the_handler_is_not_carried():
    text = HANDLED.replace("n: int = 1):\n    work(n=n)", "n: int = 1) -> int:\n    return ok(n=n)")
    text = text.replace(
        "@task\ndef work", "@task\ndef ok(n: int) -> int:\n    return n\n\n\n@task\ndef work"
    )
    result = converted(text, "kfp")
    assert "with dsl.ExitHandler" not in result.code and "def note_on_failure" not in result.code
    todo = [d for d in result.diagnostics if d.code == "TP202" and "on_failure=note" in d.message]
    assert len(todo) == 1 and todo[0].lossy
    assert "refuses pipeline outputs from inside a dsl.ExitHandler" in todo[0].message
    assert f"# TODO(transpile): TP202 {todo[0].message}" in result.code


def test_a_list_input_of_the_handler_is_not_guessed():
    text = HANDLED.replace("n: int", "n: list[int]").replace("n: int = 1", "n: list[int] = [1]")
    text = text.replace("assert n < 3", "assert len(n) < 3")
    result = converted(text, "kfp")
    assert "with dsl.ExitHandler" not in result.code
    assert any("its input n is not a str, int" in d.message and d.lossy for d in result.diagnostics)


def run_flyte(folder: Path, params: str, env: dict) -> str:
    (folder / "flyte_workflow.py").write_text(CLEANUP.read_text())
    call = (
        "import flyte_workflow as m\n"
        f"try:\n    m.cluster_wf({params})\nexcept Exception as e:\n    print(type(e).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", call], cwd=folder, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr[-2000:]


def run_kfp(folder: Path, code: str, params: str, env: dict) -> str:
    (folder / "pipeline.py").write_text(code)
    call = (
        "import tempfile\nfrom kfp import local\n"
        "local.init(runner=local.SubprocessRunner(use_venv=False), "
        "pipeline_root=tempfile.mkdtemp())\n"
        "import pipeline as m\n"
        f"try:\n    m.cluster_wf({params})\nexcept Exception as e:\n    print(type(e).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", call], cwd=folder, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr[-2000:]


def run_metaflow(folder: Path, code: str, params: list[str], env: dict) -> str:
    (folder / "flow.py").write_text(code)
    done = subprocess.run(
        [sys.executable, "flow.py", "--no-pylint", "run", *params], cwd=folder, env=env,
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    return f"exit {done.returncode}\n" + done.stderr[-2000:]


def left(folder: Path) -> dict[str, str]:
    """The files a run left beside the module (the cluster marker, the model, the handler's)."""
    return {
        p.name: p.read_text()
        for p in sorted(folder.iterdir())
        if p.suffix in (".cluster", ".model", ".cleaned")
    }


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["kfp", "metaflow"])
@pytest.mark.parametrize(
    ("epochs", "fails"), [(5, True), (2, False)], ids=["failing", "succeeding"]
)
def test_the_failure_handler_runs_in_the_target_as_in_flyte(target, epochs, fails, tmp_path):
    """A failing run: the handler deletes the cluster the run left and writes its note, the
    same text on both sides; a succeeding run: no note (KFP ran its exit task, which did
    nothing), the cluster deleted by the last task."""
    env = {**os.environ, "USER": "tester", "HOME": str(tmp_path), "PYTHONHASHSEED": "0"}
    env = {k: v for k, v in env.items() if not k.startswith(("METAFLOW_", "FLYTE_"))}
    flyte_dir, target_dir = tmp_path / "flyte", tmp_path / target
    flyte_dir.mkdir()
    target_dir.mkdir()
    flyte_log = run_flyte(flyte_dir, f"name='c9', epochs={epochs}", env)
    assert ("ValueError" in flyte_log) == fails, flyte_log
    result = convert_file(str(CLEANUP), target)
    assert isinstance(result, Converted)
    if target == "kfp":
        log = run_kfp(target_dir, result.code, f"name='c9', epochs={epochs}", env)
        assert ("RuntimeError" in log) == fails, log
    else:
        log = run_metaflow(target_dir, result.code, ["--name_", "c9", "--epochs", str(epochs)], env)
        assert log.startswith("exit 0") != fails, log
    expected = left(flyte_dir)
    if fails:
        assert expected == {"c9.cleaned": "cluster c9 deleted after a failure at 5 epochs"}
    else:
        assert expected == {"c9.model": "trained trained "}
    assert left(target_dir) == expected, log
