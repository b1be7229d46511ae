"""Where sweep batches are evaluated: in this process, or fanned out to a cluster.

The sweep loop (``harness.factory.sweep``) talks to an :class:`Executor` only: it ``submit``s a batch
of sweep codes under an integer key (the sampler batch number; −1 is the baseline trial) and
``wait``s for any finished batch. Results may come back in any order; the loop records each batch
once and tells the sampler in batch order, so what is recorded does not depend on which worker ran
what, nor on how many workers there were.

* :class:`InlineExecutor` — the evaluator in this process; a batch is evaluated when submitted.
* ``harness.factory.cluster.DaskExecutor`` — Dask workers that keep the evaluator resident.
"""
from __future__ import annotations

import os
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass
class BatchResult:
    """One evaluated batch: ``metrics`` is ``(n, len(METRICS))``; ``errors`` maps row -> load error."""

    key: int
    metrics: np.ndarray
    errors: dict[int, str] = field(default_factory=dict)
    worker: str = ""
    seconds: float = 0.0


class Executor(Protocol):
    """What the sweep loop needs from an evaluation backend."""

    workers: int

    def submit(self, key: int, codes: np.ndarray) -> None: ...

    def wait(self) -> BatchResult: ...

    def describe(self) -> dict: ...

    def stats(self) -> dict: ...

    def close(self) -> None: ...


def host_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class InlineExecutor:
    """The evaluator in this process (the embedded default): ``submit`` evaluates at once."""

    workers = 1

    def __init__(self, evaluator) -> None:
        self.evaluator = evaluator
        self._done: deque[BatchResult] = deque()
        self._batches = 0

    def submit(self, key: int, codes: np.ndarray) -> None:
        t0 = time.perf_counter()
        metrics = np.asarray(self.evaluator.evaluate(codes), dtype=np.float64)
        self._done.append(BatchResult(key, metrics, dict(self.evaluator.errors()), "inline",
                                      time.perf_counter() - t0))
        self._batches += 1

    def wait(self) -> BatchResult:
        if not self._done:
            raise RuntimeError("InlineExecutor.wait() with no batch submitted")
        return self._done.popleft()

    def describe(self) -> dict:
        return self.evaluator.describe()

    def stats(self) -> dict:
        return {"executor": "inline", "workers": 1, "batches": self._batches}

    def close(self) -> None:
        close = getattr(self.evaluator, "close", None)
        if close:
            close()
