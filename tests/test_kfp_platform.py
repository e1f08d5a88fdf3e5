"""KFP sources (issue 16): kfp.kubernetes pod settings in a pipeline body, and pipeline results
that are not one task's output. The runs are fixtures/kfp_wild_platform's equivalence tests."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap

import pytest
from conftest import FIXTURES

from transpile import frameworks
from transpile.api import Converted, Failed, Read, convert_text, read_text

HEADER = """\
from typing import NamedTuple

from kfp import dsl, kubernetes


@dsl.component
def make(n: int) -> int:
    return n + 1


@dsl.component
def use(x: int) -> str:
    import os

    return os.environ.get("DB_PASSWORD", "") + str(x)


"""


def source(body: str, returns: str = "") -> str:
    head = f"@dsl.pipeline\ndef p(n: int = 1){returns}:\n"
    return HEADER + head + textwrap.indent(textwrap.dedent(body), "    ")


def converted(body: str, target: str, returns: str = "") -> Converted:
    result = convert_text(source(body, returns), "p.py", target, "kfp")
    assert isinstance(result, Converted), getattr(result, "diagnostics", result)
    return result


def squashed(text: str) -> str:
    """Code without whitespace or the trailing commas of formatted calls (to match a call
    however ruff wrapped it)."""
    return re.sub(r"\s+", "", text).replace(",)", ")").replace(",]", "]")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


SECRET = """\
t = make(n=n)
kubernetes.use_secret_as_env(t, secret_name="db", secret_key_to_env={"password": "DB_PASSWORD"})
u = use(x=t.output)
"""


def test_a_secret_as_env_becomes_a_flyte_secret_request_with_its_variable():
    result = converted(SECRET, "flyte")
    assert squashed(
        'Secret(group="db", key="password", env_var="DB_PASSWORD", '
        "mount_requirement=Secret.MountType.ENV_VAR)"
    ) in squashed(result.code)
    assert "from flytekit import Secret" in result.code or "Secret," in result.code
    assert not any(d.lossy for d in result.diagnostics)  # exact in Flyte


def test_a_secret_as_env_is_a_kubernetes_todo_in_metaflow_naming_the_variables():
    result = converted(SECRET, "metaflow")
    todo = next(line for line in result.code.splitlines() if "TP232" in line)
    assert "@kubernetes(secrets=['db'])" in todo
    assert "{'db': {'password': 'DB_PASSWORD'}}" in todo  # Metaflow names variables by key
    assert "secret_env" not in todo
    assert "\n    @kubernetes" not in result.code  # a local run stays local


SCHEDULING = """\
t = make(n=n)
kubernetes.add_node_selector(t, label_key="pool", label_value="cpu")
kubernetes.add_toleration(t, key="gpu", operator="Exists", effect="NoSchedule")
kubernetes.add_pod_label(t, "team", "ml")
kubernetes.set_image_pull_secrets(t, ["regcred"])
kubernetes.set_timeout(t, 90)
"""


def test_pod_scheduling_settings_and_a_timeout():
    metaflow = converted(SCHEDULING, "metaflow")
    assert "@timeout(seconds=90)" in metaflow.code
    assert (
        "@kubernetes(node_selector={'pool': 'cpu'}, tolerations=[{'key': 'gpu', 'operator': "
        "'Exists', 'effect': 'NoSchedule'}], labels={'team': 'ml'}, "
        "image_pull_secrets=['regcred'])"
    ) in metaflow.code
    flyte = converted(SCHEDULING, "flyte")
    assert "timeout=timedelta(seconds=90)" in flyte.code
    assert squashed(
        'pod_template=PodTemplate(pod_spec=V1PodSpec(containers=[V1Container(name="primary")], '
        'node_selector={"pool": "cpu"}, tolerations=[V1Toleration(key="gpu", '
        'operator="Exists", effect="NoSchedule")], image_pull_secrets=['
        'V1LocalObjectReference(name="regcred")]), labels={"team": "ml"})'
    ) in squashed(flyte.code)
    assert "from kubernetes.client import" in flyte.code
    assert not [d for d in flyte.diagnostics if d.lossy]  # a pod template holds each


VOLUMES = """\
t = make(n=n)
kubernetes.use_secret_as_volume(t, secret_name="tls", mount_path="/etc/tls")
kubernetes.use_config_map_as_env(t, "settings", {"mode": "MODE", "level": "LEVEL"})
kubernetes.use_config_map_as_volume(task=t, config_map_name="settings", mount_path="/etc/app")
kubernetes.empty_dir_mount(t, volume_name="scratch", mount_path="/scratch", medium="Memory")
kubernetes.mount_pvc(t, pvc_name="data", mount_path="/data")
kubernetes.set_image_pull_policy(t, "Always")
"""


def test_secrets_and_config_maps_as_files_config_map_variables_and_empty_dirs_are_read():
    read = read_text(source(VOLUMES), "p.py", "kfp")
    assert isinstance(read, Read), getattr(read, "diagnostics", read)
    (option,) = read.pipeline.steps[0].options
    assert {k: ast.literal_eval(v) for k, v in option.args} == {
        "image_pull_policy": "Always",
        "persistent_volume_claims": {"data": "/data"},
        "secret_volumes": {"tls": "/etc/tls"},
        "config_map_env": {"settings": {"mode": "MODE", "level": "LEVEL"}},
        "config_map_volumes": {"settings": "/etc/app"},
        "empty_dirs": {"scratch": {"mount_path": "/scratch", "medium": "Memory"}},
    }
    assert option.span.line == line_of(source(VOLUMES), "use_secret_as_volume")
    assert not [d for d in read.diagnostics if d.lossy]


def test_volumes_and_config_map_variables_are_a_flyte_pod_template():
    result = converted(VOLUMES, "flyte")
    code = squashed(result.code)
    container = squashed(
        'V1Container(name="primary", image_pull_policy="Always", env=['
        'V1EnvVar(name="MODE", value_from=V1EnvVarSource(config_map_key_ref='
        'V1ConfigMapKeySelector(name="settings", key="mode"))), '
        'V1EnvVar(name="LEVEL", value_from=V1EnvVarSource(config_map_key_ref='
        'V1ConfigMapKeySelector(name="settings", key="level")))], volume_mounts=['
        'V1VolumeMount(name="volume-0", mount_path="/data"), '
        'V1VolumeMount(name="secret-0", mount_path="/etc/tls"), '
        'V1VolumeMount(name="config-map-0", mount_path="/etc/app"), '
        'V1VolumeMount(name="scratch", mount_path="/scratch")])'
    )
    volumes = squashed(
        'volumes=[V1Volume(name="volume-0", persistent_volume_claim='
        'V1PersistentVolumeClaimVolumeSource(claim_name="data")), '
        'V1Volume(name="secret-0", secret=V1SecretVolumeSource(secret_name="tls")), '
        'V1Volume(name="config-map-0", config_map=V1ConfigMapVolumeSource(name="settings")), '
        'V1Volume(name="scratch", empty_dir=V1EmptyDirVolumeSource(medium="Memory"))]'
    )
    assert container in code and volumes in code
    assert not [d for d in result.diagnostics if d.lossy]  # a pod template holds each


def test_volumes_and_config_map_variables_are_named_in_the_metaflow_todo():
    result = converted(VOLUMES, "metaflow")
    (todo,) = [line for line in result.code.splitlines() if "TODO(transpile)" in line]
    assert "TP232 @kubernetes(image_pull_policy='Always', persistent_volume_claims=" in todo
    for what in (
        "the secret 'tls' mounted at '/etc/tls'",
        "the keys of the config map 'settings' as environment variables "
        + "{'mode': 'MODE', 'level': 'LEVEL'}",
        "the config map 'settings' mounted at '/etc/app'",
        "the empty-dir volume 'scratch' at '/scratch', medium 'Memory'",
    ):
        assert what in todo
    (lossy,) = [d for d in result.diagnostics if d.lossy]
    assert lossy.code == "TP232" and lossy.span.line == line_of(source(VOLUMES), "as_volume")


def test_an_optional_secret_or_config_map_is_said_to_be_required():
    body = 't = make(n=n)\nkubernetes.use_secret_as_volume(t, "s", "/s", optional=True)\n'
    read = read_text(source(body), "p.py", "kfp")
    assert isinstance(read, Read)
    (lossy,) = [d for d in read.diagnostics if d.lossy]
    assert "optional=True of secret 's' is not carried" in lossy.message


def test_volumes_are_no_steps_and_their_mounts_are_named():
    body = """\
    pvc = kubernetes.CreatePVC(pvc_name="scratch", access_modes=["ReadWriteOnce"], size="1Gi")
    t = make(n=n)
    kubernetes.mount_pvc(t, pvc_name=pvc.outputs["name"], mount_path="/data")
    u = use(x=t.output).after(t)
    kubernetes.DeletePVC(pvc_name=pvc.outputs["name"]).after(u)
    """
    result = converted(body, "metaflow")
    assert [s.name for s in result.pipeline.steps] == ["make", "use"]
    assert "persistent_volume_claims={'scratch': '/data'}" in result.code
    flyte = squashed(converted(body, "flyte").code)
    assert squashed('V1VolumeMount(name="volume-0", mount_path="/data")') in flyte
    assert squashed('V1PersistentVolumeClaimVolumeSource(claim_name="scratch")') in flyte
    text = source(body)
    lossy = {d.span.line for d in result.diagnostics if d.code == "TP202" and d.lossy}
    assert {line_of(text, "CreatePVC"), line_of(text, "DeletePVC")} <= lossy


@pytest.mark.parametrize(
    ("call", "why"),
    [
        (
            'kubernetes.use_field_path_as_env(t, env_name="POD", field_path="metadata.name")',
            "transpile maps it to no setting",
        ),
        (
            'kubernetes.use_secret_as_volume(t, secret_name=name, mount_path="/s")',
            "known only when the pipeline runs",
        ),
        (
            'kubernetes.use_secret_as_env(t, secret_name=name, secret_key_to_env={"k": "K"})',
            "known only when the pipeline runs",
        ),
        ('kubernetes.mount_pvc(t, pvc_name="v", mount_path="/d", sub_path="s")', "sub_path"),
    ],
)
def test_a_pod_setting_no_target_takes_is_a_todo_in_the_step_not_a_refusal(call, why):
    body = f"t = make(n=n)\n{call}\n"
    text = source(body, "").replace("n: int = 1", "n: int = 1, name: str = 'x'")
    for target in ("flyte", "metaflow"):
        result = convert_text(text, "p.py", target, "kfp")
        assert isinstance(result, Converted)
        found = [d for d in result.diagnostics if d.code == "TP202" and why in d.message]
        assert found and found[0].lossy and found[0].span.line == line_of(text, call[:30])
        assert f"# TODO(transpile): TP202 kubernetes.{call.split('.')[1].split('(')[0]}" in (
            result.code
        )


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ('kubernetes.add_node_selector(n, "a", "b")\nmake(n=n)\n', "TP175", "add_node_selector"),
        (
            't = make(n=n)\nO = NamedTuple("O", [("a", int)])\nreturn O(t.output, t.output)\n',
            "TP172",
            "return O(",
        ),
    ],
)
def test_refusals_at_their_lines(body, code, needle):
    text = source(body, "")
    result = read_text(text, "p.py", "kfp")
    assert isinstance(result, Failed)
    diagnostic = result.diagnostics[0]
    assert diagnostic.code == code
    assert diagnostic.span.line == line_of(text, needle)


def test_collected_results_come_from_a_step_that_returns_them():
    body = """\
    with dsl.ParallelFor([1, 2]) as k:
        t = make(n=k)
    return dsl.Collected(t.output)
    """
    for target in ("flyte", "metaflow", "airflow"):
        result = converted(body, target, " -> list[int]")
        assert [r.name for r in result.pipeline.results] == ["Output"]
        (ref,) = result.pipeline.results[0].refs
        assert ref.source == "pipeline_results"
        step = next(s for s in result.pipeline.steps if s.name == "pipeline_results")
        assert step.inputs[0].mode == "collected"
        assert step.outputs[0].type.expr == "list[int]"


@pytest.mark.parametrize(
    ("module", "made"),
    [
        ('O = NamedTuple("O", [("a", int), ("b", str)])\n', ""),
        ("", 'O = NamedTuple("O", a=int, b=str)\n'),
        ("import collections\n", 'O = collections.namedtuple("O", "a b")\n'),
        ("import collections\n", 'O = collections.namedtuple("O", ["a", "b"])\n'),
    ],
)
def test_a_named_tuple_result_with_fields_in_order(module, made):
    body = f"t = make(n=n)\nu = use(x=t.output)\n{made}return O(t.output, b=u.output)\n"
    text = source(body).replace("@dsl.pipeline", module + "\n\n@dsl.pipeline")
    result = read_text(text, "p.py", "kfp")
    assert isinstance(result, Read), getattr(result, "diagnostics", result)
    refs = {r.name: (r.refs[0].source, r.refs[0].name) for r in result.pipeline.results}
    assert refs == {"a": ("make", "Output"), "b": ("use", "Output")}


# ---------------------------------------------------------------------------------------------
# Writing KFP: a @kubernetes option as kfp-kubernetes calls
# ---------------------------------------------------------------------------------------------

POD_FLOW = """\
from metaflow import FlowSpec, kubernetes, step


class PodFlow(FlowSpec):
    @kubernetes(
        memory=1024,
        secrets=["db-creds"],
        node_selector={"pool": "cpu"},
        tolerations=[{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
        labels={"team": "ml"},
        annotations={"owner": "data"},
        image_pull_secrets=["regcred"],
        image_pull_policy="Always",
        persistent_volume_claims={"shared": "/mnt/shared"},
        namespace="ml",
        service_account="runner",
    )
    @step
    def start(self):
        self.x = 1
        self.next(self.kubernetes)

    @kubernetes(node_selector="a=b,c=d")
    @step
    def kubernetes(self):
        self.y = self.x + 1
        self.next(self.end)

    @step
    def end(self):
        pass
"""
# what kfp-kubernetes keeps of each task's pod (its compiled platform spec), printed as JSON
PLATFORM = r"""
import importlib.util, json, sys
import yaml
from kfp import compiler
from kfp.dsl.graph_component import GraphComponent

spec = importlib.util.spec_from_file_location("emitted", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
entry = [v for v in vars(module).values() if isinstance(v, GraphComponent)][-1]
compiler.Compiler().compile(pipeline_func=entry, package_path=sys.argv[2])
documents = list(yaml.safe_load_all(open(sys.argv[2])))
platform = documents[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
print(json.dumps(platform))
"""


def compiled_platform(code: str, tmp_path) -> dict:
    """The kfp-kubernetes settings of each executor once ``kfp.compiler`` compiled ``code`` (in
    a child process: the pytest worker never imports kfp); calls with a wrong signature fail."""
    module = tmp_path / "emitted_pipeline.py"
    module.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", PLATFORM, str(module), str(tmp_path / "pipeline.yaml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_kubernetes_settings_become_kfp_kubernetes_calls_that_compile(tmp_path):
    result = convert_text(POD_FLOW, "pod_flow.py", "kfp", "metaflow")
    assert isinstance(result, Converted)
    code = squashed(result.code)
    # a step named kubernetes keeps its name: the module is imported under another
    assert "fromkfpimportkubernetesaskfp_kubernetes" in code
    assert "#kfp.kubernetesisthekfp-kubernetespackage(pipinstallkfp-kubernetes)" in code
    for call in (
        'kfp_kubernetes.add_node_selector(start_task,label_key="pool",label_value="cpu")',
        'kfp_kubernetes.add_toleration(start_task,key="gpu",operator="Exists",effect="NoSchedule")',
        'kfp_kubernetes.add_pod_label(start_task,label_key="team",label_value="ml")',
        'kfp_kubernetes.add_pod_annotation(start_task,annotation_key="owner",annotation_value="data")',
        'kfp_kubernetes.set_image_pull_secrets(start_task,secret_names=["regcred"])',
        'kfp_kubernetes.set_image_pull_policy(start_task,policy="Always")',
        'kfp_kubernetes.mount_pvc(start_task,pvc_name="shared",mount_path="/mnt/shared")',
        'kfp_kubernetes.add_node_selector(kubernetes_task,label_key="c",label_value="d")',
    ):
        assert call in code, call
    lossy = {d.message.split(" ")[0]: d for d in result.diagnostics if d.lossy}
    # Metaflow's secret puts every key in the environment; KFP's names each key: a TODO
    assert "@kubernetes(secrets=['db-creds'])" in lossy
    assert {'@kubernetes(namespace="ml")', '@kubernetes(service_account="runner")'} <= set(lossy)
    todos = [line for line in result.code.splitlines() if "TODO(transpile)" in line]
    assert len(todos) == 3 and all(line.startswith("# TODO(transpile): TP202") for line in todos)
    needed = [d for d in result.diagnostics if "pip install kfp-kubernetes" in d.message]
    assert len(needed) == 1 and not needed[0].lossy and needed[0].span.line == 5
    platform = compiled_platform(result.code, tmp_path)
    start = platform["exec-start"]
    assert start["nodeSelector"] == {"labels": {"pool": "cpu"}}
    assert start["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert start["podMetadata"] == {"labels": {"team": "ml"}, "annotations": {"owner": "data"}}
    assert [s["secretName"] for s in start["imagePullSecret"]] == ["regcred"]
    assert start["imagePullPolicy"] == "Always"
    assert [(m["constant"], m["mountPath"]) for m in start["pvcMount"]] == [
        ("shared", "/mnt/shared")
    ]
    assert platform["exec-kubernetes"] == {"nodeSelector": {"labels": {"a": "b", "c": "d"}}}


def test_kfp_kubernetes_settings_read_back_from_the_kfp_written():
    """KFP → model → KFP → model keeps every pod setting, a secret's keys included; so does
    Metaflow → KFP → model, but for what became a TODO."""
    fixture = FIXTURES / "kfp_wild_platform" / "kfp.py"
    original = read_text(fixture.read_text(encoding="utf-8"), str(fixture), "kfp")
    assert isinstance(original, Read)
    assert "secret_env" in _pods(original.pipeline)["token_length"]
    assert _pods(_written_and_read(original.pipeline)) == _pods(original.pipeline)
    expected = _pods(_metaflow(POD_FLOW))
    for key in ("secrets", "namespace", "service_account", "memory"):  # TODOs, a resource
        del expected["start"][key]
    expected["kubernetes"]["node_selector"] = {"a": "b", "c": "d"}  # Metaflow's "a=b,c=d"
    assert _pods(_written_and_read(_metaflow(POD_FLOW))) == expected


def _written_and_read(pipeline):
    code, _ = frameworks.writer("kfp").write(pipeline)
    back = read_text(code, "back.py", "kfp")
    assert isinstance(back, Read), getattr(back, "diagnostics", back)
    return back.pipeline


def _metaflow(text: str):
    read = read_text(text, "pod_flow.py", "metaflow")
    assert isinstance(read, Read)
    return read.pipeline


def _pods(pipeline) -> dict[str, dict[str, object]]:
    """Each step's kubernetes option as values."""
    return {
        step.name: {k: ast.literal_eval(v) for k, v in option.args}
        for step in pipeline.steps
        for option in step.options
        if option.kind == "kubernetes"
    }


def test_volumes_and_config_map_variables_written_to_kfp_compile_as_read(tmp_path):
    read = read_text(source(VOLUMES), "p.py", "kfp")
    assert isinstance(read, Read)
    code, diagnostics = frameworks.writer("kfp").write(read.pipeline)
    assert not [d for d in diagnostics if d.lossy]
    executor = compiled_platform(code, tmp_path)["exec-make"]
    assert [(v["secretName"], v["mountPath"]) for v in executor["secretAsVolume"]] == [
        ("tls", "/etc/tls")
    ]
    (env,) = executor["configMapAsEnv"]
    assert env["configMapName"] == "settings"
    assert env["keyToEnv"] == [
        {"configMapKey": "mode", "envVar": "MODE"},
        {"configMapKey": "level", "envVar": "LEVEL"},
    ]
    assert [(v["configMapName"], v["mountPath"]) for v in executor["configMapAsVolume"]] == [
        ("settings", "/etc/app")
    ]
    assert executor["emptyDirMounts"] == [
        {"volumeName": "scratch", "mountPath": "/scratch", "medium": "Memory"}
    ]
    assert executor["imagePullPolicy"] == "Always"
