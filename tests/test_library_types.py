"""Issue 19: values from pandas, numpy and scikit-learn calls have a known class in the model
(no TP301), and still travel as any object does: pickled by Flyte and KFP. Declaring the class
would change the transport (flytekit writes a DataFrame as parquet and an array as .npy, which
refuse some values and change others), so the class names what travels, not how."""

from __future__ import annotations

import textwrap

from transpile.api import Converted, convert_text

SOURCE = textwrap.dedent(
    """
    import numpy as np
    import pandas as pd
    from metaflow import FlowSpec, step
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import accuracy_score


    class ModelFlow(FlowSpec):
        @step
        def start(self):
            self.frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
            self.features = self.frame[["x"]].to_numpy()
            self.labels = np.array(self.frame["y"])
            self.next(self.train)

        @step
        def train(self):
            self.model = RandomForestClassifier(n_estimators=3).fit(self.features, self.labels)
            self.predicted = self.model.predict(self.features)
            self.accuracy = accuracy_score(self.labels, self.predicted)
            self.mean = round(100 * np.mean(self.predicted), 2)
            self.next(self.end)

        @step
        def end(self):
            print(self.frame.shape, self.accuracy, self.mean)
    """
)
EXPECTED = {
    "frame": "pandas.DataFrame",
    "features": "numpy.ndarray",
    "labels": "numpy.ndarray",
    "model": "sklearn.ensemble.RandomForestClassifier",
    "predicted": "numpy.ndarray",
    "accuracy": "float | numpy.float64",
    "mean": "numpy.float64",
}


def converted(target: str) -> Converted:
    result = convert_text(SOURCE, "model_flow.py", target)
    assert isinstance(result, Converted), result
    return result


def test_library_values_have_their_class_and_no_tp301():
    result = converted("flyte")
    types = {o.name: o.type.expr for s in result.pipeline.steps for o in s.outputs}
    assert {name: types[name] for name in EXPECTED} == EXPECTED
    assert not [d for d in result.diagnostics if d.code == "TP301"]


def test_kfp_carries_each_as_a_pickled_artifact_never_a_parameter():
    code = converted("kfp").code
    for name in EXPECTED:
        assert f"{name}_out: Output[Artifact]" in code, name
    assert "-> float" not in code and "accuracy: float" not in code


def test_flyte_pickles_them_rather_than_declaring_a_transport_that_changes_them():
    code = converted("flyte").code
    assert "pd.DataFrame" not in code.split("def start", 1)[0]  # no parquet transport
    for name in EXPECTED:
        assert f"    {name}: typing.Any" in code, name


def test_a_type_known_only_in_part_has_its_tp301_at_the_spot():
    source = SOURCE.replace(
        'self.frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})',
        'self.frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})\n'
        '        self.pair = (pd.read_pickle("p.pkl"), "label")',
    )
    result = convert_text(source, "model_flow.py", "kfp")
    assert isinstance(result, Converted), result
    said = [d for d in result.diagnostics if d.code == "TP301"]
    message = (
        "cannot infer the type of artifact 'pair'; it travels as tuple[typing.Any, str], in part "
        "unknown (add an annotation: self.pair: T = ...)"
    )
    assert [d.message for d in said] == [message]
    assert (said[0].span.line, said[0].span.column) == (13, 8)  # shown as 13:9
