"""verify's KFP runs: kfp.local runs each task with this interpreter, where kfp is installed, so
the child leaves out the ``pip install kfp`` a component's command starts with (a pip start per
task was most of a small pipeline's run) and keeps the component's own packages."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

CHECK = textwrap.dedent(
    """
    import json
    import sys

    from transpile.verify import child

    if sys.argv[1] == "patched":
        child._no_kfp_reinstall()
    from kfp import dsl


    @dsl.component
    def plain(x: int) -> int:
        return x


    @dsl.component(packages_to_install=["left-pad==1.0"])
    def with_packages(x: int) -> int:
        return x


    print(json.dumps([
        " ".join(c.component_spec.implementation.container.command)
        for c in (plain, with_packages)
    ]))
    """
)


def _commands(mode: str, folder: Path) -> list[str]:
    script = folder / "components.py"  # kfp reads a component's source from its file
    script.write_text(CHECK, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), mode], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_components_made_in_the_child_do_not_reinstall_kfp_but_install_their_packages(tmp_path):
    plain, with_packages = _commands("patched", tmp_path)
    assert "pip install" not in plain
    assert "kfp==" not in with_packages
    assert "left-pad==1.0" in with_packages


def test_without_it_kfp_installs_itself_before_each_task(tmp_path):
    """The behaviour the child changes (were it kfp's no longer, the patch would be moot)."""
    plain, with_packages = _commands("plain", tmp_path)
    assert "kfp==" in plain and "pip install" in plain
    assert "kfp==" in with_packages


def test_verify_says_kfp_local_installs_packages_into_this_python(tmp_path, capsys):
    from transpile.cli import _name_installs

    path = tmp_path / "p.py"
    path.write_text(
        textwrap.dedent(
            """
            from kfp import dsl


            @dsl.component(packages_to_install=["tabulate==0.9.0", 'six'])
            def add(a: int) -> int:
                return a


            @dsl.pipeline
            def p(a: int = 1) -> int:
                return add(a=a).output
            """
        )
    )
    _name_installs(str(path), "flyte", "auto", None)
    assert capsys.readouterr().err == (
        f"{path}: kfp.local installs this pipeline's packages_to_install (tabulate==0.9.0, six) "
        f"into this Python environment ({sys.prefix})\n"
    )
    three = Path(__file__).parents[1] / "fixtures" / "flyte_three_entries" / "flyte.py"
    _name_installs(str(three), "kfp", "auto", None)  # a conversion that installs nothing
    assert capsys.readouterr().err == ""
