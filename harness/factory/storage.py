"""The optuna storage that records finished sweep trials (one record per finished trial).

Default: an embedded journal file ``<run_dir>/study.journal`` (``JournalStorage`` +
``JournalFileBackend``); ``--storage sqlite:///...`` or ``postgresql://...`` selects an optuna
``RDBStorage``; ``journal:PATH`` names another journal file.

Record of one finished trial (an optuna ``COMPLETE`` trial, ``FAIL`` when the combination did not
load — never dropped silently, config-and-axes.md §8.1): ``value`` = the sweep objective (maximised),
user attrs ``i`` (sweep index: 0 = baseline, then 1, 2, ...), ``s`` (the stream, when not ``main``),
``x`` (compact index string, see ``space.SearchSpace.pack``) or ``c`` (codes, for the off-grid
baseline), ``m`` (metrics in the study's metric order), ``err`` (load error). With ``record_params``
the free axes are also stored as native optuna params (``IntDistribution`` over the value index) —
~1-2 ms and ~19 KB per trial with 148 axes, so the large profiles keep the compact record only
(~0.5 KB).

Writes are batched: on a journal file one ``append_logs`` call (one lock, one fsync) per batch; on an
RDB one transaction per batch (:func:`_rdb_batch_append`: optuna's own tables and row format, trial
numbers as optuna assigns them); ``study.add_trials`` (one transaction per trial) only when the
installed optuna's layout differs. A kill can leave a half-written last journal line:
:func:`repair_journal` truncates it before the storage is reopened, so a resumed sweep neither loses
nor repeats a finished trial (the sweep fills exactly the missing sweep indices).

Several sweep processes may share one PostgreSQL study: :func:`ledger_lock` makes sure only one
writes a given study stream at a time (a session-level advisory lock; file storages rely on
:class:`RunLock`).
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
import random
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql:", "postgresql+"))


def safe_url(url: str) -> str:
    """``url`` with any password masked (for messages)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not an SQLAlchemy URL (journal:PATH)
        return url


def engine_kwargs_for(url: str) -> dict:
    """SQLAlchemy ``create_engine`` kwargs for a long-running sweep's storage URL.

    PostgreSQL: ``pool_pre_ping`` (a connection dropped by a server restart or an idle timeout is
    replaced, not reported as a failed write), ``pool_recycle`` 30 min, and for libpq drivers a 10 s
    connect timeout, TCP keepalives and ``application_name=driftgate`` (options the URL's query
    already sets win). Other URLs: none.
    """
    if not _is_postgres(url):
        return {}
    kw: dict = {"pool_pre_ping": True, "pool_recycle": 1800}
    scheme = url.split("://", 1)[0]
    if scheme in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        try:
            from sqlalchemy.engine import make_url

            given = set(make_url(url).query)
        except Exception:  # noqa: BLE001 - RDBStorage reports the bad URL
            given = set()
        args = {"connect_timeout": 10, "application_name": "driftgate", "keepalives": 1,
                "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 5}
        kw["connect_args"] = {k: v for k, v in args.items() if k not in given}
    return kw


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
        with _schema_lock(url):
            return RDBStorage(url, engine_kwargs=engine_kwargs_for(url))
    except Exception as exc:  # noqa: BLE001 - driver missing, bad URL, server down
        raise DriftgateError(f"--storage {safe_url(url)}: cannot open the optuna storage: {exc}; fix: check the "
                             "URL and install its driver (e.g. psycopg2 for postgresql://)") from None


@contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """PostgreSQL: serialise optuna's create-tables-if-missing between processes opening one fresh
    database at once (a blocking advisory lock held only while the storage opens); else nothing."""
    if not _is_postgres(url):
        yield
        return
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    kw = {k: v for k, v in engine_kwargs_for(url).items() if k == "connect_args"}
    engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT", **kw)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": advisory_key("optuna-schema")})
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": advisory_key("optuna-schema")})
    finally:
        engine.dispose()


DEFAULT_STREAM = "main"


def meta_key(stream: str) -> str:
    """The study user attr that holds a stream's sweep metadata (``driftgate`` for the main stream)."""
    return META_KEY if stream == DEFAULT_STREAM else f"{META_KEY}:{stream}"


def check_name(kind: str, value: str) -> str:
    if not value or len(value) > 64 or not all(ch.isalnum() or ch in "-_." for ch in value):
        raise SweepError(f"--{kind} {value!r}: use 1-64 letters, digits, '-', '_' or '.'; fix: e.g. --{kind} "
                         f"{'desk-a' if kind == 'stream' else 'weekly-2026w47'}")
    return value


class TrialLog:
    """One sweep stream of a study in an optuna storage: metadata check, load, batched append.

    A study may hold several streams (``--stream``): independent sweeps (own seed, sampler, run
    directory) by processes on different machines sharing one PostgreSQL study. Records of a stream
    other than ``main`` carry the user attr ``s``; each stream has its own metadata attr
    (:func:`meta_key`) and loads only its own records; one writer per stream (:func:`ledger_lock`).
    """

    def __init__(self, url: str, meta: dict, space, resume_keys: Sequence[str], stream: str = DEFAULT_STREAM,
                 study_name: str = STUDY_NAME) -> None:
        import optuna

        self.url, self.space = url, space
        self.stream, self.study_name = check_name("stream", stream), check_name("study", study_name)
        self.storage = open_storage(url)
        self.study = optuna.create_study(storage=self.storage, study_name=study_name, direction="maximize",
                                         load_if_exists=True)
        key = meta_key(stream)
        old = self.study.user_attrs.get(key)
        if old is None:
            self.study.set_user_attr(key, meta)
            self.meta = meta
        else:
            diff = [k for k in resume_keys if old.get(k) != meta.get(k)]
            if diff:
                k = diff[0]
                raise SweepError(f"{safe_url(url)}: cannot resume stream {stream!r} of study {study_name!r}: {k} was "
                                 f"{old.get(k)!r}, now {meta.get(k)!r}; fix: use the original settings, or a new "
                                 "run directory (and another --stream or --study on a shared database)")
            self.meta = old
        self._journal = url.startswith("journal:")

    def load(self) -> dict[int, TrialRecord]:
        """Finished trials by sweep index (first record wins; duplicates are reported, not used).

        RDB storages read optuna's tables directly (:func:`_rdb_bulk_load`: three set-based queries
        instead of optuna's ORM, which builds a full ``FrozenTrial`` per trial); journals, and an RDB
        whose installed optuna layout differs, go through ``study.get_trials``. Both give the same
        records in trial-number order. The index strings are decoded in one array operation
        (:func:`_unpack_many`), and the cyclic garbage collector is paused meanwhile (millions of new,
        acyclic containers would otherwise trigger repeated full collections: about half the time of
        a large load).
        """
        with _gc_paused():
            return self._load()

    def _load(self) -> dict[int, TrialRecord]:
        rows = None if self._journal else _rdb_bulk_load(self.storage, self.study._study_id)
        if rows is None:
            rows = self._rows_via_get_trials()
        out: dict[int, TrialRecord] = {}
        self.duplicates = 0
        packed: list[tuple[TrialRecord, str]] = []     # index strings, decoded all at once below
        try:
            for _state, value, attrs in rows:
                # every record carries "i"; other trials in the study are not ours
                if "i" not in attrs or attrs.get("s", DEFAULT_STREAM) != self.stream:
                    continue
                i = int(attrs["i"])
                if i in out:
                    self.duplicates += 1
                    continue
                rec = TrialRecord(i, metrics=[float(v) for v in attrs.get("m", [])],
                                  score=value, error=attrs.get("err"))
                if "x" in attrs:
                    packed.append((rec, attrs["x"]))
                else:
                    rec.codes = np.array(attrs["c"], dtype=np.float64)
                out[i] = rec
        except Exception:
            self._decode_each(packed)        # an earlier record's bad index string is reported first
            raise
        decoded = _unpack_many(self.space, [x for _, x in packed])
        if decoded is None:
            self._decode_each(packed)
        else:
            for k, (rec, _) in enumerate(packed):
                rec.idx, rec.codes = decoded[0][k], decoded[1][k]
        return out

    def _decode_each(self, packed: list[tuple[TrialRecord, str]]) -> None:
        for rec, x in packed:
            rec.idx = self.space.unpack(x)
            rec.codes = self.space.codes(rec.idx[None, :])[0]

    def _rows_via_get_trials(self) -> Iterator[tuple[str, float | None, dict]]:
        """``(state name, value, user attrs)`` of the study's COMPLETE/FAIL trials via optuna's API."""
        from optuna.trial import TrialState

        for t in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
            yield t.state.name, t.value, t.user_attrs

    def _frozen(self, rec: TrialRecord, record_params: bool):
        from optuna.trial import FrozenTrial, TrialState

        now = _dt.datetime.now()
        attrs: dict = {"i": int(rec.index), "m": [float(v) for v in rec.metrics]}
        if self.stream != DEFAULT_STREAM:
            attrs["s"] = self.stream
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
        if self._journal:
            if _journal_batch_append(self.storage, self.study._study_id, trials):
                return
        elif _rdb_batch_append(self.storage, self.study._study_id, trials):
            return
        self.study.add_trials(trials)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (restored as it was; reference counting goes on)."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _unpack_many(space, texts: list) -> tuple[np.ndarray, np.ndarray] | None:
    """``space.unpack`` + ``space.codes`` of many index strings in two array operations: index rows
    ``(n, n_axes)`` int64 and codes ``(n, n_axes)`` float64, bitwise what the one-by-one calls give.
    None when a string is not a well-formed index string (or ``space`` decodes its own way): the
    caller then decodes one by one and gets the space's own error; an index outside an axis's
    value list raises ``space.codes``'s SweepError here as it would there."""
    from harness.factory.space import _DIGITS, SearchSpace

    if not texts or getattr(type(space), "unpack", None) is not SearchSpace.unpack:
        return None
    n = space.n_axes
    if any(type(t) is not str or len(t) != n for t in texts):
        return None
    try:
        raw = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        return None
    lut = np.full(256, -1, dtype=np.int64)
    lut[np.frombuffer(_DIGITS.encode("ascii"), dtype=np.uint8)] = np.arange(len(_DIGITS))
    idx = lut[raw].reshape(len(texts), n)
    if (idx < 0).any():
        return None
    return idx, space.codes(idx)


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


# distribution JSON per (storage, study, param name) already checked against the study (a params
# batch would otherwise re-query every param's first record, as optuna does per trial)
_SEEN_DISTS: "weakref.WeakKeyDictionary[object, dict[tuple[int, str], str]]" = weakref.WeakKeyDictionary()


def _rdb_batch_append(storage, study_id: int, trials: list, retries: int = 3) -> bool:
    """All trials of a batch in one RDB transaction, in optuna's own tables and row format.

    Per trial: one ``trials`` row, one ``trial_values`` row per objective value, one
    ``trial_user_attributes`` row per user attr (``json.dumps`` of the value), and — only when the trial
    has params — one ``trial_params`` row per param; system attrs and intermediate values likewise.
    Rows go in as multi-row INSERTs (``trials`` with ``RETURNING trial_id`` where the dialect has it).

    Trial numbers as ``RDBStorage._create_new_trial`` assigns them (``number`` = how many trials of
    the study precede it): the study row is locked first (``SELECT ... FOR UPDATE``, like optuna; on
    SQLite a no-op update of the study row takes the database write lock), so the batch gets
    ``count(study's trials) + 0, 1, ...``. Returns False — the caller then uses ``study.add_trials`` —
    when ``storage`` is not an ``RDBStorage`` or the installed optuna's models differ; database
    errors (after ``retries`` attempts on optuna's ``StorageInternalError``, each rolled back) propagate.
    A retry after a commit whose acknowledgement was lost may store a batch twice; ``TrialLog.load``
    keeps the first record of a sweep index and counts the rest in ``duplicates``.
    """
    try:
        import optuna
        from optuna.distributions import distribution_to_json
        from optuna.storages import RDBStorage
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session
        from sqlalchemy import func, insert, select, update

        if not isinstance(storage, RDBStorage):
            storage = getattr(storage, "_backend", None)           # a _CachedStorage
            if not isinstance(storage, RDBStorage):
                return False
        tables = {m: m.__table__ for m in (models.TrialModel, models.TrialValueModel, models.TrialParamModel,
                                           models.TrialUserAttributeModel, models.TrialSystemAttributeModel,
                                           models.TrialIntermediateValueModel, models.StudyModel)}
        need = {models.TrialModel: {"trial_id", "number", "study_id", "state", "datetime_start",
                                    "datetime_complete"},
                models.TrialValueModel: {"trial_id", "objective", "value", "value_type"},
                models.TrialParamModel: {"trial_id", "param_name", "param_value", "distribution_json"},
                models.TrialUserAttributeModel: {"trial_id", "key", "value_json"},
                models.TrialSystemAttributeModel: {"trial_id", "key", "value_json"},
                models.TrialIntermediateValueModel: {"trial_id", "step", "intermediate_value",
                                                     "intermediate_value_type"}}
        if any(not cols <= set(tables[m].c.keys()) for m, cols in need.items()):
            return False
        value_repr = models.TrialValueModel.value_to_stored_repr
        inter_repr = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr
    except (ImportError, AttributeError):  # another optuna layout: fall back to add_trials
        return False

    n_obj = len(storage.get_study_directions(study_id))
    for t in trials:                                   # optuna's add_trial checks
        getattr(t, "_validate", lambda: None)()
        if t.values is not None and len(t.values) != n_obj:
            raise ValueError(f"The added trial has {len(t.values)} values, which is different from the "
                             f"number of objectives {n_obj} in the study (determined by Study.directions).")
    utc = _dt.timezone.utc

    def naive_utc(d: _dt.datetime | None) -> _dt.datetime | None:       # as TrialModel's setters store it
        return None if d is None else d.astimezone(utc).replace(tzinfo=None)

    def write(session) -> None:
        trial_t = tables[models.TrialModel]
        if session.get_bind().dialect.name == "sqlite":
            study_t = tables[models.StudyModel]
            session.execute(update(study_t).where(study_t.c.study_id == study_id)
                            .values(study_name=study_t.c.study_name))
        models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
        base = session.execute(select(func.count(trial_t.c.trial_id))
                               .where(trial_t.c.study_id == study_id)).scalar_one()
        rows = [{"number": base + k, "study_id": study_id, "state": t.state,
                 "datetime_start": naive_utc(t.datetime_start), "datetime_complete": naive_utc(t.datetime_complete)}
                for k, t in enumerate(trials)]
        dialect = session.get_bind().dialect
        if getattr(dialect, "insert_executemany_returning_sort_by_parameter_order", False):
            res = session.execute(insert(trial_t).returning(trial_t.c.trial_id, sort_by_parameter_order=True), rows)
            ids = [int(r[0]) for r in res]
        else:
            ids = [int(session.execute(insert(trial_t), r).inserted_primary_key[0]) for r in rows]
        children: dict = {m: [] for m in need if m is not models.TrialModel}
        seen = _SEEN_DISTS.setdefault(storage, {})
        for tid, t in zip(ids, trials):
            for obj, v in enumerate(t.values or ()):
                stored, vtype = value_repr(v)
                children[models.TrialValueModel].append(
                    {"trial_id": tid, "objective": obj, "value": stored, "value_type": vtype})
            for name, v in t.params.items():
                dist = t.distributions[name]
                dj = distribution_to_json(dist)
                if seen.get((study_id, name)) != dj:
                    _check_param_distribution(session, models, study_id, name, dist, seen.get((study_id, name)))
                    seen[(study_id, name)] = dj
                children[models.TrialParamModel].append({"trial_id": tid, "param_name": name,
                                                         "param_value": dist.to_internal_repr(v),
                                                         "distribution_json": dj})
            for model, attrs in ((models.TrialUserAttributeModel, t.user_attrs),
                                 (models.TrialSystemAttributeModel, t.system_attrs)):
                children[model] += [{"trial_id": tid, "key": k, "value_json": json.dumps(v)} for k, v in attrs.items()]
            for step, v in t.intermediate_values.items():
                stored, vtype = inter_repr(v)
                children[models.TrialIntermediateValueModel].append(
                    {"trial_id": tid, "step": step, "intermediate_value": stored, "intermediate_value_type": vtype})
        for model, crows in children.items():
            if crows:
                session.execute(insert(tables[model]), crows)

    for attempt in range(1, retries + 1):
        try:
            with _create_scoped_session(storage.scoped_session) as session:
                write(session)
            return True
        except optuna.exceptions.StorageInternalError:    # rolled back: nothing of the batch was written
            if attempt == retries:
                raise
            time.sleep(random.random())
    return True


def _rdb_bulk_load(storage, study_id: int) -> list[tuple[str, float | None, dict]] | None:
    """``(state name, objective value or None, user attrs)`` of a study's COMPLETE and FAIL trials, in
    trial-number order, read with three set-based SQLAlchemy Core queries on optuna's own tables.

    What ``study.get_trials(deepcopy=False, states=(COMPLETE, FAIL))`` returns for these fields (its
    ORM path builds a full ``FrozenTrial`` per trial, ~2,500-3,000 trials/s): the value of objective
    0 through ``TrialValueModel.stored_repr_to_value`` (FINITE/INF_POS/INF_NEG; a FAIL trial has
    no value row), user attrs ``json.loads`` of ``value_json``; trials ordered by ``number``, and —
    as optuna's cache keeps one trial per number — of two trials with one number only the later
    (larger ``trial_id``) counts. Returns None — the caller then uses ``get_trials`` — when
    ``storage`` is not an ``RDBStorage``, the installed optuna's models differ, or the study is not
    single-objective; database errors propagate (as they would from ``get_trials``).
    """
    try:
        from optuna.storages import RDBStorage
        from optuna.storages._rdb import models
        from optuna.trial import TrialState
        from sqlalchemy import select

        if not isinstance(storage, RDBStorage):
            storage = getattr(storage, "_backend", None)           # a _CachedStorage
            if not isinstance(storage, RDBStorage):
                return None
        trial_t = models.TrialModel.__table__
        value_t = models.TrialValueModel.__table__
        attr_t = models.TrialUserAttributeModel.__table__
        need = {trial_t: {"trial_id", "number", "study_id", "state"},
                value_t: {"trial_id", "objective", "value", "value_type"},
                attr_t: {"trial_id", "key", "value_json"}}
        if any(not cols <= set(t.c.keys()) for t, cols in need.items()):
            return None
        to_value = models.TrialValueModel.stored_repr_to_value
        engine = storage.engine
        finished = (TrialState.COMPLETE, TrialState.FAIL)
    except (ImportError, AttributeError):  # another optuna layout: fall back to get_trials
        return None
    if len(storage.get_study_directions(study_id)) != 1:     # t.value is defined for one objective only
        return None

    mine = (trial_t.c.study_id == study_id) & trial_t.c.state.in_(finished)
    loads = json.loads
    with engine.connect() as conn:
        # every trial of the study (any state): optuna's cache keeps the last trial_id per number
        order: dict[int, int] = {}                   # number -> trial_id, in number order
        states: dict[int, str] = {}                  # trial_id -> state name (finished ones only)
        names = {state: state.name for state in finished}
        for tid, number, state in conn.execute(
                select(trial_t.c.trial_id, trial_t.c.number, trial_t.c.state)
                .where(trial_t.c.study_id == study_id)
                .order_by(trial_t.c.number, trial_t.c.trial_id)).all():
            order[number] = tid
            if state in names:
                states[tid] = names[state]
        values: dict[int, float] = {}
        for tid, value, vtype in conn.execute(
                select(value_t.c.trial_id, value_t.c.value, value_t.c.value_type)
                .join(trial_t, value_t.c.trial_id == trial_t.c.trial_id)
                .where(mine, value_t.c.objective == 0)).all():
            values[tid] = to_value(value, vtype)
        attrs: dict[int, dict] = {tid: {} for tid in states}
        stream = conn.execution_options(stream_results=True, yield_per=50_000)
        for tid, key, value_json in stream.execute(
                select(attr_t.c.trial_id, attr_t.c.key, attr_t.c.value_json)
                .join(trial_t, attr_t.c.trial_id == trial_t.c.trial_id)
                .where(mine)):                         # (trial_id, key) is unique: any row order
            d = attrs.get(tid)
            if d is not None:                        # else: committed after the first query
                d[key] = loads(value_json)
    return [(states[tid], values.get(tid), attrs[tid]) for tid in order.values() if tid in states]


def _check_param_distribution(session, models, study_id: int, name: str, dist, seen_json: str | None) -> None:
    """optuna's rule: a param's distribution must be compatible with the study's earlier one (the one
    this process last wrote, else the study's first record of the param); raises ValueError."""
    from optuna.distributions import check_distribution_compatibility, json_to_distribution

    if seen_json is None:
        row = (session.query(models.TrialParamModel.distribution_json).join(models.TrialModel)
               .filter(models.TrialModel.study_id == study_id, models.TrialParamModel.param_name == name).first())
        seen_json = row[0] if row is not None else None
    if seen_json is not None:
        check_distribution_compatibility(json_to_distribution(seen_json), dist)


def advisory_key(key: str) -> int:
    """A stable non-negative 63-bit ``bigint`` for ``key`` (blake2b of ``driftgate:<key>``)."""
    digest = hashlib.blake2b(f"driftgate:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << 63) - 1)


class LedgerLock:
    """A held ``pg_try_advisory_lock`` (see :func:`ledger_lock`); ``verify()`` checks it is still held."""

    def __init__(self, url: str, key: str, lock_id: int, conn) -> None:
        self.url, self.key, self.lock_id, self._conn = url, key, lock_id, conn

    def verify(self) -> None:
        """Raise DriftgateError when the lock's connection is gone (server restart, network drop)."""
        if self._conn is None:
            return
        from sqlalchemy import text

        try:
            held = self._conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = :k"),
                {"k": self.lock_id}).scalar_one()
        except Exception as exc:  # noqa: BLE001 - the connection died
            raise DriftgateError(f"{safe_url(self.url)}: lost the lock on study stream {self.key!r} ({exc}); "
                                 "fix: check the server, then resume the sweep") from None
        if not held:
            raise DriftgateError(f"{safe_url(self.url)}: the lock on study stream {self.key!r} is no longer held; "
                                 "fix: resume the sweep")


@contextmanager
def ledger_lock(url: str, key: str) -> Iterator[LedgerLock]:
    """Exclusive writer of study stream ``key`` in a shared PostgreSQL study; a no-op elsewhere.

    PostgreSQL: a session-level ``pg_try_advisory_lock(advisory_key(key))`` on a dedicated autocommit
    connection (no open transaction while the sweep runs), held until the block exits — and released
    by the server when this process dies and its connection drops. Raises DriftgateError at once
    (never waits) when another session holds it. Other URLs: nothing to do (``RunLock`` covers files).
    """
    if not _is_postgres(url):
        yield LedgerLock(url, key, advisory_key(key), None)
        return
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    lock_id = advisory_key(key)
    kw = engine_kwargs_for(url)
    kw.pop("pool_pre_ping", None)                 # one connection, no pool
    kw.pop("pool_recycle", None)
    try:
        engine = sa.create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT", **kw)
        conn = engine.connect()
    except Exception as exc:  # noqa: BLE001 - driver missing, server down
        raise DriftgateError(f"{safe_url(url)}: cannot connect to take the lock on study stream {key!r}: {exc}; "
                             "fix: check the URL and that the server is up") from None
    try:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_id}).scalar_one():
            raise DriftgateError(f"{safe_url(url)}: another sweep process holds study stream {key!r} "
                                 f"({_lock_holder(conn, lock_id)}); "
                                 "fix: wait for it to finish, or use another --stream")
        try:
            yield LedgerLock(url, key, lock_id, conn)
        finally:
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
            except Exception:  # noqa: BLE001 - connection already gone: the server released it
                pass
    finally:
        conn.close()
        engine.dispose()


def _lock_holder(conn, lock_id: int) -> str:
    """``advisory lock N held by pid P (application, client, since)`` — best effort."""
    from sqlalchemy import text

    try:
        row = conn.execute(text(
            "SELECT a.pid, a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = :k LIMIT 1"),
            {"k": lock_id}).first()
    except Exception:  # noqa: BLE001
        row = None
    if row is None:
        return f"advisory lock {lock_id}"
    since = row[3].strftime("%Y-%m-%d %H:%M:%S") if row[3] is not None else "?"
    return (f"advisory lock {lock_id} held by server pid {row[0]}, {row[1] or 'no application name'} "
            f"from {row[2] or 'local socket'}, connected since {since}")
