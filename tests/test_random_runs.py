"""Random pipeline models, written for Flyte and run there, compute what the model means."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from harness import assert_equivalent, normalize, run_flyte
from hypothesis import HealthCheck, given, settings
from model_interpreter import evaluate
from pipeline_strategies import pipelines

from transpile.frameworks.flyte.writer import write as flyte


@pytest.mark.equivalence
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pipeline=pipelines())
def test_flyte_output_computes_what_the_model_means(pipeline):
    expected = {name: normalize(value) for name, value in evaluate(pipeline, {}).items()}
    code, _ = flyte.write(pipeline)
    with tempfile.TemporaryDirectory() as tmp:
        module = Path(tmp) / "random_wf.py"
        module.write_text(code, encoding="utf-8")
        assert_equivalent(expected, run_flyte(module, {}, tmp))
