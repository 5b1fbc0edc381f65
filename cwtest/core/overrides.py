"""Attributes set for the duration of a block and put back afterwards: how an adapter makes a model comparable
(dropout off, a softmax head read as logits) without rebuilding it."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def overridden(changes: list[tuple[object, str, object]]) -> Iterator[None]:
    """Each (owner, attribute, value) set for the duration, and put back as it was afterwards."""
    originals = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in changes]
    try:
        for owner, attribute, value in changes:
            setattr(owner, attribute, value)
        yield
    finally:
        for owner, attribute, value in originals:
            setattr(owner, attribute, value)
