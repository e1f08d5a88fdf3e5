"""Our Metaflow writer's exit hook for a failure handler read back as that handler.

The writer calls a handler read from another framework (Flyte's ``on_failure``, a KFP exit
task) from a small hook: ``def X_on_error(run)`` whose docstring names the handler X, reading the
run's parameters and calling ``X(a=params.a, err=None)``. Read back, the pipeline's option is
again ``exit_hook(on_error=[X], inputs=(a, err))`` and the hook function goes; a keyword given
by a parameter the writer renamed (``name=params.name_``) is kept in ``input_params``.
"""

from __future__ import annotations

import ast
import dataclasses
import re

from transpile.model.ir import Option, Pipeline

DOC = re.compile(r"Added by transpile: the failure handler (\w+), called by Metaflow")


def our_failure_hooks(pipeline: Pipeline) -> Pipeline:
    options, drop = [], set()
    for option in pipeline.options:
        found = None
        if option.kind == "exit_hook" and option.arg("inputs") is None:
            hook = (option.arg("on_error") or "").strip("[]")
            params = {p.name for p in pipeline.parameters}
            found = next(
                (
                    (text, read)
                    for text in pipeline.module.definitions
                    if (read := _hook(text, hook, params)) is not None
                ),
                None,
            )
        if found is None:
            options.append(option)
            continue
        text, (handler, names, given) = found
        drop.add(text)
        args = (("on_error", f"[{handler}]"), ("inputs", repr(names)))
        if given != names:  # a keyword given by a parameter the writer renamed (name_)
            args += (("input_params", repr(given)),)
        options.append(Option("exit_hook", args, option.span))
    if not drop:
        return pipeline
    definitions = tuple(d for d in pipeline.module.definitions if d not in drop)
    module = dataclasses.replace(pipeline.module, definitions=definitions)
    return dataclasses.replace(pipeline, options=tuple(options), module=module)


def _hook(
    text: str, name: str, params: set[str]
) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """``(handler, inputs, parameters)`` when ``text`` is our hook function ``name``: inputs are
    the handler's keywords (None ones, Flyte's ``err``, left out), each given a parameter of
    the flow (``params.<parameter>``; ``name=params.name_`` where the writer renamed one)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    fn = tree.body[0]
    match = DOC.match(ast.get_docstring(fn) or "")
    if fn.name != name or match is None or not isinstance(fn.body[-1], ast.Expr):
        return None
    call = fn.body[-1].value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name)):
        return None
    if call.func.id != match.group(1) or call.args:
        return None
    names, given = [], []
    for keyword in call.keywords:
        value = keyword.value
        if isinstance(value, ast.Constant) and value.value is None:
            names.append(keyword.arg)
            continue
        if not (isinstance(value, ast.Attribute) and value.attr in params and keyword.arg):
            return None  # not a parameter of the flow: the hook stays as it is
        names.append(keyword.arg)
        given.append((keyword.arg, value.attr))
    inputs = tuple(n for n in names if n)
    return call.func.id, inputs, tuple(dict(given).get(n, n) for n in inputs)
