"""``transpile verify``: prove a conversion by running both sides locally and comparing results.

- ``values``: type-strict normal forms of results, and how two results differ.
- ``runs``: one run of a pipeline in its framework, in a subprocess and its own folder.
- ``child``: the subprocess's side (the only module that imports a framework).
- ``check``: convert, run source and conversion, compare; the verdict.
- ``render``: a verification as text, Markdown or JSON.
"""
