"""Type inference rules: each has a case it must type and one it must leave unknown (a wrong type
fails the target's type check at run time, or changes a value: unknown is the safe answer)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from transpile.reading.inference import TypeEnv, annotation, infer, plain, returned_type

ENV = TypeEnv(
    {
        "floats": "list[float]",
        "ints": "list[int]",
        "words": "list[str]",
        "n": "int",
        "self.values": "list[float]",
        "self.n": "int",
        "config": "dict[str, int]",
        "blob": "dict",
    }
)


def typed(expr: str, env: TypeEnv = ENV) -> str | None:
    """The annotation inferred for ``expr`` (records and markers, tested on their own, left
    out: a marker is no annotation)."""
    return annotation(infer(cst.parse_expression(expr), env))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # true division of numbers, a sum() of floats among them
        ("sum(self.values) / self.n", "float"),
        ("len(words) / 2", "float"),
        ("sum(words) / 2", None),
        ("sum(self.values) * 2", None),  # 0 (an int) when the list is empty
        # sorted/list/set over a generator expression
        ("sorted(round(x, 4) for x in floats)", "list[float]"),
        ("set(w.upper() for w in words)", "set[str]"),
        ("sorted(unknown(x) for x in floats)", None),
        # iterating a dict goes over its keys
        ("sorted(config)", "list[str]"),
        ("[k.upper() for k in config]", "list[str]"),
        ("sorted(blob)", None),  # keys of no known type
        # module functions whose type never depends on their arguments
        ("math.floor(2.5)", "int"),
        ("math.log10(n)", "float"),
        ("math.pi * 2", "float"),
        ("statistics.stdev(ints)", "float"),
        ("random.randint(1, 6)", "int"),
        ("random.gauss(0, 1)", "float"),
        ("math.frexp(2.0)", None),
        # ... and those whose type is their data's
        ("statistics.mean(ints)", "int"),
        ("statistics.mean(floats)", "float"),
        ("statistics.median(floats)", "float"),
        ("statistics.median(ints)", None),  # 1.5 for [1, 2]
        ("random.choice(words)", "str"),
        ("random.sample(words, 2)", "list[str]"),
        ("statistics.mean(words)", None),
        ('os.environ.get("MODE", "fast")', "str"),
        ('os.getenv("MODE")', "str | None"),  # None when unset
        ('os.getenv("MODE", default="x")', None),  # keywords: not worked out
        # names bound by unpacking in a comprehension: a tuple's parts, a list's items, zip()
        ("[x * y for x, y in zip(floats, ints)]", "list[float]"),
        ("[a + b for a, b in [[1.5, 2.5]]]", "list[float]"),
        ("[a for a, *rest in [[1.5, 2.5]]]", None),
        ("[w for i, w in enumerate(words)]", "list[str]"),
        ("[x for x, y in zip(floats, unknown)]", None),
        # containers of mixed values: the union of their types
        ('{"mode": "bulk", "chunks": len(words)}', "dict[str, str | int]"),
        ('{"key": "value", "nested": {"a": 1}}', "dict[str, str | dict[str, int]]"),
        ('["a", 1]', "list[str | int]"),
        ("[1, 2.5]", None),  # Flyte refuses an int where a float is declared
        ("[True, 1]", None),  # a bool is an int to a union's matching
        ('["a", unknown]', None),
        ('{"a": {"b": 1, "c": "d"}, "e": "f"}', None),  # no union inside a union's part
        ('{"a": {"b": 1, "c": "d"}}', "dict[str, dict[str, int | str]]"),  # one part: no union
        # a dict's get: a value, or None or the default where the key is not there
        ('config.get("a")', "int | None"),
        ('config.get("a", 0)', "int"),
        ('config.get("a", "none")', None),
        ("config.get(*keys)", None),
        ('blob.get("a")', None),
        # iterating a tuple of several types: each element is one of them
        ('[x for x in ("ann", 5)]', "list[str | int]"),
        ("[x for x in (1, 2.5)]", None),  # an int or a float: no union of numbers
        ("[x for x in (1, unknown)]", None),
        # dict() of pairs, of a dict, of keywords
        ('dict(zip(words, ("ann", 5)))', "dict[str, str | int]"),
        ("dict(config)", "dict[str, int]"),
        ("dict(collections.Counter(words))", "dict[str, int]"),
        ('dict(mode="bulk", size=n)', "dict[str, str | int]"),
        ("dict(words)", None),  # items of no two parts
        ("dict(zip(words, unknown))", None),
        ('dict(config, extra="x")', None),  # a dict and keywords: not worked out
        ("dict(**config)", None),
        # tuple() of an iterable: its elements, as many as there are
        ("tuple(words)", "tuple[str, ...]"),
        ("tuple(unknown)", None),
        # map() with a builtin or a one-parameter lambda over one iterable
        ("list(map(str, ints))", "list[str]"),
        ("list(map(lambda x: x * 2.0, ints))", "list[float]"),
        ("list(map(lambda x: x * 2.0, unknown))", None),
        ("list(map(lambda x, y: x + y, ints, floats))", None),
        ("list(map(parse, words))", None),  # a function of no known result
        # a bytearray is one whatever goes in; its items are bytes, ints
        ("bytearray()", "bytearray"),
        ("[b + 1 for b in bytearray()]", "list[int]"),
        ("bytearray().pop()", None),
    ],
)
def test_expression_rules(expr, expected):
    assert typed(expr) == expected


IMPORTED = TypeEnv(
    {"words": "list[str]", "config": "dict[str, int]", "text": "str", "when": ""},
    imports={
        "datetime": "datetime.datetime",
        "dt": "datetime",
        "date": "datetime.date",
        "timedelta": "datetime.timedelta",
        "Counter": "collections.Counter",
        "defaultdict": "collections.defaultdict",
        "hashlib": "hashlib",
        "sha256": "hashlib.sha256",
        "uuid": "uuid",
        "os": "os",
        "osp": "os.path",
        "re": "re",
        "now": "time.time",
    },
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # datetime: the module or its classes, as the module imports them
        ('datetime.strptime(text, "%Y")', "datetime.datetime"),
        ("dt.datetime.now()", "datetime.datetime"),
        ("datetime.utcnow()", "datetime.datetime"),
        ("datetime.fromisoformat(text)", "datetime.datetime"),
        ("dt.datetime.fromtimestamp(0)", "datetime.datetime"),
        ("date.today()", "datetime.date"),
        ("dt.date.fromisoformat(text)", "datetime.date"),
        ("timedelta(days=1)", "datetime.timedelta"),
        ("dt.datetime.now", None),  # the function, not a call
        ("datetime.datetime.now()", None),  # `datetime` is the class here: no such attribute
        ("when.now()", None),  # a local named like nothing imported
        # arithmetic on them
        ("datetime.now() - datetime.now()", "datetime.timedelta"),
        ("datetime.now() + timedelta(hours=1)", "datetime.datetime"),
        ("date.today() - timedelta(days=1)", "datetime.date"),
        ("timedelta(days=1) * 2", "datetime.timedelta"),
        ("timedelta(days=1) / timedelta(hours=1)", "float"),
        ("datetime.now() - date.today()", None),  # a TypeError in Python
        ("datetime.now() + datetime.now()", None),
        # their methods and attributes
        ("datetime.now().isoformat()", "str"),
        ('date.today().strftime("%d")', "str"),
        ("datetime.now().date()", "datetime.date"),
        ("datetime.now().timestamp()", "float"),
        ("(datetime.now() - datetime.now()).total_seconds()", "float"),
        ("timedelta(days=2).days", "int"),
        ("datetime.now().year", "int"),
        ("datetime.now().tzinfo", None),
        ("datetime.now().time()", None),
        # time, uuid, hashlib
        ("now()", "float"),
        ("uuid.uuid4().hex", "str"),
        ("uuid.uuid4().fields", None),
        ("hashlib.sha256(text.encode()).hexdigest()", "str"),
        ("sha256(b'x').hexdigest()[:8]", "str"),
        ("hashlib.md5(b'x').digest()", "bytes"),
        ("hashlib.sha256(b'x')", None),  # the hash object: no type a writer can carry
        # os
        ("osp.splitext(text)", "tuple[str, str]"),
        ('os.path.exists("a")', "bool"),
        ('os.environ["HOME"]', "str"),
        ('os.environ.get("HOME")', "str | None"),
        ("os.cpu_count()", "int | None"),
        ("os.stat(text)", None),
        # collections: Counter of an iterable's elements; defaultdict's elements are not seen
        ("Counter(words)", "collections.Counter[str]"),
        ("Counter(words).most_common(2)", "list[tuple[str, int]]"),
        ('Counter(words)["a"]', "int"),
        ("sorted(Counter(words))", "list[str]"),
        ("Counter(config)", None),  # a mapping: its values are the counts
        ("Counter(a=1)", None),
        ("defaultdict(list)", None),
        # re: a literal pattern's groups say what findall gives
        (r're.findall(r"\d+", text)', "list[str]"),
        (r're.findall(r"(\w+)=(\d+)", text)', "list[tuple[str, str]]"),
        ("re.findall(text, text)", None),
        (r're.sub(r"\s+", " ", text)', "str"),
        ('re.sub(text, " ", when)', None),  # text of no known type (bytes give bytes)
        (r're.split(r",\s*", text)', "list[str]"),
        (r're.split(r"(,)?", text)', None),  # a group's text may be None
        # str and dict methods
        ('text.rsplit(" ", 1)', "list[str]"),
        ('text.partition("=")', "tuple[str, str, str]"),
        ("text.isalnum()", "bool"),
        ("text.encode()", "bytes"),
        ("text.encode().decode()", "str"),
        ("text.maketrans('a', 'b')", None),
        ("[v for v in config.values()]", "list[int]"),
        ("[k for k, v in config.items()]", "list[str]"),
        ("config.items()", None),  # a view: no type a writer can carry
    ],
)
def test_stdlib_rules(expr, expected):
    assert typed(expr, IMPORTED) == expected


def test_an_import_inside_a_helper_says_what_its_names_are():
    source = """\
    def stamp(text):
        from datetime import datetime as dtm
        return dtm.strptime(text, "%Y").isoformat()
    """
    assert helper(source) == "str"
    shadowed = """\
    def stamp(text):
        import datetime
        datetime = text
        return datetime.now()
    """
    assert helper(shadowed) is None


def test_a_local_named_like_a_module_is_not_that_module():
    shadowed = TypeEnv({"math": "", "random": ""})
    assert typed("math.floor(2.5)", shadowed) is None
    assert typed("math.pi", shadowed) is None
    assert typed("random.randint(1, 6)", shadowed) is None


def helper(source: str, env: TypeEnv = ENV) -> str | None:
    function = cst.parse_module(textwrap.dedent(source)).body[0]
    assert isinstance(function, cst.FunctionDef)
    return returned_type(function, env)


def test_an_unannotated_helper_returns_what_its_locals_hold():
    source = """\
    def make_data(count):
        xs = [i * 0.5 for i in range(count)]
        ys = [x * 2.0 + 1 for x in xs]
        return xs, ys
    """
    assert helper(source) == "tuple[list[float], list[float]]"
    annotated = """\
    def scale(values: list[float], by):
        top = max(values)
        return top
    """
    assert helper(annotated) == "float"


@pytest.mark.parametrize(
    "source",
    [
        # rebound to another type
        "def f():\n    x = 1\n    x = 'a'\n    return x\n",
        # bound by a loop, augmented assignment, unpacking or with
        "def f(items):\n    for x in items:\n        pass\n    return x\n",
        "def f():\n    x = 1\n    x += 0.5\n    return x\n",
        "def f(pair):\n    x, y = pair\n    return x\n",
        "def f(path):\n    with lock(path) as x:\n        pass\n    return x\n",
        "def f(path):\n    with open(path) as (x, y):\n        pass\n    return x\n",
        # a parameter hides the module name it shares (n is an int at module level)
        "def f(n):\n    return n\n",
        "def f(n):\n    n = n\n    return n\n",
    ],
)
def test_a_helper_local_bound_more_than_one_way_is_unknown(source):
    assert helper(source) is None


def test_an_empty_display_returned_beside_a_typed_one_is_of_its_type():
    source = "def f(flag):\n    if flag:\n        return [1.5]\n    return []\n"
    assert helper(source) == "list[float]"
    records = 'def f(flag):\n    if flag:\n        return {"a": 1}\n    return {}\n'
    assert helper(records) == "dict[str, int]"  # an empty dict has none of the keys
    assert annotation(returned_type(cst.parse_module(records).body[0], ENV)) == "dict[str, int]"
    # with nothing else to agree with, or two others that disagree: unknown
    assert helper("def f():\n    return []\n") is None
    mixed = "def f(a, b):\n    if a:\n        return [1]\n    if b:\n        return ['x']\n    return []\n"
    assert helper(mixed) is None
    assert helper("def f(a):\n    if a:\n        return {'k': 1}\n    return []\n") is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # the end of the body reached: the call returns None
        ("def f(x):\n    if x:\n        return 1\n", "int | None"),
        (
            "def f(x):\n    if x:\n        return 1\n    elif x > 2:\n        return 2\n",
            "int | None",
        ),
        (
            "def f(x):\n    try:\n        return 1\n    except ValueError:\n        pass\n",
            "int | None",
        ),
        (
            "def f(x):\n    while True:\n        if x:\n            break\n        return 1\n",
            "int | None",
        ),
        ("def f(x):\n    with suppress(ValueError):\n        return 1\n", "int | None"),
        ("def f(x):\n    if x:\n        return (1, 2)\n", None),  # a tuple, or None
        # every way out returns or raises
        ("def f(x):\n    if x:\n        return 1\n    else:\n        return 2\n", "int"),
        ("def f(x):\n    if x:\n        return 1\n    raise ValueError(x)\n", "int"),
        ("def f(x):\n    try:\n        return 1\n    except ValueError:\n        raise\n", "int"),
        (
            "def f(x):\n    while True:\n        for y in x:\n            break\n        return 1\n",
            "int",
        ),
        ("def f(x):\n    with open(x) as g:\n        return 1\n", "int"),
        ("def f(x): return 1\n", "int"),
    ],
)
def test_a_helper_that_may_reach_its_end_may_return_none(source, expected):
    assert helper(source) == expected


def test_a_name_bound_by_a_loop_alone_holds_an_element():
    env = TypeEnv({"rows": "list[str]", "pairs": "list[tuple[str, int]]"})
    found = "def f():\n    for r in rows:\n        if r:\n            return r\n"
    assert helper(found, env) == "str | None"  # the loop may end with no return
    assert (
        helper("def f():\n    for a, b in pairs:\n        return b\n    raise KeyError\n", env)
        == "int"
    )
    # bound another way too, over items of no known type, or by an async loop: unknown
    assert (
        helper("def f():\n    r = 1\n    for r in rows:\n        pass\n    return r\n", env) is None
    )
    assert helper("def f(x):\n    for r in x:\n        return r\n    raise KeyError\n", env) is None
    source = "async def f():\n    async for r in rows:\n        return r\n    raise KeyError\n"
    assert helper(source, env) is None


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "def f():\n    out = []\n    for r in words:\n        out.append(r.upper())\n    return out\n",
            "list[str]",
        ),
        (
            "def f():\n    out = {}\n    for r in words:\n        out[r] = len(r)\n    return out\n",
            "dict[str, int]",
        ),
        (
            'def f():\n    out = []\n    out.append(1)\n    out.append("a")\n    n = len(out)\n    return out\n',
            "list[int | str]",
        ),
        # any other use: an alias, an argument, an item changed, a nested function, a loop
        ("def f():\n    out = []\n    out.append(1)\n    g(out)\n    return out\n", None),
        (
            'def f():\n    out = []\n    x = out\n    out.append(1)\n    x.append("s")\n    return out\n',
            None,
        ),
        (
            'def f():\n    out = []\n    out.append([1])\n    out[0].append("s")\n    return out\n',
            None,
        ),
        (
            'def f():\n    out = []\n    def g():\n        out.append("s")\n    out.append(1)\n    return out\n',
            None,
        ),
        (
            "def f():\n    out = []\n    out.append(1)\n    for x in out:\n        pass\n    return out\n",
            None,
        ),
        # nothing goes in, keys of two types, a value of no known type
        ("def f():\n    out = []\n    return out\n", None),
        ('def f():\n    out = {}\n    out[1] = "a"\n    out["b"] = "c"\n    return out\n', None),
        ("def f():\n    out = []\n    out.append(load())\n    return out\n", None),
    ],
)
def test_a_helper_local_made_empty_and_only_filled_has_the_type_of_what_goes_in(source, expected):
    assert helper(source) == expected


def test_a_local_rebound_to_the_same_type_keeps_it():
    assert helper("def f(flag):\n    x = 1\n    if flag:\n        x = 2\n    return x\n") == "int"


def test_flyte_declares_a_union_of_types_it_carries_and_pickles_others():
    from transpile.frameworks.flyte.writer.types import flyte_type

    assert flyte_type("dict[str, str | int]", frozenset()) == "dict[str, str | int]"
    assert flyte_type("str | dict[str, int]", frozenset()) == "str | dict[str, int]"
    assert flyte_type("str | tuple[int, int]", frozenset()) == "typing.Any"


def step_types(body: str) -> dict[str, str | None]:
    """The artifact types a Metaflow step body writes (the last write of each)."""
    from transpile.frameworks.metaflow.reader.step import StepAnalyzer

    source = "def start(self):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    function = cst.parse_module(source).body[0]
    analyzer = StepAnalyzer(TypeEnv(), None, set())
    function.body.visit(analyzer)  # type: ignore[union-attr]
    return {name: kinds[-1] for name, kinds in analyzer.finish().writes.items()}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('rows = []\nrows.append("x")\nself.rows = rows\n', "list[str]"),
        ("self.rows = []\nfor i in range(3):\n    self.rows.append(i * 2)\n", "list[int]"),
        ("self.rows = []\nself.rows.extend([1.5, 2.5])\n", "list[float]"),
        ('self.rows = []\nself.rows.append("a")\nself.rows.append(1)\n', "list[str | int]"),
        (
            "pairs = [[1.5, 2.5]]\nself.rows = []\nfor a, b in pairs:\n    self.rows.append(a + b)\n",
            "list[float]",
        ),
        # appended after the artifact is bound to it: the same list
        ('rows = []\nself.rows = rows\nrows.append("late")\n', "list[str]"),
        # read without a change: len(), a loop, a comprehension
        (
            "rows = []\nrows.append(1)\nn = len(rows)\nfor r in rows:\n    pass\nself.rows = rows\n",
            "list[int]",
        ),
    ],
)
def test_a_list_filled_in_the_step_has_the_type_of_what_goes_in(body, expected):
    assert step_types(body)["rows"] == expected


@pytest.mark.parametrize(
    "body",
    [
        "rows = []\nfill(rows)\nself.rows = rows\n",  # a callee may put anything in
        "rows = []\nother = rows\nother.append(1.5)\nrows.append(1)\nself.rows = rows\n",
        "self.rows = []\nself.rows.insert(0, 1)\n",
        "self.rows = []\nself.rows.append(unknown())\n",
        'self.rows = []\nself.rows[0:0] = ["a"]\n',
        "self.rows = []\nself.rows += [1]\n",
        "self.rows = []\nself.rows.append(1)\nself.helper(self.rows)\n",
        # a loop over unknown items rebinds its names to unknown values
        'a = "s"\nfor a in load():\n    pass\nself.rows = []\nself.rows.append(a)\n',
        # a local changed by `+=` holds what the operation gives
        'self.rows = []\nrow = [1]\nrow += ["a"]\nself.rows.append(row)\n',
    ],
)
def test_a_list_used_any_other_way_is_unknown(body):
    assert step_types(body)["rows"] is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'rows = {}\nfor w in ["a", "b"]:\n    rows[w] = len(w)\nself.rows = rows\n',
            "dict[str, int]",
        ),
        ('self.rows = {}\nself.rows["n"] = 1\nself.rows["s"] = "x"\n', "dict[str, int | str]"),
        ('self.rows = {}\nself.rows["a"] = [1.5]\n', "dict[str, list[float]]"),
        ('rows = {}\nrows["k"] = 2\nself.rows = rows\nn = len(rows)\n', "dict[str, int]"),
    ],
)
def test_a_dict_filled_by_key_in_the_step_has_the_types_of_what_goes_in(body, expected):
    assert step_types(body)["rows"] == expected


@pytest.mark.parametrize(
    "body",
    [
        "self.rows = {}\n",  # empty: of no known type
        'self.rows = {}\nself.rows["n"] = 1\nself.rows[2] = 1\n',  # keys of two types
        'self.rows = {}\nself.rows["n"] = 1\nself.rows.update(s="x")\n',
        'self.rows = {}\nself.rows["n"] = 1\nself.rows["n"] += 0.5\n',
        'self.rows = {}\nself.rows["n"] = [1]\nself.rows["n"].append("x")\n',
        'self.rows = {}\nself.rows["n"] = load()\n',
        'rows = {}\nrows["n"] = 1\nfill(rows)\nself.rows = rows\n',
        # an item that is held elsewhere too: changed there after it went in
        'xs = [1]\nself.rows = {}\nself.rows["n"] = xs\nxs.append("s")\n',
        'xs = []\nxs.append(1)\nself.rows = {}\nself.rows["n"] = xs\nxs.append("s")\n',
    ],
)
def test_a_dict_used_any_other_way_is_unknown(body):
    assert step_types(body)["rows"] is None


def test_a_dotted_import_in_a_component_binds_its_first_name():
    """``import urllib.request`` in a helper inside a KFP component binds ``urllib``; reading it
    once raised an internal error (libcst refused the name ``urllib.request``)."""
    from transpile.api import Converted, convert_text

    text = (
        "from kfp import dsl\n\n\n"
        "@dsl.component\n"
        "def fetch(table: str) -> int:\n"
        "    def _body(table):\n"
        "        import urllib.request\n\n"
        "        return len(urllib.request.quote(table))\n\n"
        "    return _body(table)\n\n\n"
        "@dsl.pipeline\n"
        "def rows(table: str = 'events') -> int:\n"
        "    return fetch(table=table).output\n"
    )
    for target in ("flyte", "metaflow"):
        converted = convert_text(text, "p.py", target)
        assert isinstance(converted, Converted), converted
        assert "import urllib.request" in converted.code


# None as a value: a type and None are that type | None (Flyte carries None only in an Optional)
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("n if n else None", "int | None"),
        ("[1, None]", "list[int | None]"),
        ("None if n else None", "None"),
        ("unknown() if n else None", None),
        ("min(n, None)", None),  # arithmetic on None raises: no type
        ("round(None, 2)", None),
        # a union of lists is no list: its elements are unknown
        ("[x for x in (words if n else ints)]", None),
        # the same union in every element is that union
        ('[{"a": "x", "b": 1}, {"a": "y", "b": 2}]', "list[dict[str, str | int]]"),
        ('[{"a": "x", "b": 1}, {"a": 1.5}]', None),
    ],
)
def test_none_and_union_rules(expr, expected):
    assert typed(expr) == expected


def test_a_union_of_generics_has_no_element_or_value_type():
    from transpile.reading.inference import args_of, element_type

    assert element_type("list[str] | list[int]") is None
    assert args_of("dict[str, list[str] | list[int]]", "dict") == ["str", "list[str] | list[int]"]
    assert args_of("tuple[str] | list[int, str]", "tuple") is None
    mixed = TypeEnv({"d": "list[str] | list[int]", "t": "tuple[int, ...]"})
    assert typed("d[0]", mixed) is None
    assert typed("t[3]", mixed) == "int"


def test_a_helper_returning_a_value_or_none_is_optional():
    source = "def f(flag):\n    if flag:\n        return 1.5\n    return None\n"
    assert helper(source) == "float | None"
    assert helper("def f(flag):\n    if flag:\n        return load()\n    return None\n") is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("try:\n    self.res = 10 / n\nexcept Exception:\n    self.res = None\n", "float | None"),
        ("self.res = None\n", "typing.Any | None"),
        ("self.res = load()\nif n:\n    self.res = None\n", "typing.Any | None"),
        ("self.res = load()\n", "typing.Any"),
    ],
)
def test_an_artifact_set_to_a_value_or_none(body, expected):
    from transpile.frameworks.metaflow.reader import read as metaflow_read

    source = (
        "from metaflow import FlowSpec, step\n\nn = 2\n\n\nclass F(FlowSpec):\n    @step\n"
        "    def start(self):\n"
        + textwrap.indent(body, "        ")
        + "        self.next(self.end)\n"
        "\n    @step\n    def end(self):\n        print(self.res)\n"
    )
    pipeline, _ = metaflow_read.read(cst.parse_module(source), "flow.py")
    (output,) = pipeline.step("start").outputs
    assert output.type.expr == expected


# names unpacked from a sequence hold its elements; from a tuple, its parts
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f(line: str):\n    a, b = line.split(',')\n    return b\n", "str"),
        ("def f():\n    a, b = 1, 'x'\n    return b\n", "str"),
        ("def f(xs: list[float]):\n    [a, b] = xs\n    return a\n", "float"),
        ("def f(line: str):\n    a, *b = line.split(',')\n    return a\n", None),
        ("def f(line: str):\n    (a, b), c = line.split(',')\n    return c\n", None),
        ("def f():\n    a, b = 1, 'x', 2\n    return b\n", None),
    ],
)
def test_a_helper_local_unpacked_from_a_sequence(source, expected):
    assert helper(source) == expected


def calls_env(source: str) -> TypeEnv:
    from transpile.reading.inference import HelperCalls

    module = cst.parse_module(textwrap.dedent(source))
    functions = {s.name.value: s for s in module.body if isinstance(s, cst.FunctionDef)}
    env = TypeEnv(dict(ENV.names))
    env.calls = HelperCalls(functions, env)
    return env


HELPERS = """\
def parse(text, sep=","):
    return [line.split(sep) for line in text.splitlines()]

def first(rows):
    return rows[0]

def twice(x):
    return twice(x)

def spread(*values):
    return values[0]
"""


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('parse("a,b")', "list[list[str]]"),
        ('parse(text="a,b", sep=";")', "list[list[str]]"),
        ('first(parse("a,b"))', "list[str]"),  # a helper's result passed to another
        ("parse(unknown)", None),
        ('parse("a", "b", "c")', None),  # more arguments than it takes
        ('parse(sep=",")', None),  # a parameter without default left out
        ("twice(1)", None),  # calls itself
        ("spread(1, 2)", None),  # *values
    ],
)
def test_an_unannotated_helper_is_typed_by_the_arguments_of_each_call(expr, expected):
    assert typed(expr, calls_env(HELPERS)) == expected


def test_a_helper_call_does_not_see_the_callers_locals():
    env = calls_env("def get():\n    return rows\n").child(rows="list[int]")
    assert typed("get()", env) is None


def test_a_helper_that_changes_its_argument_is_not_typed_by_it():
    from transpile.frameworks.metaflow.reader import read as metaflow_read

    source = (
        "from metaflow import FlowSpec, step\n\n\ndef add(rows):\n    rows.append('x')\n"
        "    return rows\n\n\ndef same(rows):\n    return rows\n\n\nclass F(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.a = add([1])\n        self.b = same([1])\n"
        "        self.next(self.end)\n\n    @step\n    def end(self):\n"
        "        print(self.a, self.b)\n"
    )
    pipeline, _ = metaflow_read.read(cst.parse_module(source), "flow.py")
    kinds = {o.name: o.type.expr for o in pipeline.step("start").outputs}
    assert kinds == {"a": "typing.Any", "b": "list[int]"}


@pytest.mark.parametrize(
    "expr", ["datetime.datetime", "list[datetime.datetime]", "datetime.date", "uuid.UUID"]
)
def test_flyte_pickles_stdlib_classes(expr):
    """flytekit hands a task a naive datetime made UTC-aware (its repr, isoformat and
    comparisons with naive ones change), so a datetime travels pickled, exactly; the other
    stdlib classes too (an annotation would need the module under a name the body may rebind)."""
    from transpile.frameworks.flyte.writer.types import flyte_type

    assert flyte_type(expr, frozenset()) == "typing.Any"


# what data-science libraries return (reading/library_types.py): a class, never a JSON type
LIBRARIES = TypeEnv(
    {"text": "str", "ints": "list[int]", "flag": "bool"},
    imports={
        "pd": "pandas",
        "np": "numpy",
        "datasets": "sklearn.datasets",
        "svm": "sklearn.svm",
        "RandomForestClassifier": "sklearn.ensemble.RandomForestClassifier",
        "cross_val_score": "sklearn.model_selection.cross_val_score",
        "train_test_split": "sklearn.model_selection.train_test_split",
        "accuracy_score": "sklearn.metrics.accuracy_score",
        "f1_score": "sklearn.metrics.f1_score",
        "keras": "tensorflow.keras",
        "duckdb": "duckdb",
        "Word2Vec": "gensim.models.word2vec.Word2Vec",
        "Flow": "metaflow.Flow",
        "CountVectorizer": "sklearn.feature_extraction.text.CountVectorizer",
        "pq": "pyarrow.parquet",
        "pt": "pyarrow.Table",
        "read_csv": "pyarrow.csv.read_csv",
        "Image": "metaflow.cards.Image",
        "S3": "metaflow.S3",
    },
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # pandas: readers and frame methods keep the frame; inplace=True gives None
        ("pd.read_parquet(text)", "pandas.DataFrame"),
        ("pd.read_csv(text).sample(frac=1).reset_index(drop=True)", "pandas.DataFrame"),
        ("pd.read_csv(text).dropna(inplace=True)", None),
        ("pd.read_csv(text).dropna(inplace=flag)", None),  # maybe None
        ("pd.read_csv(text).to_numpy()", "numpy.ndarray"),
        ("pd.read_csv(text).shape", "tuple[int, int]"),
        ('pd.read_csv(text)["a"]', None),  # a column or a frame, by the key
        ("pd.read_csv(text).values", "numpy.ndarray"),
        ("pd.Series(ints).values", None),  # an array or an extension array, by the dtype
        ("pd.read_pickle(text)", None),  # whatever was pickled
        ("pd.read_csv(text, chunksize=100)", None),  # a reader of frames
        ("pd.read_csv(text, iterator=True)", None),
        ("pd.read_excel(text)", None),  # a dict of frames with sheet_name=None
        ("pd.concat([pd.read_csv(text)])", None),  # frames or series
        # numpy: array makers, whole-array reductions, shapes
        ("np.expand_dims(np.zeros(3), -1)", "numpy.ndarray"),
        ("np.mean(ints)", "numpy.float64"),
        ("np.mean(np.zeros(3), axis=0)", None),  # an array along an axis
        ("np.sum(ints)", None),  # an int64 or a float64, by the data
        ("round(100 * np.mean(ints), 3)", "numpy.float64"),
        ("np.zeros(3).shape[0]", "int"),
        ("np.zeros(3).argmax()", "numpy.int64"),
        ("np.zeros(3).tolist()", None),
        ("np.random.rand(3)", "numpy.ndarray"),
        ("np.random.rand()", None),  # a float
        ("np.random.normal(0, 1, size=3)", "numpy.ndarray"),
        ("np.random.normal(0, 1)", None),
        ("np.split(pd.read_csv(text), [1])", "list[pandas.DataFrame]"),
        ("np.load(text)", None),  # an array or an archive
        # scikit-learn: classes make instances; fit returns the estimator; scores
        ("RandomForestClassifier(n_estimators=3)", "sklearn.ensemble.RandomForestClassifier"),
        ('svm.SVC(kernel="poly").fit(ints, ints)', "sklearn.svm.SVC"),
        ("svm.SVC().predict(ints)", "numpy.ndarray"),
        ("svm.SVC().score(ints, ints)", "float | numpy.float64"),  # by the release
        ("svm.SVC().transform(ints)", None),
        ("CountVectorizer(min_df=2).fit_transform(text)", "scipy.sparse.csr_matrix"),
        ("CountVectorizer().get_feature_names_out()", "numpy.ndarray"),
        # its terms are str, its indexes may be numpy ints
        ("CountVectorizer(min_df=2).vocabulary_", "dict[str, typing.Any]"),
        ('CountVectorizer(analyzer="char").vocabulary_', "dict[str, typing.Any]"),
        ("CountVectorizer(analyzer=unknown).vocabulary_", None),  # its own terms
        ("CountVectorizer(tokenizer=unknown).fit_transform(text)", None),
        ("datasets.make_classification(n_samples=9)", "tuple[numpy.ndarray, numpy.ndarray]"),
        ("datasets.make_blobs()", "tuple[numpy.ndarray, numpy.ndarray]"),
        ("datasets.make_regression(coef=True)", None),  # X, y and the coefficients
        ("datasets.make_regression(coef=flag)", None),
        ("datasets.load_iris()", "sklearn.utils.Bunch"),
        ('datasets.load_iris()["data"]', "numpy.ndarray"),
        ('datasets.load_iris()["feature_names"]', None),
        ("datasets.load_wine(return_X_y=True)", "tuple[numpy.ndarray, numpy.ndarray]"),
        ("datasets.load_wine(as_frame=True)", None),
        ("cross_val_score(svm.SVC(), ints, ints)", "numpy.ndarray"),
        ("train_test_split(np.zeros(3), np.ones(3))", "list[numpy.ndarray]"),
        ("train_test_split(np.zeros(3), ints)", None),  # parts of two kinds
        ("accuracy_score(ints, ints)", "float | numpy.float64"),
        ("f1_score(ints, ints, average=None)", None),  # one score per class
        # keras, duckdb, gensim, Metaflow's Client API
        ("keras.Sequential([])", "keras.Sequential"),
        ("keras.utils.to_categorical(ints, 3)", "numpy.ndarray"),
        (
            "keras.datasets.mnist.load_data()",
            "tuple[tuple[numpy.ndarray, numpy.ndarray], tuple[numpy.ndarray, numpy.ndarray]]",
        ),
        ("keras.datasets.imdb.load_data()", None),  # not known here
        ('duckdb.connect(":memory:").execute(text).fetch_df()', "pandas.DataFrame"),
        ('duckdb.connect(":memory:").fetchone()', None),
        ("Word2Vec(ints, **{}).wv", "gensim.models.keyedvectors.KeyedVectors"),
        ('Flow("F").latest_run.pathspec', "str"),
        ('Flow("F").latest_run.data', None),  # the artifacts: of any type
        ('[r.id for r in Flow("F").runs()]', "list[str]"),
        ('Flow("F").runs()', None),  # an iterator: no value to hand on
        # pyarrow: readers make tables; a column by name or position, rows by a slice
        ("pq.read_table(text)", "pyarrow.Table"),
        ("pt.from_pylist([])", "pyarrow.Table"),
        ("read_csv(text).num_rows", "int"),
        ("pq.ParquetDataset([text]).read()", "pyarrow.Table"),
        ("pq.read_table(text)[text].to_numpy()", "numpy.ndarray"),
        ("pq.read_table(text)[0]", "pyarrow.ChunkedArray"),
        ("pq.read_table(text)[1:]", "pyarrow.Table"),
        ("pq.read_table(text).filter(flag).to_pandas()", "pandas.DataFrame"),
        ("pq.read_table(text)[unknown]", None),
        ("pq.read_table(text)[text].to_pylist()", None),  # values of the column's type
        ("pq.read_table(text)[text].unique()", None),  # an Array, not numpy's
        ("pq.read_table(text).to_pydict()", None),
        ("pq.read_table(text).schema.names", "list[str]"),
        ("[f.name for f in pq.read_table(text).schema]", "list[str]"),
        ("[f.type for f in pq.read_table(text).schema]", None),
        # Metaflow's S3 client and its objects
        ("S3().put_files(unknown)", "list[tuple[str, str]]"),
        ("S3().get(text).path", "str | None"),  # None where not downloaded
        ("S3().get_many(unknown)[0].key", "str"),
        ("S3().get(text).to_pandas()", None),
        # a card's image: the component, whatever the picture
        ("Image.from_matplotlib(unknown)", "metaflow.cards.Image"),
        ("Image.from_matplotlib(unknown).render()", None),
    ],
)
def test_library_rules(expr, expected):
    assert typed(expr, LIBRARIES) == expected


def test_pd_and_np_imported_nowhere_are_read_as_commonly_imported_and_a_local_is_not():
    # a component body importing inside itself, a helper using the module's import
    assert typed("pd.read_csv(text)", TypeEnv({"text": "str"})) == "pandas.DataFrame"
    assert typed("np.zeros(3)", TypeEnv()) == "numpy.ndarray"
    assert typed("pd.read_csv(text)", TypeEnv({"pd": "", "text": "str"})) is None
    assert typed("np.zeros(3)", TypeEnv({"np": ""})) is None


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('pd.read_csv(text)[["a", "b"]]', "pandas.DataFrame"),
        ('pd.read_csv(text)[["a"]].to_numpy()', "numpy.ndarray"),
        ('pd.read_csv(text)["a"]', None),  # a column, or a frame when names repeat
        ("pd.read_csv(text)[text]", None),
    ],
)
def test_frame_subscripts(expr, expected):
    assert typed(expr, LIBRARIES) == expected


def test_a_list_nothing_goes_in_is_the_empty_list_marker_for_the_flow_to_settle():
    from transpile.reading.inference import EMPTY_LIST

    assert step_types("self.rows = []\n")["rows"] == EMPTY_LIST
    assert step_types("rows = []\nself.rows = sorted(rows)\n")["rows"] == EMPTY_LIST
    assert step_types("rows = []\nself.first = max(rows)\n")["first"] == "<empty>"


def flow_types(source: str) -> dict[tuple[str, str], str]:
    from transpile.frameworks.metaflow.reader.read import read

    text = textwrap.dedent(source)
    pipeline, _ = read(cst.parse_module(text), "flow.py")
    return {(s.name, o.name): o.type.expr for s in pipeline.steps for o in s.outputs}


EMPTY_THEN_GROWN = """
    from metaflow import FlowSpec, step


    class F(FlowSpec):
        @step
        def start(self):
            self.out = []
            self.first = max(self.out, default=0) if len(self.out) else min(self.out)
            self.next(self.grow)

        @step
        def grow(self):
            self.out = self.out + [GROWN]
            self.next(self.end)

        @step
        def end(self):
            self.size = len(self.out)
"""


def test_an_empty_list_takes_the_one_list_type_the_flow_gives_the_artifact_elsewhere():
    types = flow_types(EMPTY_THEN_GROWN.replace("GROWN", "1.5"))
    assert types[("start", "out")] == types[("grow", "out")] == "list[float]"
    assert types[("end", "size")] == "int"


@pytest.mark.parametrize(
    "grown",
    [
        "unknown()",  # the other write's type is not known
        "[1][0]] + ['a'",  # two element types: list[int | str] is no agreement to assume
    ],
)
def test_an_empty_list_with_no_agreed_type_elsewhere_is_unknown_and_the_marker_never_leaks(grown):
    types = flow_types(EMPTY_THEN_GROWN.replace("GROWN", grown))
    assert types[("start", "out")] == "typing.Any"
    assert types[("start", "first")] == "typing.Any"  # an element of an empty list
    assert not any("<empty>" in t for t in types.values())


def test_min_and_max_of_one_iterable():
    assert typed("max(ints)") == "int"
    assert typed("min(config, key=config.get)") == "str"  # a dict's key
    assert typed("max(ints, default=0)") is None  # an element or the default (was list[int])
    assert typed("max(blob)") is None


def test_iterating_a_tuple_of_one_kind_gives_that_kind():
    assert typed('list(("age", "income"))') == "list[str]"
    assert typed('list(("a", 1))') == "list[str | int]"  # two kinds: either
    assert typed('list(("a", 1.5, 2))') is None  # no union of two kinds of number
    assert typed("[x for x in divmod(n, 2)]") == "list[int]"


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("n ** 2", "int"),
        ("n ** n", None),  # 2 ** -1 is 0.5
        ("2.5 ** n", "float"),
        ("n ** 0.5", None),  # (-8) ** 0.5 is a complex number
        ("random.Random(7).uniform(0, 1)", "float"),
        ("random.Random(7).randint(1, 6)", "int"),
        ("random.Random(7).choice(words)", None),
    ],
)
def test_powers_and_a_random_generator_of_ones_own(expr, expected):
    env = ENV.child()
    env.imports = {"random": "random"}
    assert typed(expr, env) == expected


def test_an_empty_list_a_step_fills_in_place_is_not_given_another_steps_type():
    types = flow_types(
        """
        from metaflow import FlowSpec, step


        class F(FlowSpec):
            @step
            def start(self):
                self.out = []
                self.next(self.a, self.b)

            @step
            def a(self):
                self.out.append("text")
                self.next(self.join)

            @step
            def b(self):
                self.out = self.out + [1]
                self.next(self.join)

            @step
            def join(self, inputs):
                self.both = inputs.a.out + inputs.b.out
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    )
    assert types[("b", "out")] == "list[int]"
    assert types[("a", "out")] == "typing.Any"  # holds ["text"], whatever b's list holds


# records: dict displays whose keys are names in quotes keep each key's own type ----------------

ROWS = TypeEnv(
    {
        "rows": infer(cst.parse_expression('[{"name": "low", "value": 2.0}]'), TypeEnv()) or "",
        "pair": "tuple[str, int]",
    }
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('rows[0]["value"]', "float"),
        ('rows[0]["name"].upper()', "str"),
        ('[r["value"] * 2 for r in rows]', "list[float]"),
        ('max(rows, key=len)["value"]', "float"),
        ('rows[0].get("value")', "float | None"),
        ('rows[0].get("value", 0.0)', "float"),
        ('{"a": 1, "b": "x"}["a"]', "int"),
        # a key the record has not: the value type of the dict, as before
        ('rows[0]["other"]', "str | float"),
        ("rows[0][key]", "str | float"),
        # keys that are not names in quotes make no record
        ('{"a b": 1, "c": "x"}["a b"]', "int | str"),
        ('{"a": 1, "a": "x"}["a"]', "int | str"),
        # a tuple's part, by a whole-number index
        ("pair[1]", "int"),
        ("pair[-2]", "str"),
        ("pair[2]", None),
        ("pair[i]", None),
    ],
)
def test_record_rules(expr, expected):
    assert typed(expr, ROWS) == expected


def test_a_record_is_inference_s_own_and_plain_gives_the_annotation():
    from transpile.reading.inference import agreed, args_of, record_of

    kind = infer(cst.parse_expression('[{"name": "low", "value": 2.0}]'), TypeEnv())
    assert kind == "list[dict[str, str | float, {name: str; value: float}]]"
    assert plain(kind) == "list[dict[str, str | float]]"
    element = kind[len("list[") : -1]
    assert args_of(element, "dict") == ["str", "str | float"]
    assert record_of(element) == {"name": "str", "value": "float"}
    nested = infer(cst.parse_expression('{"a": {"b": 1}, "c": {"b": 2}}'), TypeEnv())
    assert plain(nested) == "dict[str, dict[str, int]]"
    # records that differ agree on the annotation they share, and on nothing more
    two = ["dict[str, int, {a: int}]", "dict[str, int, {b: int}]"]
    assert agreed(two) == "dict[str, int]"
    assert agreed(["dict[str, int, {a: int}]", "dict[str, str, {a: str}]"]) is None


RECORDS_FLOW = """
    from metaflow import FlowSpec, step

    ROWS = [{"name": "low", "value": 2.0}, {"name": "high", "value": 9.0}]


    def heaviest(rows):
        return max(rows, key=lambda row: row["value"])["name"]


    class F(FlowSpec):
        @step
        def start(self):
            self.rows = ROWS
            self.top = heaviest(self.rows)
            self.next(self.each, foreach="rows")

        @step
        def each(self):
            CHANGE
            self.value = self.input["value"]
            self.name = self.input["name"]
            self.next(self.join)

        @step
        def join(self, inputs):
            self.values = [i.value for i in inputs]
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_a_foreach_over_records_types_each_key_and_no_record_reaches_the_model():
    types = flow_types(RECORDS_FLOW.replace("CHANGE", "pass"))
    assert types[("each", "value")] == "float"
    assert types[("each", "name")] == "str"
    assert types[("join", "values")] == "list[float]"
    assert types[("start", "top")] == "str"
    assert types[("start", "rows")] == "list[dict[str, str | float]]"
    assert not any("{" in t for t in types.values())


@pytest.mark.parametrize(
    ("change", "value", "name"),
    [
        # a change that may put another type in: the item is of no known type in the step
        ('self.input["value"] = "now text"', "typing.Any", "typing.Any"),
        ('self.input.update(value="now text")', "typing.Any", "typing.Any"),
        ('del self.input["value"]', "typing.Any", "typing.Any"),
        ('self.input["other"] = 1.5', "typing.Any", "typing.Any"),  # a key the record has not
        # a change that keeps each key's type: the record holds
        ('self.input["value"] += 1.0', "float", "str"),
        ('self.input["value"] = 0.5', "float", "str"),
    ],
)
def test_a_step_that_changes_items_reads_a_record_only_where_each_change_keeps_its_types(
    change, value, name
):
    types = flow_types(RECORDS_FLOW.replace("CHANGE", change))
    assert types[("each", "value")] == value
    assert types[("each", "name")] == name


def test_a_helper_that_changes_items_reads_no_record():
    source = RECORDS_FLOW.replace("CHANGE", "pass").replace(
        '    return max(rows, key=lambda row: row["value"])["name"]',
        '    rows[0]["name"] = 1\n        return max(rows, key=lambda row: row["value"])["name"]',
    )
    assert flow_types(source)[("start", "top")] is not None
    assert flow_types(source)[("start", "top")] != "str"


PROPERTY_FLOW = """
    from metaflow import FlowSpec, step


    class F(FlowSpec):
        @property
        def names(self):
            return sorted({row["name"] for row in self.rows})

        def total(self, scale):
            return sum(row["size"] for row in self.rows) * scale

        @step
        def start(self):
            self.rows = [{"name": "a", "size": 2}, {"name": "b", "size": 3}]
            self.labels = self.names
            self.weight = self.total(2)
            self.next(self.end)

        @step
        def end(self):
            UNKNOWN
            self.again = self.names
"""


def test_a_property_and_a_method_are_typed_from_what_the_caller_has_in_self():
    types = flow_types(PROPERTY_FLOW.replace("UNKNOWN", "pass"))
    assert types[("start", "labels")] == "list[str]"
    assert types[("start", "weight")] == "int"
    assert types[("end", "again")] == "list[str]"
    # where the step has rows of no known type, the property is unknown too
    unknown = flow_types(PROPERTY_FLOW.replace("UNKNOWN", "self.rows = load()"))
    assert unknown[("end", "again")] == "typing.Any"


METHOD_SETS_FLOW = """
    from metaflow import FlowSpec, Parameter, step


    class F(FlowSpec):
        keep = Parameter("keep", default=True)

        def audit(self, stage):
            self.audited = stage
            if self.keep:
                self.trail = self.trail + [stage]

        @step
        def start(self):
            self.trail = []
            self.audit(STAGE)
            self.last = self.audited
            self.next(self.end)

        @step
        def end(self):
            self.size = len(self.trail)
"""


def test_what_a_method_sets_is_typed_at_each_call_from_its_arguments():
    types = flow_types(METHOD_SETS_FLOW.replace("STAGE", '"start"'))
    assert types[("start", "audited")] == "str"
    assert types[("start", "last")] == "str"  # read after the call: what the call set
    assert types[("start", "trail")] == "list[str]"  # [] or [stage]: one list type


@pytest.mark.parametrize(
    "stage",
    [
        "load()",  # an argument of no known type
        '*["start"]',  # a call that cannot be matched to the parameters
    ],
)
def test_a_method_call_typed_from_unknown_arguments_sets_unknown_values(stage):
    types = flow_types(METHOD_SETS_FLOW.replace("STAGE", stage))
    assert types[("start", "audited")] == "typing.Any"
    assert types[("start", "last")] == "typing.Any"
    assert types[("start", "trail")] == "typing.Any"


def test_calls_that_set_values_of_two_types_leave_the_artifact_unknown():
    source = METHOD_SETS_FLOW.replace("STAGE", '"start"').replace(
        "self.last = self.audited", "self.audit(2)\n            self.last = self.audited"
    )
    types = flow_types(source)
    assert types[("start", "audited")] == "typing.Any"
    # the last call's int, unless the method sets it on some paths only: not known here
    assert types[("start", "last")] == "typing.Any"
    assert types[("start", "trail")] == "typing.Any"  # list[str | int] is no type to assume


def test_what_a_method_returns_is_typed_where_it_also_sets_and_its_own_sets_are_unknown():
    source = (
        METHOD_SETS_FLOW.replace("STAGE", '"start"')
        .replace(
            "                self.trail = self.trail + [stage]\n",
            "                self.trail = self.trail + [stage]\n"
            "            return [len(stage), 2]\n\n"
            "        def again(self, stage):\n"
            "            self.audited = stage\n"
            "            return self.audited\n",
        )
        .replace(
            "self.last = self.audited",
            "self.sizes = self.audit('a')\n            self.last = self.again('b')",
        )
    )
    types = flow_types(source)
    assert types[("start", "sizes")] == "list[int]"
    # read back after its own set: not the caller's value, and not worked out
    assert types[("start", "last")] == "typing.Any"


CONSTANT_FLOW = """
    from metaflow import FlowSpec, step


    class F(FlowSpec):
        LIMIT = VALUE

        def capped(self, values):
            return [min(v, self.LIMIT) for v in values]

        @step
        def start(self):
            self.limit = self.LIMIT
            self.capped_values = self.capped([1, 5, 9])
            self.next(self.end)

        @step
        def end(self):
            pass
"""


def test_a_class_constant_has_the_type_of_its_value_in_steps_and_methods():
    types = flow_types(CONSTANT_FLOW.replace("VALUE", "4"))
    assert types[("start", "limit")] == "int"
    assert types[("start", "capped_values")] == "list[int]"
    unknown = flow_types(CONSTANT_FLOW.replace("VALUE", "load()"))
    assert unknown[("start", "limit")] == "typing.Any"
    assert unknown[("start", "capped_values")] == "typing.Any"


# a number that is an int or a float, not knowing which: sum() of floats -----------------------

NUMBERS = TypeEnv({"floats": "list[float]", "ints": "list[int]", "n": "int", "x": "float"})


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("sum(floats)", "<number>"),  # 0 (an int) when the list is empty
        ("sum(ints)", "int"),
        ("sum(floats) / n", "float"),
        ("n / sum(x * 2 for x in floats)", "float"),
        ("sum(floats) * x", "float"),  # 0 * 2.5 is 0.0
        ("sum(floats) - 1.0", "float"),
        ("sum(floats) + n", "<number>"),
        ("round(sum(floats), 2)", "<number>"),
        ("round(sum(floats))", "int"),
        ("abs(sum(floats))", "<number>"),
        ("-sum(floats)", "<number>"),
        ("sum(floats) > 1", "bool"),
        ("float(sum(floats))", "float"),
        ("sum(floats) ** 2", None),
        ("sum(floats) | n", None),
        ("[sum(floats), 'a']", None),  # no union holds it
        ("max(sum(floats), x)", None),
        ("-True", "int"),
    ],
)
def test_number_rules(expr, expected):
    assert infer(cst.parse_expression(expr), NUMBERS) == expected


def test_an_artifact_that_is_a_number_of_no_known_kind_is_unknown_and_arithmetic_goes_on():
    types = flow_types(
        """
        from metaflow import FlowSpec, step


        class F(FlowSpec):
            @step
            def start(self):
                values = [0.5, 1.5]
                spread = sum(v * v for v in values)
                self.total = sum(values)
                self.mean = self.total / len(values)
                self.scaled = spread / 2
                self.next(self.end)

            @step
            def end(self):
                self.doubled = self.total * 2.0
        """
    )
    assert types[("start", "total")] == "typing.Any"
    assert types[("start", "mean")] == "float"
    assert types[("start", "scaled")] == "float"
    assert types[("end", "doubled")] == "float"
    assert not any("<number>" in t for t in types.values())


# a container the body changes in place holds what went in, of no known type ------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('def f(n):\n    cols = [None] * n\n    cols[0] = "w"\n    return cols\n', None),
        ('def f():\n    xs = [1]\n    xs.append("a")\n    return xs\n', None),
        ('def f():\n    d = {"a": 1}\n    d["a"] = "x"\n    return d\n', None),
        ('def f():\n    xs = [1]\n    ys = xs\n    ys.append("a")\n    return xs\n', None),
        ("def f():\n    xs = [[1]]\n    xs[0].append(2.5)\n    return xs\n", None),
        ("def f():\n    xs = [1]\n    fill(xs)\n    return xs\n", None),
        ("def f(xs: list[int]):\n    xs.append(0.5)\n    return xs\n", None),
        # read, not changed: its type holds
        (
            "def f():\n    xs = [1]\n    return xs, len(xs), xs[0], sorted(xs)\n",
            "tuple[list[int], int, int, list[int]]",
        ),
        ("def f(xs: list[float]):\n    [a, b] = xs\n    return a\n", "float"),
        (
            "def f():\n    xs = [3, 1]\n    return np.array(xs), xs\n",
            "tuple[numpy.ndarray, list[int]]",
        ),  # a library's function changes nothing
    ],
)
def test_a_container_changed_in_place_is_unknown(source, expected):
    function = cst.parse_module(source).body[0]
    assert annotation(returned_type(function, TypeEnv())) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        'rows.append("a")',
        'rows[0] = "a"',
        'other = rows\n                other.append("a")',
        "fill(rows)",
        "self.add(rows)",
    ],
)
def test_a_step_that_changes_a_list_it_made_writes_it_untyped(change):
    source = f"""
        from metaflow import FlowSpec, step


        def fill(values):
            values.append("more")


        class F(FlowSpec):
            def add(self, values):
                values.append("more")

            @step
            def start(self):
                rows = [1, 2]
                self.first = rows[0]
                self.rows = rows
                {change}
                self.next(self.end)

            @step
            def end(self):
                pass
        """
    types = flow_types(source)
    assert types[("start", "rows")] == "typing.Any"
    # the whole body counts: a read before the change is not told apart from one after it
    assert types[("start", "first")] == "typing.Any"
    kept = flow_types(source.replace(change, "print(len(rows), sorted(rows))"))
    assert kept[("start", "rows")] == "list[int]"


def test_a_function_of_a_module_beside_the_flow_is_typed_from_its_body(tmp_path):
    from transpile.api import Read, read_file

    (tmp_path / "helpers.py").write_text(
        "import random\n\n\n"
        "def draws(n, seed):\n"
        "    rng = random.Random(seed)\n"
        "    return [rng.random() for _ in range(n)]\n\n\n"
        "def label(x) -> str:\n"
        "    return str(x)\n\n\n"
        "def frame(x) -> Table:\n"
        "    return Table(x)\n\n\n"
        "def names():\n"
        "    found = {}\n"
        "    found[1] = 'a'\n"
        "    return found\n",
        encoding="utf-8",
    )
    (tmp_path / "flow.py").write_text(
        textwrap.dedent(
            """
            from metaflow import FlowSpec, step

            import helpers
            from helpers import label


            class F(FlowSpec):
                @step
                def start(self):
                    from helpers import frame, names

                    self.values = helpers.draws(3, 7)
                    self.text = label(1)
                    self.table = frame(2)
                    self.names = names()
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        ),
        encoding="utf-8",
    )
    read = read_file(str(tmp_path / "flow.py"))
    assert isinstance(read, Read), read
    types = {o.name: o.type.expr for s in read.pipeline.steps for o in s.outputs}
    assert types["values"] == "list[float]"
    assert types["text"] == "str"  # an annotation of builtins
    assert types["table"] == "typing.Any"  # Table means something in helpers.py only
    assert types["names"] == "dict[int, str]"  # a dict filled by item: of what goes in


LATER_CHANGE_FLOW = """
    from metaflow import FlowSpec, step


    def extend(values):
        values.append("x")


    class F(FlowSpec):
        @step
        def start(self):
            self.items = [1, 2]
            self.next(self.grow)

        @step
        def grow(self):
            CHANGE
            self.next(self.end)

        @step
        def end(self):
            pass
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("self.items.append(3)", "list[int]"),
        ("self.items.extend([3, 4])", "list[int]"),
        ("alias = self.items\n            alias += [5]", "list[int]"),
        ("self.items.sort(reverse=True)", "list[int]"),
        ("self.items[0] = 7", "list[int]"),
        ('self.items.append("a")', "typing.Any"),
        ('alias = self.items\n            alias.append("a")', "typing.Any"),
        ("self.items[0] = 0.5", "typing.Any"),
        ("extend(self.items)", "typing.Any"),
        ("self.items.append(unknown())", "typing.Any"),
    ],
)
def test_an_artifact_a_later_step_changes_in_place_keeps_its_type_only_where_each_change_does(
    change, expected
):
    types = flow_types(LATER_CHANGE_FLOW.replace("CHANGE", change))
    assert types[("grow", "items")] == expected


def test_a_value_given_to_a_function_beside_the_flow_keeps_its_type_unless_it_is_changed(tmp_path):
    from transpile.api import Read, read_file

    (tmp_path / "tools.py").write_text(
        "def count(rows, extra):\n"
        "    return len(rows) + len(extra)\n\n\n"
        "def grow(rows, item):\n"
        "    rows.append(item)\n"
        "    return len(rows)\n",
        encoding="utf-8",
    )
    (tmp_path / "flow.py").write_text(
        textwrap.dedent(
            """
            from metaflow import FlowSpec, step

            import tools
            from tools import count as how_many, grow

            FIELDS = ["a", "b"]
            NAMES = ["x"]


            class F(FlowSpec):
                @step
                def start(self):
                    self.n = how_many(FIELDS, NAMES) + tools.count(FIELDS, FIELDS)
                    self.fields = [f.upper() for f in FIELDS]
                    self.size = grow(NAMES, 1)
                    self.names = list(NAMES)
                    self.next(self.end)

                @step
                def end(self):
                    pass
            """
        ),
        encoding="utf-8",
    )
    read = read_file(str(tmp_path / "flow.py"), "metaflow")
    assert isinstance(read, Read), read
    (start,) = [s for s in read.pipeline.steps if s.name == "start"]
    types = {o.name: o.type.expr for o in start.outputs}
    assert types["fields"] == "list[str]"  # only read by count: a list of str still
    assert types["names"] == "typing.Any"  # grow puts an int in it


APPEND_FLOW = """
    from metaflow import FlowSpec, step


    class F(FlowSpec):
        def remember(self, text):
            self.notes.append(text)

        def relay(self, text):
            self.remember(text)

        @step
        def start(self):
            self.notes = START
            CALL
            self.next(self.end)

        @step
        def end(self):
            self.size = len(self.notes)
"""


@pytest.mark.parametrize(
    ("start", "call", "expected"),
    [
        ("[]", 'self.remember("a")', "list[str]"),  # made empty: a list of what goes in
        ('["x"]', 'self.remember("a")', "list[str]"),
        ("[]", 'self.remember("a")\n            self.remember("b")', "list[str]"),
        ("[]", 'self.remember("a")\n            self.remember(1)', "list[str | int]"),
    ],
)
def test_a_method_that_only_appends_keeps_the_list_type_it_is_called_with(start, call, expected):
    source = APPEND_FLOW.replace("START", start).replace("CALL", call)
    assert flow_types(source)[("start", "notes")] == expected


@pytest.mark.parametrize(
    ("start", "call"),
    [
        ('["x"]', "self.remember(1)"),  # an int in a list of str
        ("[]", "self.remember(1)\n            self.remember(2.5)"),  # no union of numbers
        ("[]", "self.remember(load())"),  # a value of no known type
        ("[]", 'self.relay("a")'),  # changed by a method it calls
        ("[]", 'keep = lambda t: self.remember(t)\n            keep("a")'),  # t: unknown
        ("[]", "self.remember(*texts)"),  # a call not matched to the parameters
    ],
)
def test_a_method_appending_what_the_list_may_not_hold_leaves_it_unknown(start, call):
    source = APPEND_FLOW.replace("START", start).replace("CALL", call)
    assert flow_types(source)[("start", "notes")] == "typing.Any"


def test_a_method_changing_an_artifact_the_step_set_leaves_it_unknown():
    source = """
    from metaflow import FlowSpec, step


    class F(FlowSpec):
        def tag(self):
            self.row["k"] = "x"

        @step
        def start(self):
            self.row = {"k": 1}
            self.tag()
            self.next(self.end)

        @step
        def end(self):
            self.size = len(self.row)
    """
    assert flow_types(source)[("start", "row")] == "typing.Any"  # once dict[str, int]
