"""Unit and plausibility checks from the data itself, for everything a person declares.

A wrong unit ruins a model or an analysis without any error: acceleration written in g but
declared m/s² shows gravity as 1 m/s². These checks look at SI signals (after the declared
units were applied) and compare them with physics:

* acc: gravity, the median over 1-s stretches of |mean acceleration|, should be ≈ 9.81 m/s²
  (≈ 1 → g declared as m/s²; ≈ 96 → m/s² declared as g);
* gyro: beyond 35 rad/s (2000 deg/s, the range of body-worn gyros) no body turns, so deg/s
  was declared rad/s; near-still gyro while the acceleration shows movement hints the reverse;
* mag: the Earth's field is 25-65 µT (≈ 0.5 → gauss declared µT; ≈ 5000 → µT declared gauss).

The rule for error vs warning: a reading that no body or sensor can produce under the
declared unit, and that a unit change explains, is an **error** (CSV import, `analyze` and a
gateway upload refuse it, with the fix); a reading that is unusual but possible (gravity
removed, an uncalibrated magnetometer, a recording at rest) is a **warning**, logged and shown
by `data inspect`, `analyze` and session results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tcnvae.contract import PHYSICAL_LIMITS, STANDARD_GRAVITY
from tcnvae.data.errors import DataError

# How to declare a unit on each path (meta.json, gateway query string, `tcnvae analyze`).
FIX_STYLES = {"meta": 'declare meta.json "units": {{"{group}": "{unit}"}}',
              "json": 'declare "units": {{"{group}": "{unit}"}}', "query": "declare ?units={group}:{unit}",
              "flag": "declare --units {group}:{unit}",
              "npy": "convert {group} from {unit} to SI units (m/s^2, rad/s, uT) before saving the windows"}
DEFAULT_UNITS = {"acc": "m/s^2", "gyro": "rad/s", "mag": "uT"}
EARTH_FIELD_UT = (25.0, 65.0)
STEP = 100  # samples per stretch for the gravity estimate (1 s at the contract rate)


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning"
    group: str  # acc | gyro | mag | t | subject
    seen: str  # what the data shows
    likely: str  # what it probably means
    unit: str | None = None  # the unit to declare, when a unit change is the fix
    fix: str | None = None  # any other fix

    def render(self, style: str = "meta") -> str:
        """The message without its place; `style` picks how the fix is written (FIX_STYLES)."""
        remedy = FIX_STYLES[style].format(group=self.group, unit=self.unit) if self.unit else self.fix
        return f"{self.seen}; {self.likely}" + (f"; fix: {remedy}" if remedy else "")


class UnitError(DataError):
    """Signals that cannot be in the declared unit (the message names the fix)."""


def _declared(units: dict, group: str) -> str:
    return units.get(group) or DEFAULT_UNITS[group]


def gravity_estimate(acc: np.ndarray) -> float:
    """Median over 100-sample stretches of |mean acceleration|: gravity, whatever the movement."""
    n = len(acc) // STEP
    if n == 0:
        return float(np.linalg.norm(np.nanmean(acc, axis=0)))
    means = np.nanmean(acc[: n * STEP].reshape(n, STEP, 3), axis=1)
    return float(np.nanmedian(np.linalg.norm(means, axis=1)))


def check_acc(acc: np.ndarray, units: dict) -> list[Finding]:
    g = gravity_estimate(acc)
    declared = _declared(units, "acc")
    seen = f"gravity reads {g:.3g} m/s^2 (median |mean| over 100-sample stretches, declared {declared}; expected ≈ 9.81)"
    ratio = g / STANDARD_GRAVITY
    if 0.06 <= ratio <= 0.16 and declared == "m/s^2":
        return [Finding("error", "acc", seen, "the values look like g declared as m/s^2", unit="g")]
    if 6 <= ratio <= 16 and declared == "g":
        return [Finding("error", "acc", seen, "the values look like m/s^2 declared as g", unit="m/s^2")]
    peak = np.nanmax(np.abs(acc), axis=0)
    if ratio > 30 or np.nanmax(peak) > PHYSICAL_LIMITS["acc"]:
        ch = ("ax", "ay", "az")[int(np.nanargmax(peak))]
        return [Finding("error", "acc", f"{seen}; channel {ch} reaches {np.nanmax(peak):.4g} m/s^2, beyond the "
                        f"physical limit {PHYSICAL_LIMITS['acc']:.4g} (16 g)",
                        "no unit the format accepts explains this (milli-g or raw counts?)",
                        fix="convert to g or m/s^2 first")]
    if ratio < 0.3:
        return [Finding("warning", "acc", seen, "gravity seems removed (linear acceleration?); the models "
                        "expect total acceleration, gravity included")]
    if not 0.7 <= ratio <= 1.4:
        return [Finding("warning", "acc", seen, "check the accelerometer's calibration and unit")]
    return []


def check_gyro(gyro: np.ndarray, acc: np.ndarray | None, units: dict) -> list[Finding]:
    mag = np.linalg.norm(gyro, axis=1)
    p99 = float(np.nanpercentile(mag, 99))
    declared = _declared(units, "gyro")
    seen = f"99th percentile of |angular velocity| is {p99:.3g} rad/s (declared {declared})"
    if p99 > PHYSICAL_LIMITS["gyro"]:
        if declared == "rad/s" and p99 * math.pi / 180 <= PHYSICAL_LIMITS["gyro"]:
            return [Finding("error", "gyro", seen, f"no body turns faster than {PHYSICAL_LIMITS['gyro']:g} rad/s "
                            f"(2000 deg/s): the values look like deg/s declared as rad/s", unit="deg/s")]
        return [Finding("error", "gyro", seen, f"beyond {PHYSICAL_LIMITS['gyro']:g} rad/s (2000 deg/s), "
                        "what body-worn gyros measure", fix="check the unit and scaling of the gyro columns")]
    moving = acc is not None and float(np.nanmedian(np.nanstd(_stretches(acc), axis=1).sum(-1))) > 1.0
    if declared == "deg/s" and moving and p99 < 0.1:
        return [Finding("warning", "gyro", seen, "the acceleration shows movement but the gyro is almost still: "
                        "the values may be rad/s declared as deg/s", unit="rad/s")]
    return []


def check_mag(mag: np.ndarray, units: dict) -> list[Finding]:
    field = float(np.nanmedian(np.linalg.norm(mag, axis=1)))
    declared = _declared(units, "mag")
    seen = f"median |magnetic field| is {field:.3g} uT (declared {declared}; the Earth's is 25-65 uT)"
    if 0.15 <= field <= 1.0 and declared == "uT":
        return [Finding("error", "mag", seen, "the values look like gauss declared as uT", unit="gauss")]
    if 1500 <= field <= 10000 and declared == "gauss":
        return [Finding("error", "mag", seen, "the values look like uT declared as gauss", unit="uT")]
    if field > PHYSICAL_LIMITS["mag"]:
        return [Finding("error", "mag", seen, f"beyond {PHYSICAL_LIMITS['mag']:g} uT",
                        fix="check the unit and scaling of the mag columns")]
    if not 10.0 <= field <= 150.0:
        return [Finding("warning", "mag", seen, "far from the Earth's field: an uncalibrated magnetometer, "
                        "nearby metal, or another unit (milligauss?)")]
    return []


def _stretches(x: np.ndarray) -> np.ndarray:
    n = max(1, len(x) // STEP)
    return x[: n * STEP].reshape(n, -1, x.shape[1]) if len(x) >= STEP else x[None]


def check_signals(signals: np.ndarray, present: np.ndarray, units: dict) -> list[Finding]:
    """Findings for one recording: `signals` [T, 9] in SI units (declared units applied),
    `present` the channels it has, `units` what was declared (missing groups: SI defaults)."""
    out: list[Finding] = []
    x = np.asarray(signals, dtype=np.float64)
    groups = {"acc": slice(0, 3), "gyro": slice(3, 6), "mag": slice(6, 9)}
    has = {g: bool(np.all(present[s])) for g, s in groups.items()}
    if not len(x) or not np.isfinite(x[:, present]).any():
        return out
    if has["acc"]:
        out += check_acc(x[:, groups["acc"]], units)
    if has["gyro"]:
        out += check_gyro(x[:, groups["gyro"]], x[:, groups["acc"]] if has["acc"] else None, units)
    if has["mag"]:
        out += check_mag(x[:, groups["mag"]], units)
    return out


def raise_errors(findings: list[Finding], where: str, style: str = "meta") -> list[str]:
    """Raise UnitError for the first error; return the warnings as "where [group]: message"."""
    for f in findings:
        if f.level == "error":
            raise UnitError(f.render(style), where, field=f.group)
    return [f"{where} [{f.group}]: {f.render(style)}" for f in findings]
