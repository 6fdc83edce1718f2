"""Shared test builders: imported by test modules, which never import each other."""
