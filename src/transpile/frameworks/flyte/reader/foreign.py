"""Tasks whose work is not Python this reader can carry: flytekit plugin task objects
(``SQLite3Task(...)``, ``NotebookTask(...)``, ``BigQueryTask(...)``, ``ShellTask(...)``...) and
``@reference_task`` functions (registered elsewhere, no body here).

A call of one becomes a stand-in step: its inputs and outputs are what the task declares
(``inputs=kwtypes(...)``, ``outputs=kwtypes(...)``, a reference task's signature), and its body
raises NotImplementedError under a ``# TODO(transpile): TP202`` naming the task, so the rest of
the workflow converts and the gap is at its spot, in the diagnostics and in the report.
"""

from __future__ import annotations

import re

import libcst as cst

from transpile.model.diagnostics import Diagnostic, error
from transpile.model.ir import Input, Output, Ref, Step, Task, TypeRef
from transpile.reading.cst import code, keyword_args
from transpile.util.text import todo

from . import files
from .computed import BUILTIN_NAMES
from .names import words
from .task import FunctionDef, annotation_text
from .values import Scope, Val

ANY = "typing.Any"
SHIMS = {"file": "FlyteFile", "directory": "FlyteDirectory"}


class ForeignTasks:
    """Mixed into WorkflowReader."""

    def foreign_call(self, node: cst.Call, scope: Scope) -> Val:
        """A call of a plugin task object bound at module level, or made where it is called
        (``SQLite3Task(...)(limit=3)``)."""
        if isinstance(node.func, cst.Call):
            made, kind = node.func, self.r.flyte_object(node.func) or "task"
            found = keyword_args(made).get("name")
            text = found.evaluated_value if isinstance(found, cst.SimpleString) else kind
            name = re.sub(r"\W+", "_", str(text)).strip("_").lower() or "plugin_task"
        else:
            name = code(node.func)
            made, kind = self.r.constants[name], self.r.flyte_objects[name]
        args = keyword_args(made) if isinstance(made, cst.Call) else {}
        declared = _kwtypes(args.get("inputs"))
        outputs = _kwtypes(args.get("outputs"))
        locations: dict[str, tuple[str, str]] = {}  # ShellTask: output → (type, location)
        for loc in _elements(args.get("output_locs")):
            found = keyword_args(loc) if isinstance(loc, cst.Call) else {}
            var, where = found.get("var"), found.get("location")
            if isinstance(var, cst.SimpleString):
                kind_text = annotation_text(found["var_type"]) if "var_type" in found else ANY
                outputs.append((str(var.evaluated_value), kind_text))
                if isinstance(where, cst.SimpleString):
                    locations[str(var.evaluated_value)] = (kind_text, str(where.evaluated_value))
        script = args.get("script")
        if kind == "ShellTask" and isinstance(script, (cst.SimpleString, cst.ConcatenatedString)):
            shell = (str(script.evaluated_value), locations)
            return self._stand_in(node, scope, name, kind, declared, outputs, False, shell)
        typed = ("output_schema_type", "output_structured_dataset_type", "output_type")
        if not outputs and any(args.get(key) is not None for key in typed):
            outputs = [("results", ANY)]
        if not outputs and kind != "ShellTask":  # what it returns is not declared: one value
            outputs = [("o0", ANY)]
        if kind == "NotebookTask":  # it also hands back the executed notebook, as HTML too
            outputs += [("out_nb", ANY), ("out_rendered_nb", ANY)]
        what = f"{kind} '{name}'"
        return self._stand_in(node, scope, name, what, declared, outputs, single=False)

    def reference_call(self, fn: FunctionDef, node: cst.Call, scope: Scope) -> Val:
        """A call of a ``@reference_task``: its signature is all there is of it."""
        declared = [(p.name, p.annotation or ANY) for p in fn.params]
        if fn.fields is None:
            outputs, single = [("o0", fn.single or ANY)], True
        else:
            outputs, single = list(fn.fields), False
        what = f"@{fn.kind} '{fn.name}' (registered elsewhere; this file has only its signature)"
        return self._stand_in(node, scope, fn.name, what, declared, outputs, single)

    def _stand_in(self, node, scope, name, what, declared, outputs, single, shell=None) -> Val:
        if any(a.keyword is None for a in node.args):
            message = f"`{code(node.func)}(...)` takes its inputs by keyword"
            raise error("TP153", message, self.span)
        known = dict(declared)
        prelude, inputs, deps = [], [], set()
        for arg in node.args:
            key = arg.keyword.value  # type: ignore[union-attr]
            value = self.expr(arg.value, scope)
            if value.literal is not None:
                prelude.append(f"{key} = {value.literal}")
            elif value.fields is not None or not value.refs:
                message = f"argument '{key}' of '{name}' is not a single value"
                raise error("TP151", message, self.span)
            else:
                kind = self._carried(known.get(key) or value.type)
                inputs.append(Input(key, kind, value.refs, value.mode))  # type: ignore[arg-type]
                deps |= value.deps
        step_name = self.step_name(scope.prefix + name)
        if shell is not None:
            body, inputs, step_outputs = self._shell(name, prelude, inputs, declared, shell)
            return self._close(step_name, inputs, step_outputs, body, deps, scope, single)
        message = (
            f"{what} is not carried over: step '{step_name}' raises NotImplementedError "
            "until its work is written in Python"
        )
        self.r.diagnostics.append(Diagnostic("TP202", "warning", message, self.span, lossy=True))
        given = [arg.keyword.value for arg in node.args]  # type: ignore[union-attr]
        shown = f", {{{', '.join(f'{k!r}: {k}' for k in given)}}}" if given else ""
        unset = [f"{out} = None" for out, _ in outputs]  # complete code: never past the raise
        body = "\n".join(
            [*prelude, todo("TP202", message), *unset,
             f"raise NotImplementedError({message!r}{shown})"]
        ) + "\n"  # fmt: skip
        step_outputs = tuple(Output(out, self._carried(kind)) for out, kind in outputs)
        return self._close(step_name, inputs, step_outputs, body, deps, scope, single)

    def _shell(self, name, prelude, inputs, declared, shell):
        """A ShellTask's script run by bash with its ``{inputs.x}`` / ``{outputs.y}`` put in, as
        flytekit does; files in and out travel as bytes (``files.py``)."""
        script, locations = shell
        resolve = self.r.type_name
        kinds_in = {}
        for number, inp in enumerate(inputs):
            kind = files.kind_of(dict(declared).get(inp.name), resolve)
            if kind:
                kinds_in[inp.name] = kind
                inputs[number] = Input(inp.name, TypeRef("bytes", "annotation"), inp.refs, inp.mode)
        lines = ["import subprocess", *prelude, f"script = {script!r}"]
        lines += [
            f"script = script.replace('{{inputs.{k}}}', str({k}))"
            for k, _ in declared
            if f"{{inputs.{k}}}" in script
        ]
        outputs, kinds_out, wrapped = [], {}, []
        for out, (kind_text, location) in locations.items():
            where = repr(location)
            for key, _ in declared:
                if f"{{inputs.{key}}}" in location:
                    where = f"{where}.replace('{{inputs.{key}}}', str({key}))"
            lines += [f"{out} = {where}", f"script = script.replace('{{outputs.{out}}}', {out})"]
            kind = files.kind_of(kind_text, resolve)
            if kind:
                kinds_out[out] = kind
                wrapped.append(f"{out} = {SHIMS[kind]}({out})")
            outputs.append(Output(out, self._carried(kind_text)))
        lines += ["subprocess.run(['bash', '-c', script], check=True)", *wrapped]
        if kinds_in or kinds_out:
            self.r.need_file_shims(set(kinds_in.values()) | set(kinds_out.values()))
        text = "\n".join(lines) + "\n"
        body, step_outputs = files.carried(text, kinds_in, tuple(outputs), kinds_out)
        message = (
            f"ShellTask '{name}' runs its script with bash through subprocess, in the step's own "
            "environment: the programs it calls must be there"
        )
        self.r.diagnostics.append(Diagnostic("TP201", "warning", message, self.span, lossy=True))
        return body, inputs, step_outputs

    def _close(self, step_name, inputs, step_outputs, body, deps, scope, single) -> Val:
        step = Step(step_name, self.span, tuple(inputs), step_outputs, body, (), None)
        self.steps.append(step)
        item = self.add_item(Task(step_name), deps, scope)
        dep = frozenset({item.id})
        vals = [
            Val((Ref("output", step_name, o.name),), deps=dep, type=o.type.expr)
            for o in step_outputs
        ]
        if not vals:
            return Val(deps=dep)
        if single or len(vals) == 1:  # Flyte hands a lone output back as the value itself
            return vals[0]
        return Val(deps=dep, fields=tuple((o.name, v) for o, v in zip(step_outputs, vals)))

    def _carried(self, annotation: str | None) -> TypeRef:
        """A declared type when the output module can name it, else typing.Any."""
        if not annotation or annotation == ANY:
            return TypeRef(ANY, "fallback")
        names = words(annotation) - {"typing"}
        known = BUILTIN_NAMES | self.r.module_names() | {"Any", "Optional", "List", "Dict"}
        if names <= known:
            return TypeRef(annotation, "annotation")
        return TypeRef(ANY, "fallback")


def _kwtypes(node: cst.BaseExpression | None) -> list[tuple[str, str]]:
    """``kwtypes(a=int, b=str)`` → [("a", "int"), ("b", "str")]."""
    if not isinstance(node, cst.Call):
        return []
    return [(a.keyword.value, annotation_text(a.value)) for a in node.args if a.keyword]


def _elements(node: cst.BaseExpression | None) -> list[cst.BaseExpression]:
    if isinstance(node, (cst.List, cst.Tuple)):
        return [e.value for e in node.elements]
    return []
