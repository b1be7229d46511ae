"""Market-data layer: data model, interval strings, validation, loaders, synthetic generator.

Conventions: integer millisecond timestamps; ``t`` is a bar's open time and its close time is
``t + interval_ms`` (the data's ``t_close`` is only checked, D40); symbols sorted byte-wise.
"""
from harness.data.intervals import interval_ms
from harness.data.loaders import load_market, write_market
from harness.data.market import Gap, MarketData, Series
from harness.data.synth import synth_market
from harness.data.validate import validate_market

__all__ = ["Gap", "MarketData", "Series", "interval_ms", "load_market", "synth_market", "validate_market",
           "write_market"]
