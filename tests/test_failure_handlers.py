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

from transpile import frameworks
from transpile.api import Converted, Read, convert_file, convert_text, read_text

FIXTURES = Path(__file__).parents[1] / "fixtures"
CLEANUP = FIXTURES / "flyte_wild_cleanup" / "flyte.py"
EXIT = FIXTURES / "kfp_wild_exit" / "kfp.py"


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


def run_flyte(folder: Path, code: str, call: str, env: dict) -> str:
    (folder / "flyte_workflow.py").write_text(code)
    script = (
        f"import flyte_workflow as m\ntry:\n    m.{call}\nexcept Exception as e:\n"
        "    print(type(e).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    return done.stdout + done.stderr[-2000:]


def run_kfp(folder: Path, code: str, call: str, env: dict) -> str:
    (folder / "pipeline.py").write_text(code)
    script = (
        "import tempfile\nfrom kfp import local\n"
        "local.init(runner=local.SubprocessRunner(use_venv=False), "
        "pipeline_root=tempfile.mkdtemp())\n"
        "import pipeline as m\n"
        f"try:\n    m.{call}\nexcept Exception as e:\n    print(type(e).__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True,
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


def folders(tmp_path: Path, *names: str) -> tuple[dict, list[Path]]:
    env = {**os.environ, "USER": "tester", "HOME": str(tmp_path), "PYTHONHASHSEED": "0"}
    env = {k: v for k, v in env.items() if not k.startswith(("METAFLOW_", "FLYTE_"))}
    made = []
    for name in names:
        (tmp_path / name).mkdir()
        made.append(tmp_path / name)
    return env, made


def left(folder: Path, suffixes: tuple[str, ...]) -> dict[str, str]:
    """The files a run left beside the module (markers, results, the handler's note)."""
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if p.suffix in suffixes}


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["kfp", "metaflow"])
@pytest.mark.parametrize(
    ("epochs", "fails"), [(5, True), (2, False)], ids=["failing", "succeeding"]
)
def test_the_failure_handler_runs_in_the_target_as_in_flyte(target, epochs, fails, tmp_path):
    """A failing run: the handler deletes the cluster the run left and writes its note, the
    same text on both sides; a succeeding run: no note (KFP ran its exit task, which did
    nothing), the cluster deleted by the last task."""
    env, (flyte_dir, target_dir) = folders(tmp_path, "flyte", target)
    call = f"cluster_wf(name='c9', epochs={epochs})"
    flyte_log = run_flyte(flyte_dir, CLEANUP.read_text(), call, env)
    assert ("ValueError" in flyte_log) == fails, flyte_log
    result = convert_file(str(CLEANUP), target)
    assert isinstance(result, Converted)
    if target == "kfp":
        log = run_kfp(target_dir, result.code, call, env)
        assert ("RuntimeError" in log) == fails, log
    else:
        log = run_metaflow(target_dir, result.code, ["--name_", "c9", "--epochs", str(epochs)], env)
        assert log.startswith("exit 0") != fails, log
    expected = left(flyte_dir, (".cluster", ".model", ".cleaned"))
    if fails:
        assert expected == {"c9.cleaned": "cluster c9 deleted after a failure at 5 epochs"}
    else:
        assert expected == {"c9.model": "trained trained "}
    assert left(target_dir, (".cluster", ".model", ".cleaned")) == expected, log


@pytest.mark.equivalence
@pytest.mark.parametrize("target", ["flyte", "metaflow"])
@pytest.mark.parametrize(("size", "fails"), [(8, True), (3, False)], ids=["failing", "succeeding"])
def test_the_exit_task_runs_in_the_target_as_in_kfp(target, size, fails, tmp_path):
    """KFP runs the exit task after every run; the target runs it as the last step when the
    run succeeds and as the failure handler when it fails: the same status note either way
    (and the lock the failed task left)."""
    env, (kfp_dir, target_dir) = folders(tmp_path, "kfp", target)
    call = f"guarded_job(job='j9', size={size})"
    kfp_log = run_kfp(kfp_dir, EXIT.read_text(), call, env)
    assert ("RuntimeError" in kfp_log) == fails, kfp_log
    result = convert_file(str(EXIT), target)
    assert isinstance(result, Converted)
    if target == "flyte":
        log = run_flyte(target_dir, result.code, call, env)
        assert ("ValueError" in log) == fails, log
    else:
        log = run_metaflow(target_dir, result.code, ["--job", "j9", "--size", str(size)], env)
        assert log.startswith("exit 0") != fails, log
    expected = left(kfp_dir, (".status", ".lock"))
    state = "FAILED" if fails else "SUCCEEDED"
    assert expected == {"j9.status": f"j9: {state}", **({"j9.lock": "locked"} if fails else {})}
    assert left(target_dir, (".status", ".lock")) == expected, log


# KFP ExitHandler read back -------------------------------------------------------------------------
def read_options(text: str):
    from transpile.api import Read, read_text

    result = read_text(text, "p.py", "kfp")
    assert isinstance(result, Read), getattr(result, "reason", result)
    return result


def test_an_exit_task_is_the_last_step_and_the_failure_handler():
    result = read_options(EXIT.read_text())
    pipeline = result.pipeline
    assert [s.name for s in pipeline.steps] == ["prepare", "crunch", "report"]
    (hook,) = pipeline.options
    assert hook.kind == "exit_hook" and hook.arg("on_error") == "[report_on_failure]"
    assert hook.arg("inputs") == "('job', 'size', 'limit')"
    (handler,) = [d for d in pipeline.module.definitions if "report_on_failure" in d]
    assert handler.startswith("def report_on_failure(job: str, size: int, limit: int) -> None:")
    assert 'state="FAILED"' in handler and 'state="SUCCEEDED"' not in handler
    assert not [d for d in result.diagnostics if d.lossy]


def test_our_exit_task_reads_back_as_the_handler_alone():
    """Flyte → KFP → Flyte keeps on_failure=clean_up: the exit task our KFP writer made is
    read as the handler it calls (no step of its own)."""
    kfp = convert_file(str(CLEANUP), "kfp")
    assert isinstance(kfp, Converted)
    pipeline = read_options(kfp.code).pipeline
    assert "clean_up_on_failure" not in [s.name for s in pipeline.steps]
    (hook,) = pipeline.options
    assert hook.arg("on_error") == "[clean_up]"
    assert hook.arg("inputs") == "('name', 'epochs', 'err')"
    assert "from pathlib import Path" in pipeline.module.imports
    back = converted(kfp.code, "flyte").code
    assert "@workflow(on_failure=clean_up_task)" in back
    assert "def clean_up_task(name: str = " in back
    assert "    clean_up(name=name, epochs=epochs, err=None)\n" in back


def test_a_handler_around_part_of_the_pipeline_says_it_guards_the_whole_run():
    text = EXIT.read_text().replace(
        "        crunch(job=job, total=prepared.output, limit=limit)",
        "    crunch(job=job, total=prepared.output, limit=limit)",
    )
    result = read_options(text)
    notes = [d for d in result.diagnostics if "outside the dsl.ExitHandler" in d.message]
    assert len(notes) == 1 and notes[0].lossy and "(crunch)" in notes[0].message


def test_an_exit_task_fed_by_a_task_output_stays_the_last_step_only():
    text = (
        EXIT.read_text()
        .replace(
            "    report_task = report(job=job)\n",
            "    named = prepare(job=job, size=1)\n    report_task = report(job=named.output)\n",
        )
        .replace(
            "def report(status: dsl.PipelineTaskFinalStatus, job: str)",
            "def report(status: dsl.PipelineTaskFinalStatus, job: int)",
        )
    )
    result = read_options(text)
    assert result.pipeline.options == ()
    assert any("reads values other than pipeline inputs" in d.message for d in result.diagnostics)


def test_a_handler_input_metaflow_renamed_reads_back_as_the_handler():
    """A handler taking the pipeline input ``name`` (Metaflow's ``name_``): written to Metaflow
    and read back it is still the failure handler, its keyword given by the renamed parameter;
    KFP and Flyte written from there call it so, and KFP reads its exit task back the same."""
    text = HANDLED.replace("tag", "name")
    metaflow = converted(text, "metaflow").code
    assert "    note(name=params.name_, n=params.n)\n" in metaflow
    read = read_text(metaflow, "flow.py", "metaflow")
    assert isinstance(read, Read)
    (hook,) = read.pipeline.options
    assert hook.args == (
        ("on_error", "[note]"),
        ("inputs", "('name', 'n')"),
        ("input_params", "('name_', 'n')"),
    )
    assert hook.written == (("on_error", "[note]"), ("inputs", "('name', 'n')"))
    kfp, _ = frameworks.writer("kfp").write(read.pipeline)
    assert "def note_on_failure(status: dsl.PipelineTaskFinalStatus, name_: str, n: int):" in kfp
    assert '    if status.state == "FAILED":\n        note(name=name_, n=n)\n' in kfp
    assert "note_on_failure_task = note_on_failure(name_=name_, n=n)" in kfp
    back = read_text(kfp, "back.py", "kfp")
    assert isinstance(back, Read)
    assert back.pipeline.options[0].args == hook.args
    flyte, _ = frameworks.writer("flyte").write(read.pipeline)
    assert "    note(name=name_, n=n)\n" in flyte
