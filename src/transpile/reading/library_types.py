"""What common data-science libraries return, read without importing them (issue 19).

Only results whose type never depends on the data are here, named by the class's public path
(``pandas.DataFrame``, ``numpy.ndarray``, ``sklearn.ensemble.RandomForestClassifier``). None of
them is JSON, so every writer carries them as it carries any object (Flyte and KFP pickle them):
knowing the class changes no value on the way, it names what travels. Results that vary with
the library's version or with an argument's value are not here (``accuracy_score`` is a
``float`` in some scikit-learn releases and ``numpy.float64`` in others; ``np.load`` gives an
array or an archive; ``df.dropna(inplace=True)`` gives None).
"""

from __future__ import annotations

FRAME = "pandas.DataFrame"
SERIES = "pandas.Series"
ARRAY = "numpy.ndarray"
FLOAT64 = "numpy.float64"
INT64 = "numpy.int64"
CONNECTION = "duckdb.DuckDBPyConnection"

# the modules whose functions, classes and methods this file knows (a value of any other
# module's class is not looked up here)
LIBRARIES = ("pandas.", "numpy.", "sklearn.", "xgboost.", "lightgbm.", "catboost.", "keras.")
LIBRARIES = (*LIBRARIES, "tensorflow.keras.", "duckdb.", "gensim.", "metaflow.", "pyarrow.")
LIBRARIES = (*LIBRARIES, "torch.", "optuna.", "awswrangler.")
# libraries whose CamelCase names are classes: calling one makes an instance of it
CLASS_LIBRARIES = ("sklearn.", "xgboost.", "lightgbm.", "catboost.", "gensim.", "torch.")
# estimators whose ``fit`` returns the estimator itself (the scikit-learn API)
ESTIMATOR_LIBRARIES = ("sklearn.", "xgboost.", "lightgbm.", "catboost.")
KEYED_VECTORS = "gensim.models.keyedvectors.KeyedVectors"
# scikit-learn's text vectorizers: a document-term matrix, sparse whatever the documents
SPARSE = "scipy.sparse.csr_matrix"
VECTORIZERS = frozenset(
    f"sklearn.feature_extraction.text.{name}"
    for name in ("CountVectorizer", "TfidfVectorizer", "HashingVectorizer")
)
# what makes a vectorizer's terms other than the strings of its own analyzers: a vectorizer
# given none of these is of the class (``vocabulary_`` maps str terms), else of no known type
_CUSTOM_TERMS = frozenset(("analyzer", "tokenizer", "preprocessor", "vocabulary"))
# Metaflow's Client API: the objects, not the artifacts they hold (``run.data.x`` is unknown)
RUN = "metaflow.Run"
# an Arrow table, and one column of it (the chunks of one array)
TABLE = "pyarrow.Table"
CHUNKED = "pyarrow.ChunkedArray"
PARQUET_DATASET = "pyarrow.parquet.ParquetDataset"
# Metaflow's S3 client (``with S3() as s3``: itself) and the objects it gets
S3 = "metaflow.S3"
S3_OBJECT = "metaflow.plugins.datatools.s3.S3Object"
# an Arrow table's schema: its fields, iterated
SCHEMA = "pyarrow.Schema"
FIELD = "pyarrow.Field"
# a card component made from a picture (Image.from_matplotlib(fig)): the component, whatever
# the picture
CARD_IMAGE = "metaflow.cards.Image"

_ARROW_READERS = (
    *(("parquet", "table"), ("feather", "table"), ("csv", "csv"), ("json", "json")),
    ("orc", "table"),
)
_READERS = ("csv", "parquet", "feather", "table", "sql", "sql_query", "sql_table", "orc")
_ARRAY_MAKERS = (
    *("array", "asarray", "zeros", "ones", "empty", "full", "arange", "linspace", "logspace"),
    *("eye", "identity", "zeros_like", "ones_like", "full_like", "empty_like", "concatenate"),
    *("stack", "vstack", "hstack", "column_stack", "expand_dims", "reshape", "tile", "repeat"),
    *("argsort", "cumsum", "cumprod", "diff", "outer", "atleast_2d"),
)
# module functions (by full name) whose result type is one class, whatever their arguments
RESULTS = {
    "pandas.DataFrame": FRAME,
    "pandas.Series": SERIES,
    **{f"pandas.read_{kind}": FRAME for kind in _READERS},
    "pandas.merge": FRAME,
    "pandas.get_dummies": FRAME,
    "pandas.pivot_table": FRAME,
    "pandas.json_normalize": FRAME,
    "pandas.crosstab": FRAME,
    **{f"numpy.{f}": ARRAY for f in _ARRAY_MAKERS},
    "sklearn.model_selection.cross_val_score": ARRAY,
    "sklearn.metrics.confusion_matrix": ARRAY,
    "keras.utils.to_categorical": ARRAY,
    "tensorflow.keras.utils.to_categorical": ARRAY,
    "keras.Sequential": "keras.Sequential",
    "keras.models.Sequential": "keras.Sequential",
    "tensorflow.keras.Sequential": "keras.Sequential",
    "tensorflow.keras.models.Sequential": "keras.Sequential",
    **dict.fromkeys(
        [f"{p}keras.{m}Model" for p in ("", "tensorflow.") for m in ("", "models.")],
        "keras.Model",  # the functional API: a Model of its inputs and outputs
    ),
    "duckdb.connect": CONNECTION,
    "metaflow.Flow": "metaflow.Flow",
    "metaflow.Run": RUN,
    **dict.fromkeys(
        [f"metaflow.cards.Image{f}" for f in ("", ".from_matplotlib", ".from_pil_image")],
        CARD_IMAGE,
    ),
    **dict.fromkeys(
        [f"pyarrow.{m}.read_{kind}" for m, kind in _ARROW_READERS],
        TABLE,
    ),
    **dict.fromkeys(
        [f"pyarrow.Table.from_{kind}" for kind in ("pylist", "pydict", "pandas", "arrays")],
        TABLE,
    ),
    S3: S3,
    "pyarrow.table": TABLE,
    **dict.fromkeys(("optuna.create_study", "optuna.load_study"), "optuna.study.Study"),
    # awswrangler's readers: a frame, unless asked for chunks (``chunksize``, ``chunked``)
    **dict.fromkeys(
        [f"awswrangler.athena.read_sql_{kind}" for kind in ("query", "table")]
        + [f"awswrangler.s3.read_{kind}" for kind in ("parquet", "csv", "json")],
        FRAME,
    ),
    "pyarrow.concat_tables": TABLE,
    PARQUET_DATASET: PARQUET_DATASET,
}
# scikit-learn scores of one number: a float in some releases, a numpy.float64 in others
SCORES = frozenset(
    f"sklearn.metrics.{name}"
    for name in (
        *("accuracy_score", "roc_auc_score", "f1_score", "precision_score", "recall_score"),
        *("r2_score", "mean_squared_error", "mean_absolute_error", "log_loss"),
        *("balanced_accuracy_score", "explained_variance_score"),
    )
)
SCORE = f"float | {FLOAT64}"
# numpy reductions of a whole array (no axis): a numpy scalar of float type
REDUCTIONS = frozenset(f"numpy.{f}" for f in ("mean", "std", "var", "median", "average"))
# numpy.random draws: an array when given a size (positionally for rand/randn, else size=)
RANDOM_SHAPED = frozenset(("numpy.random.rand", "numpy.random.randn"))
RANDOM_SIZED = frozenset(
    f"numpy.random.{f}" for f in ("random", "normal", "uniform", "randint", "choice", "poisson")
)
SPLITS = frozenset(("numpy.split", "numpy.array_split"))
TRAIN_TEST_SPLIT = "sklearn.model_selection.train_test_split"
SPLITTABLE = (FRAME, SERIES, ARRAY)  # what train_test_split gives back of the same kind
# keras' bundled datasets: ((x_train, y_train), (x_test, y_test)), each an array
_KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100", "boston_housing")
_PAIRS = f"tuple[tuple[{ARRAY}, {ARRAY}], tuple[{ARRAY}, {ARRAY}]]"
KERAS_DATA = {
    f"{prefix}keras.datasets.{name}.load_data": _PAIRS
    for prefix in ("", "tensorflow.")
    for name in _KERAS_DATASETS
}
# scikit-learn's generated datasets: (X, y), arrays, unless asked for more (the keyword)
GENERATORS = {
    **dict.fromkeys(("make_classification", "make_moons", "make_circles"), ""),
    "make_regression": "coef",
    "make_blobs": "return_centers",
    "make_friedman1": "",
}
DATASET_LOADERS = frozenset(
    f"sklearn.datasets.load_{name}"
    for name in ("iris", "digits", "wine", "breast_cancer", "diabetes", "linnerud")
)
BUNCH = "sklearn.utils.Bunch"

_FRAME_SAME = (
    *("head", "tail", "sample", "dropna", "fillna", "drop", "drop_duplicates", "sort_values"),
    *("sort_index", "reset_index", "rename", "copy", "astype", "assign", "query", "set_index"),
    *("replace", "round", "abs", "transpose", "ffill", "bfill", "nlargest", "nsmallest"),
    *("clip", "reindex", "where", "mask", "interpolate", "explode"),
)
_TABLE_SAME = (
    *("filter", "select", "slice", "drop", "drop_columns", "rename_columns", "combine_chunks"),
    *("sort_by", "append_column", "add_column", "set_column", "remove_column", "cast", "take"),
    *("drop_null", "replace_schema_metadata"),
)
# methods of library classes: owner class → method → result ("" : the owner's own class)
METHODS = {
    FRAME: {
        **dict.fromkeys(_FRAME_SAME, ""),
        **dict.fromkeys(("merge", "join", "describe", "corr", "cov", "pivot_table"), FRAME),
        "to_numpy": ARRAY,
    },
    SERIES: {
        **dict.fromkeys(_FRAME_SAME, ""),
        **dict.fromkeys(("value_counts", "cumsum", "map"), SERIES),
        "to_numpy": ARRAY,
        "to_frame": FRAME,
    },
    ARRAY: {
        **dict.fromkeys(("reshape", "astype", "copy", "flatten", "ravel", "transpose"), ""),
        **dict.fromkeys(("squeeze", "clip", "round", "cumsum"), ""),
        "argmax": INT64,
        "argmin": INT64,
    },
    TABLE: {
        **dict.fromkeys(_TABLE_SAME, ""),
        "column": CHUNKED,
        "to_pandas": FRAME,
    },
    CHUNKED: {
        "to_numpy": ARRAY,
        **dict.fromkeys(("slice", "filter", "take", "cast", "fill_null"), ""),
        "to_pandas": SERIES,
    },
    PARQUET_DATASET: {"read": TABLE, "read_pandas": TABLE},
    S3: {
        **dict.fromkeys(("get", "info"), S3_OBJECT),
        **dict.fromkeys(
            ("get_many", "get_recursive", "get_all", "list_paths", "list_recursive", "info_many"),
            f"list[{S3_OBJECT}]",
        ),
        "put": "str",  # the object's url
        **dict.fromkeys(("put_many", "put_files"), "list[tuple[str, str]]"),  # (key, url) pairs
    },
    CONNECTION: {
        **dict.fromkeys(("execute", "executemany", "cursor"), CONNECTION),
        **dict.fromkeys(("fetch_df", "fetchdf", "df"), FRAME),
    },
}
# methods whose ``inplace=True`` makes them return None
INPLACE = frozenset(_FRAME_SAME)
# numpy reductions as methods: a float scalar for a whole array (no axis)
ARRAY_REDUCTIONS = frozenset(("mean", "std", "var"))
ATTRIBUTES = {
    FRAME: {"values": ARRAY, "T": FRAME, "shape": "tuple[int, int]", "empty": "bool"},
    # ``Series.values`` is an ndarray or an extension array, by the column's dtype: not here
    SERIES: {"shape": "tuple[int]", "empty": "bool"},
    ARRAY: {"T": ARRAY, "shape": "tuple[int, ...]", "ndim": "int", "size": "int"},
    "gensim.models.word2vec.Word2Vec": {"wv": KEYED_VECTORS},
    "gensim.models.fasttext.FastText": {"wv": "gensim.models.fasttext.FastTextKeyedVectors"},
    "metaflow.Flow": {"latest_run": RUN, "latest_successful_run": RUN, "name": "str"},
    RUN: {**dict.fromkeys(("pathspec", "id"), "str"), "successful": "bool", "finished": "bool"},
    TABLE: {
        **dict.fromkeys(("num_rows", "num_columns", "nbytes"), "int"),
        "column_names": "list[str]",
        "shape": "tuple[int, int]",
        "schema": SCHEMA,
    },
    SCHEMA: {"names": "list[str]"},
    FIELD: {"name": "str", "nullable": "bool"},
    S3_OBJECT: {
        **dict.fromkeys(("key", "url", "prefix"), "str"),
        **dict.fromkeys(("exists", "downloaded"), "bool"),
        **dict.fromkeys(("path", "text"), "str | None"),  # None where not downloaded
        "blob": "bytes | None",
        "size": "int | None",
    },
    CHUNKED: {**dict.fromkeys(("num_chunks", "null_count", "nbytes"), "int")},
}
# methods giving an iterator (not a list: kept as no value's type), by owner: their elements
ITERATED = {"metaflow.Flow": {"runs": RUN}}
# classes iterated (``for field in table.schema``): their elements
ELEMENTS = {SCHEMA: FIELD}
# these libraries' classes whose ``with x as y`` binds ``y`` to ``x`` itself (``__enter__``
# returns self; the standard library's are inference's)
ENTERED = frozenset((S3, CONNECTION))
# what a fitted estimator holds: always arrays
FITTED_ARRAYS = frozenset(
    (
        *("labels_", "cluster_centers_", "coef_", "feature_importances_", "classes_"),
        *("components_", "explained_variance_", "explained_variance_ratio_"),
        "singular_values_",
    )
)
ESTIMATOR_METHODS = {
    **dict.fromkeys(("predict", "predict_proba", "predict_log_proba"), ARRAY),
    "decision_function": ARRAY,
    "score": SCORE,  # the mixins' accuracy or R², or a mean: a float or a numpy float
}


def is_class_name(function: str) -> bool:
    """``sklearn.ensemble.RandomForestClassifier``: a class of a library whose CamelCase
    names are classes (calling it makes one)."""
    last = function.rsplit(".", 1)[-1]
    return function.startswith(CLASS_LIBRARIES) and last[:1].isupper()


def is_estimator(kind: str | None) -> bool:
    return bool(kind) and is_class_name(kind or "") and kind.startswith(ESTIMATOR_LIBRARIES)  # type: ignore[union-attr]


def method_result(
    owner: str, method: str, keywords: dict[str, object], positional: int
) -> str | None:
    """What ``owner_value.method(...)`` returns (its keywords: name → literal value, ``...``
    when not a literal), or None when not known."""
    if owner in VECTORIZERS:
        if method in ("fit_transform", "transform"):
            return SPARSE
        if method == "get_feature_names_out":
            return ARRAY
    if is_estimator(owner):
        if method == "fit":
            return owner
        return ESTIMATOR_METHODS.get(method)
    found = METHODS.get(owner, {}).get(method)
    if found is not None:
        if keywords.get("inplace", False) is not False and method in INPLACE:
            return None
        return found or owner
    if owner == ARRAY and method in ARRAY_REDUCTIONS and not keywords and not positional:
        return FLOAT64
    return None


def iterated(owner: str | None, method: str) -> str | None:
    """The elements of ``owner_value.method(...)`` where it gives an iterator
    (``Flow("F").runs()``: each a ``metaflow.Run``), else None."""
    return ITERATED.get(owner or "", {}).get(method)


def element(owner: str | None) -> str | None:
    """What iterating a value of the class ``owner`` goes over, where known."""
    return ELEMENTS.get(owner or "")


def entered(kind: str | None) -> str | None:
    """What ``with value as name`` binds for a value of type ``kind``: the value itself for
    the classes known to return themselves, else None (unknown)."""
    return kind if kind in ENTERED else None


def attribute_result(owner: str | None, name: str) -> str | None:
    if owner is None:
        return None
    if owner in VECTORIZERS and name == "vocabulary_" and not owner.endswith("HashingVectorizer"):
        return "dict[str, typing.Any]"  # str terms (_CUSTOM_TERMS); indexes maybe numpy ints
    if is_estimator(owner) and name in FITTED_ARRAYS:
        return ARRAY
    return ATTRIBUTES.get(owner, {}).get(name)


def scalar_arithmetic(left: str | None, right: str | None) -> str | None:
    """A numpy float scalar with a Python number (either side) stays a numpy float scalar."""
    if FLOAT64 in (left, right) and {left, right} <= {FLOAT64, "int", "float"}:
        return FLOAT64
    return None


def call_result(
    function: str, args: list[str | None], keywords: dict[str, object], starred: bool
) -> str | None:
    """What the library function ``function`` (its full name) returns, given the types of its
    positional arguments (None unknown) and its keywords (name → literal value, ``...`` when
    not a literal); None when not known."""
    if function in RESULTS:
        readers = ("pandas.read_", "awswrangler.")
        chunks = {"chunksize", "iterator", "chunked"}
        chunked = function.startswith(readers) and chunks & set(keywords)
        return None if chunked else RESULTS[function]  # chunks: a reader, not a frame
    custom = {k for k in _CUSTOM_TERMS & set(keywords) if not isinstance(keywords[k], str)}
    if function in VECTORIZERS and (starred or args or custom):  # ``analyzer="char"`` is ours
        return None  # its terms may be anything its own analyzer makes: not the class we know
    if is_class_name(function):  # a class makes one of its kind, whatever it is given
        return function
    if starred:
        return None
    if function in SCORES:
        average = keywords.get("average", "binary")  # None or not known: maybe per class
        one = average is not None and average is not ... and "multioutput" not in keywords
        return SCORE if one else None
    if function in REDUCTIONS:
        whole = len(args) == 1 and not keywords
        return FLOAT64 if whole and args[0] in (ARRAY, "list[int]", "list[float]") else None
    if function in RANDOM_SHAPED:
        return ARRAY if args and not keywords else None
    if function in RANDOM_SIZED:
        return ARRAY if "size" in keywords else None
    if function in SPLITS and args and args[0] in (FRAME, ARRAY):
        return f"list[{args[0]}]"
    if function == TRAIN_TEST_SPLIT and args and args[0] in SPLITTABLE:
        same = all(a == args[0] for a in args)
        return f"list[{args[0]}]" if same else None
    if function in KERAS_DATA:
        return KERAS_DATA[function]
    generated = function.removeprefix("sklearn.datasets.")
    if generated in GENERATORS and generated != function:
        more = GENERATORS[generated]
        return (
            None if more and keywords.get(more, False) is not False else f"tuple[{ARRAY}, {ARRAY}]"
        )
    if function in DATASET_LOADERS and not args:
        if not keywords:
            return BUNCH
        if keywords == {"return_X_y": True}:
            return f"tuple[{ARRAY}, {ARRAY}]"
    return None


def split_parts(kinds: list[str | None], count: int) -> list[str | None] | None:
    """The ``count`` names ``a_train, a_test, b_train, b_test = train_test_split(a, b)`` binds:
    each half of an array, frame or series is of its kind (any other, or unknown: None); None
    when ``count`` is not two per argument."""
    if not kinds or count != 2 * len(kinds):
        return None
    known = [k if k in SPLITTABLE else None for k in kinds]
    return [k for k in known for _ in (0, 1)]


def subscript_result(
    owner: str | None, key: str | None, columns: bool, key_type: str | None = None
) -> str | None:
    """``load_iris()["data"]``: the arrays a scikit-learn toy dataset holds (``key`` is the text
    of a literal string index, else None); ``df[["a", "b"]]`` (``columns``: the index is a list
    display): a list of columns is a frame, where one column's name may give a column or a
    frame; ``table["fare"]`` (``key_type``: the index's type, ``"slice"`` for a slice): an
    Arrow table's column by name or position, or the rows of a slice."""
    if owner == BUNCH and key in ("data", "target"):
        return ARRAY
    if owner == FRAME and columns:
        return FRAME
    if owner == TABLE:
        return {"str": CHUNKED, "int": CHUNKED, "slice": TABLE}.get(key_type or "")
    return None
