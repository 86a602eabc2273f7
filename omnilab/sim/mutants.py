"""The catalogue of buggy variants (filled in by the mutants step)."""

from __future__ import annotations

from .variant import Variant

#: Every mutant, by its short catalogue name.
MUTANTS: dict[str, Variant] = {}
