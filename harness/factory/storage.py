"""The optuna storage that records finished sweep trials (one record per finished trial).

Default: an embedded journal file ``<run_dir>/study.journal`` (``JournalStorage`` +
``JournalFileBackend``); ``--storage sqlite:///...`` or ``postgresql://...`` selects an optuna
``RDBStorage``; ``journal:PATH`` names another journal file.

Record of one finished trial (an optuna ``COMPLETE`` trial, ``FAIL`` when the combination did not
load — never dropped silently, config-and-axes.md §8.1): ``value`` = the sweep objective (maximised),
user attrs ``i`` (sweep index: 0 = baseline, then 1, 2, ...), ``x`` (compact index string, see
``space.SearchSpace.pack``) or ``c`` (codes, for the off-grid baseline), ``m`` (metrics in the
study's metric order), ``err`` (load error). With ``record_params`` the free axes are also stored as
native optuna params (``IntDistribution`` over the value index) — ~5 ms and ~19 KB per trial with
148 axes, so the large profiles keep the compact record only (~0.5 KB).

Writes are batched: on a journal file one ``append_logs`` call (one lock, one fsync) per batch;
elsewhere ``study.add_trials``. A kill can leave a half-written last journal line:
:func:`repair_journal` truncates it before the storage is reopened, so a resumed sweep neither loses
nor repeats a finished trial (the sweep fills exactly the missing sweep indices).
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import DriftgateError, SweepError

STUDY_NAME = "driftgate-sweep"
META_KEY = "driftgate"


@dataclass
class TrialRecord:
    """One finished trial as the sweep keeps it."""

    index: int
    codes: np.ndarray | None = None         # always set after load (from x or c)
    idx: np.ndarray | None = None           # index row (None for the off-grid baseline)
    metrics: list[float] = field(default_factory=list)
    score: float | None = None
    error: str | None = None


def repair_journal(path: Path) -> int:
    """Drop a half-written last line (a killed writer); returns the bytes removed."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    with path.open("rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        pos, tail = size, b""
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            fh.seek(pos)
            tail = fh.read(step) + tail
            cut = tail.rfind(b"\n")
            if cut >= 0:
                keep = pos + cut + 1
                break
        else:
            keep = 0
        if keep != size:
            fh.truncate(keep)
        return size - keep


class RunLock:
    """An exclusive ``flock`` on ``<run_dir>/sweep.lock`` (released by the OS when the process dies)."""

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / "sweep.lock"
        self._fh = None

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("w")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise DriftgateError(f"{self.path}: another sweep is writing this run directory; "
                                 "fix: wait for it or use another --out") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()


def storage_url_for(run_dir: Path, url: str | None) -> str:
    return url or f"journal:{Path(run_dir) / 'study.journal'}"


def open_storage(url: str):
    """An optuna storage for ``journal:PATH``, ``sqlite:///...``, ``postgresql://...`` (any RDB URL)."""
    import optuna
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if url.startswith("journal:"):
        path = Path(url[len("journal:"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_journal(path)
        lock_file = Path(f"{path}.lock")
        if lock_file.exists():          # a killed writer's lock; the RunLock guarantees one writer
            lock_file.unlink()
        return JournalStorage(JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path))))
    try:
        return RDBStorage(url)
    except Exception as exc:  # noqa: BLE001 - driver missing, bad URL, server down
        raise DriftgateError(f"--storage {url}: cannot open the optuna storage: {exc}; fix: check the URL "
                             "and install its driver (e.g. psycopg2 for postgresql://)") from None


class TrialLog:
    """The sweep's study in an optuna storage: metadata check, load, batched append."""

    def __init__(self, url: str, meta: dict, space, resume_keys: Sequence[str]) -> None:
        import optuna

        self.url, self.space = url, space
        self.storage = open_storage(url)
        self.study = optuna.create_study(storage=self.storage, study_name=STUDY_NAME, direction="maximize",
                                         load_if_exists=True)
        old = self.study.user_attrs.get(META_KEY)
        if old is None:
            self.study.set_user_attr(META_KEY, meta)
            self.meta = meta
        else:
            diff = [k for k in resume_keys if old.get(k) != meta.get(k)]
            if diff:
                k = diff[0]
                raise SweepError(f"{url}: cannot resume: {k} was {old.get(k)!r}, now {meta.get(k)!r}; "
                                 "fix: use the original settings or a new run directory")
            self.meta = old
        self._journal = url.startswith("journal:")

    def load(self) -> dict[int, TrialRecord]:
        """Finished trials by sweep index (first record wins; duplicates are reported, not used)."""
        from optuna.trial import TrialState

        out: dict[int, TrialRecord] = {}
        self.duplicates = 0
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
            # every record carries "i"; other trials in the study are not ours
            if "i" not in t.user_attrs:
                continue
            i = int(t.user_attrs["i"])
            if i in out:
                self.duplicates += 1
                continue
            rec = TrialRecord(i, metrics=[float(v) for v in t.user_attrs.get("m", [])],
                              score=t.value, error=t.user_attrs.get("err"))
            if "x" in t.user_attrs:
                rec.idx = self.space.unpack(t.user_attrs["x"])
                rec.codes = self.space.codes(rec.idx[None, :])[0]
            else:
                rec.codes = np.array(t.user_attrs["c"], dtype=np.float64)
            out[i] = rec
        return out

    def _frozen(self, rec: TrialRecord, record_params: bool):
        from optuna.trial import FrozenTrial, TrialState

        now = _dt.datetime.now()
        attrs: dict = {"i": int(rec.index), "m": [float(v) for v in rec.metrics]}
        if rec.idx is not None:
            attrs["x"] = self.space.pack(rec.idx)
        else:
            attrs["c"] = [float(c) for c in rec.codes]  # type: ignore[union-attr]
        if rec.error:
            attrs["err"] = rec.error
        params, dists = {}, {}
        if record_params and rec.idx is not None:
            params, dists = self.space.params(rec.idx), self.space.distributions()
        failed = rec.error is not None or rec.score is None or not np.isfinite(rec.score)
        return FrozenTrial(number=-1, state=TrialState.FAIL if failed else TrialState.COMPLETE,
                           value=None if failed else float(rec.score), datetime_start=now,
                           datetime_complete=now, params=params, distributions=dists, user_attrs=attrs,
                           system_attrs={}, intermediate_values={}, trial_id=-1)

    def append(self, records: Iterable[TrialRecord], record_params: bool = False) -> None:
        trials = [self._frozen(r, record_params) for r in records]
        if not trials:
            return
        if self._journal and _journal_batch_append(self.storage, self.study._study_id, trials):
            return
        self.study.add_trials(trials)


def _journal_batch_append(storage, study_id: int, trials: list) -> bool:
    """All CREATE_TRIAL logs of a batch in one ``append_logs`` (optuna's own log format)."""
    try:
        from optuna.distributions import distribution_to_json
        from optuna.storages.journal._storage import JournalOperation

        worker_id = storage._replay_result.worker_id
        backend, lock = storage._backend, storage._thread_lock
    except (ImportError, AttributeError):  # another optuna layout: fall back to add_trials
        return False
    logs = []
    for t in trials:
        start = t.datetime_start.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")
        done = t.datetime_complete.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")
        logs.append({"op_code": JournalOperation.CREATE_TRIAL, "worker_id": worker_id, "study_id": study_id,
                     "datetime_start": start, "datetime_complete": done, "state": t.state,
                     "value": t.value, "values": None,
                     "distributions": {k: distribution_to_json(d) for k, d in t.distributions.items()},
                     "params": {k: t.distributions[k].to_internal_repr(v) for k, v in t.params.items()},
                     "user_attrs": t.user_attrs, "system_attrs": {}, "intermediate_values": {}})
    with lock:
        backend.append_logs(logs)
        storage._sync_with_backend()
    return True
