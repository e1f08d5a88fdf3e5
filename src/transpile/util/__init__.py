"""Small utilities every layer may use: quiet parsing (``syntax``), source discovery and atomic
writes (``fileio``), the process pool (``parallel``), name allocation (``namespace``)."""
