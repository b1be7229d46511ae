"""The sweep's search space: each axis is an *index* into its value list (the spec's grid).

Samplers see only integer indices ``0 .. len(values) - 1`` per axis (so they can only emit values
that decode, D36(a)); :meth:`SearchSpace.codes` maps indices to the binary64 sweep codes of the spec,
and :meth:`SearchSpace.decode` turns a codes row into native values with the one decoder
(:func:`harness.decode.decode_row`, D29) — the sweep, the candidate-YAML writer and the report all
go through it. Axes with a single value are fixed (always index 0; samplers never vary them).

Compact form of an index row: one base-36 character per axis (every shipped grid has <= 11 values),
e.g. ``"0120a1..."``; used as the per-trial record in the optuna storage.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from harness.decode import decode_row, encode_value
from harness.errors import SweepError
from harness.schema import Schema, load_schema
from harness.sweep_spec import SweepSpec

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class SearchSpace:
    """Index space of a validated sweep spec."""

    spec: SweepSpec
    schema: Schema

    @property
    def paths(self) -> tuple[str, ...]:
        return self.spec.paths

    @property
    def n_axes(self) -> int:
        return len(self.spec.axes)

    @cached_property
    def sizes(self) -> np.ndarray:
        out = np.array([len(a.values) for a in self.spec.axes], dtype=np.int64)
        out.flags.writeable = False
        return out

    @cached_property
    def free(self) -> np.ndarray:
        """Column numbers of the axes with more than one value (the ones samplers vary)."""
        out = np.flatnonzero(self.sizes > 1)
        out.flags.writeable = False
        return out

    @cached_property
    def _free_paths(self) -> tuple[tuple[int, str], ...]:
        return tuple((int(j), self.paths[j]) for j in self.free)

    @cached_property
    def _distributions(self) -> dict:
        from optuna.distributions import IntDistribution

        return {path: IntDistribution(0, int(self.sizes[j]) - 1) for j, path in self._free_paths}

    @cached_property
    def table(self) -> np.ndarray:
        """``(n_axes, max_size)`` codes, NaN-padded."""
        width = int(self.sizes.max()) if self.n_axes else 1
        out = np.full((self.n_axes, width), np.nan)
        for j, a in enumerate(self.spec.axes):
            out[j, :len(a.values)] = a.values
        out.flags.writeable = False
        return out

    def codes(self, idx: np.ndarray) -> np.ndarray:
        """Index rows ``(n, n_axes)`` -> sweep codes ``(n, n_axes)`` float64."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.ndim != 2 or idx.shape[1] != self.n_axes:
            raise SweepError(f"<sweep>: index rows of shape {idx.shape}; expected (n, {self.n_axes})")
        if idx.size and ((idx < 0).any() or (idx >= self.sizes).any()):
            raise SweepError("<sweep>: an axis index is outside its value list; a sampler emitted "
                             "an undecodable value (D36a)")
        return self.table[np.arange(self.n_axes)[None, :], idx] if idx.size else np.zeros(idx.shape)

    def decode(self, codes_row: Sequence[float]) -> dict[str, object]:
        """One codes row -> ``path -> native value`` through the one decoder (D29)."""
        return decode_row(self.paths, [float(c) for c in codes_row], self.schema)

    def decode_index(self, idx_row: Sequence[int]) -> dict[str, object]:
        return self.decode(self.codes(np.asarray([idx_row]))[0])

    def pack(self, idx_row: Sequence[int]) -> str:
        return "".join(_DIGITS[int(i)] for i in idx_row)

    def unpack(self, text: str) -> np.ndarray:
        if len(text) != self.n_axes:
            raise SweepError(f"<storage>: index string of length {len(text)}; expected {self.n_axes}")
        return np.array([_DIGITS.index(ch) for ch in text], dtype=np.int64)

    def distributions(self) -> dict:
        """optuna distributions of the free axes: ``IntDistribution(0, len(values) - 1)`` (built once)."""
        return dict(self._distributions)

    def params(self, idx_row: Sequence[int]) -> dict[str, int]:
        return {path: int(idx_row[j]) for j, path in self._free_paths}

    def index_of_params(self, params: dict[str, int]) -> np.ndarray:
        return np.array([int(params.get(p, 0)) for p in self.paths], dtype=np.int64)

    def baseline_codes(self, base_yaml: Path | None) -> np.ndarray:
        """Codes of the base YAML's own portfolio values (the baseline trial; may lie off the grid).

        The sweep layer sits directly above ``global`` (D27), so overriding every axis with the
        portfolio config's own value leaves every effective config unchanged.
        """
        from engine_ref.config_loader import load_config
        from harness.paths import flatten

        flat = flatten(load_config(base_yaml))
        by_path = self.schema.by_path
        return np.array([encode_value(by_path[p], flat[p]) for p in self.paths], dtype=np.float64)

    def space_hash(self) -> str:
        """sha256 of the ordered ``(path, values)`` list: a resume must see the same space."""
        doc = [[a.path, list(a.values)] for a in self.spec.axes]
        return hashlib.sha256(json.dumps(doc, separators=(",", ":")).encode()).hexdigest()


def make_space(spec: SweepSpec, schema: Schema | None = None) -> SearchSpace:
    space = SearchSpace(spec, schema or load_schema())
    if space.n_axes and int(space.sizes.max()) > len(_DIGITS):
        raise SweepError(f"{spec.source}: an axis lists more than {len(_DIGITS)} values; "
                         "fix: split the grid (the compact trial record holds one base-36 digit per axis)")
    return space
