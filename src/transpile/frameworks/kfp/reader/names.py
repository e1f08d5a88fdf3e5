"""Which local names refer to what in ``kfp`` (``from kfp import dsl``, ``import kfp``, ...)."""

from __future__ import annotations

import libcst as cst

from transpile.reading.cst import dotted

KFP_MODULES = {"kfp", "kfp.dsl", "kfp.compiler", "kfp.local", "kfp.components"}


class KfpNames:
    """Resolves expressions like ``dsl.component`` or ``kfp.dsl.If`` to a short KFP name."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {}  # local alias → kfp module ("dsl" → "kfp.dsl")
        self.names: dict[str, str] = {}  # local name → KFP name ("component", "Output")
        self.kubernetes: set[str] = set()  # local names of kfp-kubernetes and its functions

    def add_import(self, node: cst.Import | cst.ImportFrom) -> bool:
        """Record a kfp import; True if it was one (it stays out of the neutral module)."""
        if isinstance(node, cst.Import):
            kfp = [a for a in node.names if (dotted(a.name) or "").split(".")[0] == "kfp"]
            for alias in kfp:
                full = _v2(dotted(alias.name)) or ""
                asname = alias.asname.name if alias.asname else None
                local = dotted(asname) if isinstance(asname, cst.Name) else full.split(".")[0]
                self.modules[str(local)] = full if asname else "kfp"
                if full == "kfp.kubernetes" and asname:
                    self.kubernetes.add(str(local))
            return bool(kfp) and len(kfp) == len(node.names)
        module = _v2(dotted(node.module)) if node.module else None
        if not module or module.split(".")[0] != "kfp":
            return False
        if isinstance(node.names, cst.ImportStar):
            return True
        for alias in node.names:
            name = alias.name.value  # type: ignore[union-attr]
            local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
            full = f"{module}.{name}"
            if full.startswith("kfp.kubernetes"):
                self.kubernetes.add(local)
            if full in KFP_MODULES:
                self.modules[local] = full
            else:
                self.names[local] = name
        return True

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """``component`` for ``dsl.component``; the plain name for ``NamedTuple``; else None."""
        text = dotted(node)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        if not rest:
            return self.names.get(head, head if head in ("NamedTuple", "namedtuple") else None)
        for alias, module in sorted(self.modules.items(), key=lambda kv: -len(kv[0])):
            if text.startswith(alias + "."):
                return text[len(alias) + 1 :].split(".")[-1]
        if head in ("typing", "collections"):
            return rest
        return None

    def is_kubernetes(self, node: cst.BaseExpression) -> bool:
        """``kubernetes.use_secret_as_env`` / ``use_secret_as_env`` / ``kfp.kubernetes.x``."""
        text = dotted(node) or ""
        head = text.split(".")[0]
        return head in self.kubernetes or text.startswith("kfp.kubernetes.")

    def is_kfp(self, node: cst.BaseExpression, *names: str) -> bool:
        return self.resolve(node) in names


def _v2(module: str | None) -> str | None:
    """``kfp.v2.dsl`` (the KFP 1.8 spelling of the v2 API, still served by KFP 2) is ``kfp.dsl``."""
    if module is not None and (module == "kfp.v2" or module.startswith("kfp.v2.")):
        return "kfp" + module[len("kfp.v2") :]
    return module
