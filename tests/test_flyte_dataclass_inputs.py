"""Issue 15: a workflow input typed as a dataclass of the module travels as a JSON object (its
default worked out ahead from the fields' defaults and the call's arguments) and each task that
takes it makes the dataclass of it first, as Flyte hands it over (before: the task got a dict,
``hp.rate`` failed, and KFP refused the default with TP246)."""

from __future__ import annotations

import textwrap

import pytest
from staging import same_when_run

from transpile.api import Converted, Failed, convert_text

SOURCE = textwrap.dedent(
    """
    from dataclasses import dataclass

    from flytekit import task, workflow


    @dataclass
    class Hyper:
        rate: float
        epochs: int = 3
        tags: list[str] | None = None

        def steps(self) -> int:
            return self.epochs * 10


    @task
    def train(config: Hyper, n: int) -> float:
        return config.rate * config.steps() * n


    @task
    def label(hp: Hyper) -> str:
        return f"{hp.rate}/{hp.epochs}"


    @workflow
    def wf(hp: Hyper = Hyper(0.5, epochs=2), n: int = 2) -> tuple[float, str]:
        return train(config=hp, n=n), label(hp=hp)
    """
)


def converted(target: str, text: str = SOURCE) -> Converted:
    result = convert_text(text, "wf.py", target)
    assert isinstance(result, Converted), getattr(result, "reason", result)
    return result


def test_kfp_takes_json_text_with_the_fields_and_each_task_rebuilds_the_dataclass():
    code = converted("kfp").code
    assert 'def wf(hp: str = \'{"rate": 0.5, "epochs": 2, "tags": null}\', n: int = 2)' in (code)
    assert "    config = json.loads(config)\n    config = Hyper(**config)\n" in code
    assert "    hp = json.loads(hp)\n    hp = Hyper(**hp)\n" in code
    assert code.count("class Hyper:") == 2  # inside each component that makes one


def test_metaflow_takes_a_json_parameter_and_each_step_rebuilds_the_dataclass():
    code = converted("metaflow").code
    assert """default='{"rate": 0.5, "epochs": 2, "tags": null}', type=JSONType""" in code
    assert "        config = Hyper(**config)\n" in code and "        hp = Hyper(**hp)\n" in code


def test_the_conversion_is_named():
    notes = [
        d for d in converted("kfp").diagnostics if d.code == "TP201" and "dataclass" in d.message
    ]
    (note,) = notes
    assert note.message == (
        "workflow input 'hp' (Hyper, a dataclass) travels as a JSON object; each task that takes "
        "it makes a Hyper of it first, as Flyte hands it over"
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (("rate: float\n", "rate: float\n    inner: Inner = Inner()\n"), "a nested dataclass"),
        (("Hyper(0.5, epochs=2)", "Hyper(rate=RATE)"), "a default not known ahead"),
        (("Hyper(0.5, epochs=2)", "Hyper(epochs=2)"), "a required field left out"),
    ],
)
def test_what_cannot_be_worked_out_ahead_is_left_as_kfp_refuses_it(change, why):
    text = SOURCE.replace(*change).replace(
        "@dataclass\nclass Hyper",
        "RATE = 0.5\n\n\n@dataclass\nclass Inner:\n    x: int = 1\n\n\n@dataclass\nclass Hyper",
    )
    result = convert_text(text, "wf.py", "kfp")
    assert isinstance(result, Failed), why
    assert "TP246 parameter 'hp' has a default KFP cannot hold" in result.reason


@pytest.mark.equivalence
def test_a_dataclass_input_runs_the_same_in_kfp(tmp_path):
    same_when_run(SOURCE, "kfp", tmp_path)
