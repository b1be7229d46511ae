"""driftgate harness: axis registry, decoding, config parity, audits and reports.

Kept import-light: the engines import only :mod:`harness.errors` from here.
"""
from harness.errors import ConfigError, DataError, DriftgateError, ParityError, SweepError

__all__ = ["ConfigError", "DataError", "DriftgateError", "ParityError", "SweepError"]
