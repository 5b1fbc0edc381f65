"""Options that take a comma list of known names, or `all`."""

from __future__ import annotations

from cwtest.core.errors import InputError
from cwtest.inputs.trials import ARCHITECTURES


def parse_choices(text: str, known: tuple[str, ...], option: str, kind: str) -> tuple[str, ...]:
    """The named choices in `known`'s order; `all` means every one; anything else is an InputError."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError(f"{option}: no {kind} given")
    unknown = [n for n in names if n != "all" and n not in known]
    if unknown:
        raise InputError(f"{option}: unknown {kind} {', '.join(unknown)} (known: {', '.join(known)}, all)")
    return known if "all" in names else tuple(k for k in known if k in names)


def parse_archs(text: str, option: str = "--crossedwires-arch") -> tuple[str, ...]:
    return parse_choices(text, ARCHITECTURES, option, "architecture")
