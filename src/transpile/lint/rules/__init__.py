"""Lint rules, one module each, found by walking this package (no registry to update)."""
