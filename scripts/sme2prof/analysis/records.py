"""Typed records: one dataclass gives a row's summary.json keys and its CSV columns.

Why: a row used to be a dict whose schema lived in several places (the dict literal, the
CSV column lists, key lookups in the report, charts and findings), and a renamed key
became a silently empty column. A record is a dataclass instead: ``to_json`` writes its
fields in order, ``csv_columns`` and ``csv_cells`` walk the same fields, so renaming a
field renames the JSON key and the CSV column together, and a reader still using the
old name fails at once with an AttributeError.

Field metadata says what does not fit the plain rule: ``json_only()`` keeps a field out
of the CSV tables (a list of event names, a nested mapping), ``none_as`` says what
summary.json holds when a field is None (``{}`` for an absent block). A field whose type
is itself a record is flattened into its own columns in a CSV table.
"""
from __future__ import annotations

import copy
from dataclasses import field, fields, is_dataclass
from typing import Any, get_type_hints

_IN_CSV = "in_csv"
_NONE_AS = "none_as"


def json_only(**kwargs: Any) -> Any:
    """A field summary.json holds but the CSV tables leave out (it does not fit one cell)."""
    return field(metadata={_IN_CSV: False}, **kwargs)


def none_as(value: Any, **kwargs: Any) -> Any:
    """A field that may be None in memory but is written as ``value`` (e.g. ``{}``) in JSON."""
    return field(metadata={_NONE_AS: value}, **kwargs)


def to_json(value: Any) -> Any:
    """The JSON form of a record (recursively): a dict of its fields, in field order."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if item is None and _NONE_AS in f.metadata:
                item = copy.deepcopy(f.metadata[_NONE_AS])
            out[f.name] = to_json(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


_CSV_FIELDS: dict[type, list[tuple[str, type | None]]] = {}


def _csv_fields(cls: type) -> list[tuple[str, type | None]]:
    """(field name, nested record class or None) of every field that goes into a CSV table."""
    if cls not in _CSV_FIELDS:         # type hints are slow to resolve: once per class
        hints = get_type_hints(cls)
        _CSV_FIELDS[cls] = [(f.name, hints[f.name] if isinstance(hints[f.name], type)
                             and is_dataclass(hints[f.name]) else None)
                            for f in fields(cls) if f.metadata.get(_IN_CSV, True)]
    return _CSV_FIELDS[cls]


def csv_columns(cls: type) -> list[str]:
    """The CSV columns of a record class: its fields in order, nested records flattened."""
    columns: list[str] = []
    for name, nested in _csv_fields(cls):
        columns += csv_columns(nested) if nested else [name]
    return columns


def csv_cells(record: Any) -> list[Any]:
    """The values of ``csv_columns(type(record))``, in the same order."""
    cells: list[Any] = []
    for name, nested in _csv_fields(type(record)):
        value = getattr(record, name)
        cells += csv_cells(value) if nested else [value]
    return cells

