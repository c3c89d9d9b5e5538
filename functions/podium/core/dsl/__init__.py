"""The workflow definition language: models (models.py), loading with path-precise
errors (load.py, errors.py), params (params.py), JSON Schema (schema.py).

Import from the modules themselves: this package's ``__init__`` imports nothing, so that
the engine modules that the language's validators use (durations, signals, schedules)
can import ``dsl.errors`` without running the whole language first.
"""
