"""A search as its options describe it, checked before anything starts (no Ray imported here)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from cwtest.frameworks.sides import Pair
from cwtest.core.errors import InputError
from cwtest.inputs.budgets import Budget
from cwtest.search.space import Dimension


@dataclass(frozen=True)
class Search:
    arch: str
    pair: Pair
    budget: Budget
    objective: str
    subspaces: tuple[tuple[Dimension, ...], ...]  # the ones to search, each with its index in the split
    indices: tuple[int, ...]
    trials: int  # per subspace
    out: Path
    space: tuple[Dimension, ...]
    address: str | None = None
    cpus_per_trial: int | None = None


def check_address(address: str) -> None:
    """An address that no Ray answers is bad input, said before anything starts (Ray itself waits minutes)."""
    if address == "auto":
        return
    host, _, port = address.split("://")[-1].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"--address {address}: no Ray cluster reachable there ({reason}); give HOST:PORT of a "
                         f"running cluster's head, or leave --address out for a local Ray") from None
