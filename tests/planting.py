"""Planted builders for the project's own tests: a registry entry whose torch or Keras builder is replaced, the
way a defect in one framework's kernel would show. Registry entries name their builders by key (cwtest.registries),
so a planted one is registered in both adapters' tables under a key of its own, for the test's duration."""

from __future__ import annotations

import dataclasses
from typing import Callable

import pytest

from cwtest.adapters.keras import blocks as keras_blocks
from cwtest.adapters.torch import blocks as torch_blocks


def planted(monkeypatch: pytest.MonkeyPatch, entry, torch: Callable | None = None, keras: Callable | None = None,
            name: str | None = None):
    """`entry` (a layer or optimizer registry entry) built by the given builders on their side and by its own on
    the other; `name` renames it. The tables get the key back when the test ends."""
    key = f"planted {name or entry.name}"
    tables = (torch_blocks.OPTIMIZERS, keras_blocks.OPTIMIZERS) if hasattr(entry, "tolerance_per_step") else (
        torch_blocks.BUILDERS, keras_blocks.BUILDERS)
    for table, builder in zip(tables, (torch, keras)):
        monkeypatch.setitem(table, key, builder if builder is not None else table.get(entry.builds))
    return dataclasses.replace(entry, builds=key, **({"name": name} if name else {}))
