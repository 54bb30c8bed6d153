"""Rows of the schema's tables for the stdlib sqlite3 driver, as SQLAlchemy would write them.

The SQLite fast paths (sqlite_hot_writes.py) insert without SQLAlchemy; what they write must read
back through the engine exactly as an insert through it would: the same statement shape,
the columns' Python-side defaults for what is not given, JSON columns as ``json.dumps``
text (NULL for None where the column says ``none_as_null``). The statement text comes from
the table, so a column added to the schema needs nothing here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import JSON, ColumnDefault, Table


class SqliteInsert:
    """``INSERT INTO table (...) VALUES (?, ...)`` for the given columns, and their values."""

    def __init__(self, table: Table, columns: tuple[str, ...]) -> None:
        unknown = set(columns) - set(table.c.keys())
        if unknown:
            raise ValueError(f"{table.name} has no column {sorted(unknown)}")
        self.table = table
        # the given columns, then every other one with a Python-side default
        defaulted = [c for c in table.columns if c.name not in columns and c.default is not None]
        self.columns = (*columns, *(c.name for c in defaulted))
        self._defaults = [_default_of(c.default) for c in defaulted]
        json_cols = {c.name: c.type for c in table.columns if isinstance(c.type, JSON)}
        self._json = [(i, json_cols[name]) for i, name in enumerate(self.columns) if name in json_cols]
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(self.columns)})"
            f" VALUES ({', '.join('?' for _ in self.columns)})"
        )

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        out = [row[name] for name in self.columns[: len(self.columns) - len(self._defaults)]]
        out.extend(default() for default in self._defaults)
        for i, kind in self._json:
            value = out[i]
            out[i] = None if value is None and kind.none_as_null else json.dumps(value)
        return out


def _default_of(default: Any) -> Callable[[], Any]:
    """A column's Python-side default as a function of nothing (a scalar, or a callable
    such as ``dict``, which SQLAlchemy wraps to take an execution context)."""
    if not isinstance(default, ColumnDefault) or default.is_sequence or default.is_clause_element:
        raise ValueError(f"the default {default!r} is not a Python value")
    arg = default.arg
    if default.is_callable:
        return lambda: arg(None)
    return lambda: arg


class SqliteInserts:
    """One SqliteInsert per (table, columns given), built on first use."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, tuple[str, ...]], SqliteInsert] = {}

    def of(self, table: Table, row: Mapping[str, Any]) -> tuple[str, list[Any]]:
        key = (table.name, tuple(row))
        insert = self._built.get(key)
        if insert is None:
            insert = self._built[key] = SqliteInsert(table, key[1])
        return insert.sql, insert.values(row)
