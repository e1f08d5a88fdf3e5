"""Type inference in whole Metaflow flows (issue 19, fourth round): each rule read through the
reader, with a case it must type and one it must leave unknown. A wrong type fails the target's
type check at run time or changes a value; unknown (``typing.Any``, with its TP301) is safe."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from transpile.api import Read, read_file
from transpile.reading.inference import TypeEnv, infer, returned_type

HEAD = "from metaflow import FlowSpec, S3, step\n\n\nclass F(FlowSpec):\n"


def flow_types(tmp_path: Path, steps: str, **modules: str) -> dict[str, str]:
    """``step.artifact`` → its type, for a flow of ``steps`` (a class body) and modules beside it."""
    for name, text in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    source = HEAD + textwrap.indent(textwrap.dedent(steps), "    ")
    (tmp_path / "flow.py").write_text(source, encoding="utf-8")
    read = read_file(str(tmp_path / "flow.py"), "metaflow")
    assert isinstance(read, Read), read
    return {f"{s.name}.{o.name}": o.type.expr for s in read.pipeline.steps for o in s.outputs}


def helper(source: str, env: TypeEnv) -> str | None:
    """What the one function of ``source`` returns, read in ``env``."""
    function = cst.parse_module(textwrap.dedent(source)).body[0]
    assert isinstance(function, cst.FunctionDef)
    return returned_type(function, env)


def one_step(tmp_path: Path, body: str, **modules: str) -> dict[str, str]:
    """The types the ``start`` step of ``body`` writes (an ``end`` step after it)."""
    steps = (
        "@step\ndef start(self):\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
        + "    self.next(self.end)\n\n@step\ndef end(self):\n    pass\n"
    )
    found = flow_types(tmp_path, steps, **modules)
    return {k.removeprefix("start."): v for k, v in found.items() if k.startswith("start.")}


# a list made n long of one plain value, then filled at its indexes (in a helper) -------------
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            (
                "def f():\n    cols = [None] * len(words)\n"
                "    for i, w in enumerate(words):\n        cols[i] = w\n    return cols\n"
            ),
            "list[str | None]",
        ),
        (
            "def f():\n    out = 3 * [0]\n    out[1] = 5\n    return 2, out\n",
            "tuple[int, list[int]]",
        ),
        # a number of another kind, a seed that is a list (shared n times), an item changed
        ("def f():\n    out = [0] * 3\n    out[1] = 2.5\n    return out\n", None),
        ("def f():\n    out = [[]] * 3\n    out[1] = [1]\n    return out\n", None),
        ("def f():\n    out = [0] * 3\n    out[1] += 2\n    return out\n", None),
        ('def f():\n    out = [0] * 3\n    out[1:2] = ["a"]\n    return out\n', None),
    ],
)
def test_a_list_made_long_and_filled_by_index_holds_its_seed_and_what_goes_in(source, expected):
    assert helper(source, TypeEnv({"words": "list[str]"})) == expected


# ``with value as name`` ---------------------------------------------------------------------
def test_a_name_bound_by_with_is_what_enter_gives_for_the_classes_known(tmp_path):
    types = one_step(
        tmp_path,
        """\
        with S3() as s3:
            self.urls = s3.put_files([("k", "p")])
            key, url = self.urls[0]
            self.prefix = url[: -len(key)]
        with open("f") as s3:
            self.other = s3.put_files([("k", "p")])  # s3 is a file here: unknown
        """,
    )
    assert types["urls"] == "list[tuple[str, str]]"
    assert types["prefix"] == "str"
    assert types["other"] == "typing.Any"


def test_a_name_bound_by_with_hides_the_module_name_it_shares(tmp_path):
    body = 'with lock("f") as rows:\n    self.rows = rows\n'
    steps = (
        "@step\ndef start(self):\n"
        + textwrap.indent(body, "    ")
        + "    self.next(self.end)\n\n@step\ndef end(self):\n    pass\n"
    )
    source = 'rows = ["a"]\n\n\n' + HEAD + textwrap.indent(steps, "    ")
    (tmp_path / "flow.py").write_text(source, encoding="utf-8")
    read = read_file(str(tmp_path / "flow.py"), "metaflow")
    assert isinstance(read, Read), read
    assert read.pipeline.steps[0].outputs[0].type.expr == "typing.Any"


def test_a_helper_binds_with_names_as_steps_do():
    env = TypeEnv(imports={"S3": "metaflow.S3"})
    source = "def f():\n    with S3() as s3:\n        return s3.put('k', 'v')\n"
    assert helper(source, env) == "str"
    other = "def f():\n    with open('x') as s3:\n        return s3.put('k', 'v')\n"
    assert helper(other, env) is None


# map() over a function the step defines ----------------------------------------------------
def test_map_of_a_function_the_step_defines_gives_what_it_returns(tmp_path):
    types = one_step(
        tmp_path,
        """\
        prefix = "t"

        def field(pair):
            return pair[0], f"{prefix}:{pair[1]}"

        self.schema = dict(map(field, [("a", 1), ("b", 2)]))
        """,
    )
    assert types["schema"] == "dict[str, str]"


@pytest.mark.parametrize(
    "body",
    [
        # bound again before the call: not that function any more
        "def field(x):\n    return str(x)\n\nfield = len\nself.out = list(map(field, [1]))\n",
        # a decorator may make it anything
        "@cache\ndef field(x):\n    return str(x)\n\nself.out = list(map(field, [1]))\n",
        # two parameters: map passes one
        "def field(x, y):\n    return str(x)\n\nself.out = list(map(field, [1]))\n",
        # it returns what it is given: unknown items
        "def field(x):\n    return x\n\nself.out = list(map(field, load()))\n",
    ],
)
def test_map_of_a_function_the_step_cannot_follow_is_unknown(tmp_path, body):
    assert one_step(tmp_path, body)["out"] == "typing.Any"


# nested unpacking, and train_test_split's halves ---------------------------------------------
def test_nested_unpacking_types_each_name_from_its_part(tmp_path):
    types = one_step(
        tmp_path,
        """\
        (self.a, self.b), (self.c, d) = (1, "x"), ([1.5], 2)
        self.d = d
        first, *self.rest = [1, 2, 3]
        """,
    )
    assert (types["a"], types["b"], types["c"], types["d"]) == ("int", "str", "list[float]", "int")
    assert types["rest"] == "typing.Any"  # starred: a list, not an element


def test_an_unpacked_name_of_no_known_part_loses_its_earlier_type(tmp_path):
    types = one_step(tmp_path, 'x = "s"\nx, y = load()\nself.x = x\n')
    assert types["x"] == "typing.Any"


def test_train_test_split_halves_each_keep_their_kind(tmp_path):
    types = one_step(
        tmp_path,
        """\
        import numpy as np
        from sklearn.model_selection import train_test_split

        X = np.zeros((4, 2))
        self.xa, self.xb, self.ya, self.yb = train_test_split(X, load(), test_size=0.5)
        """,
    )
    assert (types["xa"], types["xb"]) == ("numpy.ndarray", "numpy.ndarray")
    assert (types["ya"], types["yb"]) == ("typing.Any", "typing.Any")


# a join's inputs: what ``inp.x`` holds when the branches set it to values of different types
def test_a_join_input_holds_the_union_of_its_branches_types(tmp_path):
    types = flow_types(
        tmp_path,
        """\
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            from sklearn.svm import SVC
            self.clf = SVC()
            self.score = 0.5
            self.next(self.join)

        @step
        def b(self):
            from sklearn.tree import DecisionTreeClassifier
            self.clf = DecisionTreeClassifier()
            self.score = "n/a"
            self.next(self.join)

        @step
        def join(self, inputs):
            def best(inp):
                return inp.clf, inp.score

            self.results = sorted(map(best, inputs), key=lambda r: str(r[1]))
            self.model = self.results[0][0]
            self.first = [inp.clf for inp in inputs][0]
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
    )
    either = "sklearn.svm.SVC | sklearn.tree.DecisionTreeClassifier"
    assert types["join.model"] == either  # was SVC: the first branch's alone
    assert types["join.first"] == either
    assert types["join.results"] == f"list[tuple[{either}, float | str]]"


def test_a_join_input_of_no_known_type_in_one_branch_is_unknown(tmp_path):
    types = flow_types(
        tmp_path,
        """\
        @step
        def start(self):
            self.next(self.a, self.b)

        @step
        def a(self):
            self.v = 1
            self.next(self.join)

        @step
        def b(self):
            self.v = load()
            self.next(self.join)

        @step
        def join(self, inputs):
            self.first = [inp.v for inp in inputs][0]
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
    )
    assert types["join.first"] == "typing.Any"


# a write at the body's top level overwrites every write before it --------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("self.x = load()\nself.x = [1, 2]\n", "list[int]"),
        ('if flag():\n    self.x = "a"\nself.x = 1\n', "int"),
        ("self.x = load()\nself.x = len(self.x)\n", "int"),
        # the last write in a branch, a loop or a with: the earlier ones may stand
        ("self.x = load()\nif flag():\n    self.x = 1\n", "typing.Any"),
        ("self.x = load()\nfor i in range(2):\n    self.x = i\n", "typing.Any"),
        ("self.x = load()\nwith quiet():\n    self.x = 1\n", "typing.Any"),
    ],
)
def test_a_top_level_write_settles_the_artifact(tmp_path, body, expected):
    assert one_step(tmp_path, body)["x"] == expected


@pytest.mark.parametrize(
    "body",
    [
        # a function the step defines sets it, maybe after the last write
        'def later():\n    self.x = "s"\n\nself.x = 1\nlater()\n',
    ],
)
def test_a_write_that_may_come_later_keeps_the_artifact_unknown(tmp_path, body):
    assert one_step(tmp_path, body)["x"] == "typing.Any"


def test_an_early_return_keeps_every_write(tmp_path):
    types = flow_types(
        tmp_path,
        """\
        @step
        def start(self):
            self.x = "a"
            if flag():
                return  # Metaflow fails the step there: no next
            self.x = 1
            self.next(self.end)

        @step
        def end(self):
            pass
        """,
    )
    assert types["start.x"] == "typing.Any"


# files: what ``open`` and ``NamedTemporaryFile`` give by their mode, and what they read -----
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("open(p).read()", "str"),
        ('open(p, "rb").read()', "bytes"),
        ('open(p, mode="rb").readlines()', "list[bytes]"),
        ('open(p, "r+b").readline()', "bytes"),
        ("tempfile.NamedTemporaryFile().read()", "bytes"),  # w+b unless told
        ("tempfile.NamedTemporaryFile().name", "str"),
        # a mode of no literal, unbuffered (raw), a text temporary file, a write-only file
        ("open(p, mode).read()", None),
        ('open(p, "rb", 0).read()', None),
        ('open(p, "rb", buffering=0).read()', None),
        ('tempfile.NamedTemporaryFile(mode="w").read()', None),
        ('open(p, "wb").read()', None),
    ],
)
def test_a_file_reads_what_its_mode_says(expr, expected):
    env = TypeEnv({"p": "str", "mode": "str"}, imports={"tempfile": "tempfile"})
    assert infer(cst.parse_expression(expr), env) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('xs.count("a")', "int"),
        ("(1, 2).index(2)", "int"),
        ("xs.copy()", "list[str]"),
        ("d.copy()", "dict[str, int]"),
        ('unknown.count("a")', None),
        ("xs.pop()", None),
    ],
)
def test_builtin_container_methods_of_one_type(expr, expected):
    env = TypeEnv({"xs": "list[str]", "d": "dict[str, int]"})
    assert infer(cst.parse_expression(expr), env) == expected


def test_with_names_in_a_helper_follow_the_file_they_open():
    source = "def f(p):\n    with open(p) as handle:\n        return handle.read()\n"
    assert helper(source, TypeEnv()) == "str"


# plain classes of a module beside the flow -------------------------------------------------
WRAPPER = """\
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import roc_auc_score


class Wrapper:
    def __init__(self, size):
        self.size = size
        self.cv = CountVectorizer(min_df=2)
        self.seen = []

    def fit(self, docs):
        self.cv.fit_transform(docs)
        self.seen.append(len(docs))

    def score(self, labels, probs):
        return roc_auc_score(labels, probs)

    @property
    def parts(self):
        return {"vectorizer": self.cv, "size": self.size}

    @classmethod
    def restore(cls, parts):
        made = cls(parts["size"])
        made.cv = parts["vectorizer"]
        return made
"""


def test_an_instance_of_a_plain_class_beside_the_flow_holds_what_its_init_sets(tmp_path):
    types = one_step(
        tmp_path,
        """\
        from wrapper import Wrapper

        model = Wrapper(size=3)
        model.fit(["a b", "b c"])
        self.parts = model.parts
        self.cv = model.cv
        self.seen = model.seen
        self.score = model.score([0, 1], [0.2, 0.9])
        other = Wrapper.restore(self.parts)
        self.other = other
        self.other_parts = other.parts
        """,
        wrapper=WRAPPER,
    )
    cv = "sklearn.feature_extraction.text.CountVectorizer"
    assert types["parts"] == f"dict[str, {cv} | int]"
    assert types["cv"] == cv
    assert types["seen"] == "typing.Any"  # a list its methods change in place
    assert types["score"] == "float | numpy.float64"  # a method's return, whatever it holds
    assert types["other"] == "wrapper.Wrapper"  # the class method makes one with cls(...)
    assert types["other_parts"] == "typing.Any"  # restore set its cv: not the step's to know


@pytest.mark.parametrize(
    "use",
    [
        "model.cv = load()",  # set from outside
        "keep(model)",  # passed on: anything may set it there
        "alias = model",
        "del model.cv",
    ],
)
def test_an_instance_used_other_than_by_its_attributes_holds_nothing_known(tmp_path, use):
    body = f"from wrapper import Wrapper\n\nmodel = Wrapper(3)\n{use}\nself.parts = model.parts\n"
    assert one_step(tmp_path, body, wrapper=WRAPPER)["parts"] == "typing.Any"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("class Wrapper(Base):", "a base class may set its attributes"),
        ("@dataclass\nclass Wrapper:", "a decorator may make it anything"),
        ("class Wrapper:\n    def __setattr__(self, k, v):\n        pass\n", "a hook"),
        ("class Wrapper:\n    def tag(self):\n        register(self)\n", "self leaves"),
        ("class Wrapper:\n    def tag(self):\n        setattr(self, 'cv', 1)\n", "reflection"),
        ("class Wrapper:\n    def tag(self, v):\n        self.cv = v\n", "set to anything"),
    ],
)
def test_a_class_that_is_not_plain_gives_its_instances_no_known_parts(tmp_path, change, why):
    text = WRAPPER.replace("class Wrapper:", change, 1)
    if "Base" in change:
        text = "class Base:\n    pass\n\n\n" + text
    body = "from wrapper import Wrapper\n\nmodel = Wrapper(3)\nself.parts = model.parts\n"
    assert one_step(tmp_path, body, wrapper=text)["parts"] == "typing.Any", why


def test_safe_objects_are_bound_once_and_used_only_by_their_attributes():
    from transpile.reading.classes import safe_objects

    body = cst.parse_module(
        textwrap.dedent(
            """\
            from model import Wrapper
            model = Wrapper(1)
            twice = Wrapper(1)
            twice = Wrapper(2)
            passed = Wrapper(1)
            print(model.cv, model.fit(x=passed.cv), f(passed))
            """
        )
    )
    assert safe_objects(body) == {"model"}


# map() of any function: f of each element ---------------------------------------------------
def test_map_and_an_executors_map_of_a_module_helper_give_what_it_returns(tmp_path):
    steps = """\
    @step
    def start(self):
        from concurrent import futures

        with futures.ThreadPoolExecutor(max_workers=2) as pool:
            self.echoed = list(pool.map(echo, ["a", "b"], timeout=5))
        self.sizes = list(map(echo, [1, 2]))
        self.unknown = list(map(echo, load()))
        self.next(self.end)

    @step
    def end(self):
        pass
    """
    (tmp_path / "flow.py").write_text(
        "from metaflow import FlowSpec, step\n\n\ndef echo(x):\n    return x\n\n\n"
        "class F(FlowSpec):\n" + textwrap.indent(textwrap.dedent(steps), "    "),
        encoding="utf-8",
    )
    read = read_file(str(tmp_path / "flow.py"), "metaflow")
    assert isinstance(read, Read), read
    types = {o.name: o.type.expr for o in read.pipeline.steps[0].outputs}
    assert types["echoed"] == "list[str]"
    assert types["sizes"] == "list[int]"
    assert types["unknown"] == "typing.Any"


def test_a_class_of_a_module_beside_the_flow_is_named_through_that_module(tmp_path):
    helpers = """\
    class Wrapper:
        @staticmethod
        def build():
            return Wrapper()


    def make():
        return [Wrapper()]
    """
    body = (
        "from helpers import Wrapper, make\n\n"
        "self.made = make()\nself.built = Wrapper.build()\nself.plain = Wrapper()\n"
    )
    types = one_step(tmp_path, body, helpers=helpers)
    # ``Wrapper`` alone would name nothing in the flow's file, or a class of its own
    assert types["made"] == "list[helpers.Wrapper]"
    assert types["built"] == types["plain"] == "helpers.Wrapper"


@pytest.mark.parametrize(
    "change",
    [
        "class Wrapper:\n    if True:\n        def tag(self):\n            register(self)\n",
        "class Wrapper:\n    tag = lambda self: register(self)\n",
        "class Wrapper:\n    tag = make_method()\n",
    ],
)
def test_a_method_made_other_than_by_def_makes_a_class_not_plain(tmp_path, change):
    text = WRAPPER.replace("class Wrapper:", change, 1)
    body = "from wrapper import Wrapper\n\nmodel = Wrapper(3)\nself.parts = model.parts\n"
    assert one_step(tmp_path, body, wrapper=text)["parts"] == "typing.Any"


def test_class_level_data_keeps_a_class_plain(tmp_path):
    text = WRAPPER.replace(
        "class Wrapper:",
        'class Wrapper:\n    """Doc."""\n\n    NAME = "w"\n    limit: int = 3\n',
        1,
    )
    body = "from wrapper import Wrapper\n\nmodel = Wrapper(3)\nself.parts = model.parts\n"
    cv = "sklearn.feature_extraction.text.CountVectorizer"
    assert one_step(tmp_path, body, wrapper=text)["parts"] == f"dict[str, {cv} | int]"
