"""The one exception hierarchy of driftgate.

Every error names the file, the dotted path, the offending value, the rule and the fix
(STYLE.md point 10). This module holds types only — no behaviour — so both engines may raise these
without sharing any decision code.
"""
from __future__ import annotations


class DriftgateError(Exception):
    """Root of every error driftgate raises on purpose."""


class ConfigError(DriftgateError):
    """A config file, overlay or value breaks a loading rule (DECISIONS.md D27-D32, D42, D47, D52)."""


class SweepError(ConfigError):
    """A sweep spec or a sweep value fails the one decoder of D29 or sweep-spec validation (§7.2)."""


class DataError(DriftgateError):
    """Candle, sub-bar or funding input breaks a data rule (D33, D39-D41, D53)."""


class ParityError(DriftgateError):
    """Two engines (or two loaders) disagree where the contract says they must not."""
