"""The bottom layer: the pipeline model (``ir``, its JSON form ``ir_json``), diagnostics, the
rows of the capability table, what a framework declares (``framework``) and the marks of added
steps. It imports nothing of transpile's but ``util``."""
