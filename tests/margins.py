"""Numeric thresholds that report what they measured.

``expect(record_property, name, value, below=...)`` asserts one bound and records the measured
value with its bound as a test property. ``bench/numeric_margins.py`` runs the threshold-bearing
tests under several CPU code paths (ATen/oneDNN/MKL/numpy instruction sets, 1 or 2 threads) with
``--junitxml`` and tabulates these properties, so every margin can be re-checked on another CPU.
"""

from __future__ import annotations

import json
from collections.abc import Callable

PREFIX = "margin "


def expect(
    record: Callable[[str, object], None],
    name: str,
    value: float,
    *,
    below: float | None = None,
    at_most: float | None = None,
    above: float | None = None,
    at_least: float | None = None,
) -> float:
    """Assert ``value`` against the one bound given; record both for the margins bench."""
    value = float(value)
    bounds = {"below": below, "at_most": at_most, "above": above, "at_least": at_least}
    ((kind, bound),) = [(k, b) for k, b in bounds.items() if b is not None]
    record(PREFIX + name, json.dumps({"value": value, kind: bound}))
    ok = {
        "below": value < bound,
        "at_most": value <= bound,
        "above": value > bound,
        "at_least": value >= bound,
    }[kind]
    assert ok, f"{name} = {value:.4g}, expected {kind.replace('_', ' ')} {bound}"
    return value
