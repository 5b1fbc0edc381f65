"""A table of builders by key: how an adapter offers the builders a registry entry names (cwtest.registries), each
builder registering itself where it is defined."""

from __future__ import annotations

from typing import Callable


class Builders(dict):
    """Key -> builder. Calling the table with keys gives a decorator that registers a builder under them."""

    def __call__(self, *keys: str) -> Callable[[Callable], Callable]:
        def register(builder: Callable) -> Callable:
            self.update(dict.fromkeys(keys, builder))
            return builder

        return register
