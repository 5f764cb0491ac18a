"""Incidents of the demo counties: call, mobilisation, turnout and arrival times per service, with
the planted effects of the control room and co-responding bids (world.PLANTED)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from flows.demo.world import (
    CATEGORIES,
    COUNTIES,
    DISTRICTS,
    INCIDENTS_PER_YEAR,
    PLANTED,
    TRAVEL_MEAN,
)


def _seconds_since(start: date, times: np.ndarray) -> np.ndarray:
    return times >= np.datetime64(start)


def incident_rows(rng: np.random.Generator, county: str, service: str, fy: int, scale: float):
    """One county's incidents for one service and financial year, as a DataFrame."""
    districts = [d for d in DISTRICTS if d.county == county]
    n = max(1, int(round(INCIDENTS_PER_YEAR[service] * scale)))
    weights = np.array([d.population for d in districts], dtype=float)
    which = rng.choice(len(districts), size=n, p=weights / weights.sum())
    rural = np.array([districts[i].rural for i in which])
    cats = CATEGORIES[service]
    category = rng.choice(list(cats), size=n, p=list(cats.values()))

    start = np.datetime64(f"{fy}-04-01T00:00:00")
    span = int((np.datetime64(f"{fy + 1}-04-01T00:00:00") - start) / np.timedelta64(1, "s"))
    call = np.sort(start + rng.integers(0, span, size=n).astype("timedelta64[s]"))
    years_on = (call - np.datetime64("2012-04-01T00:00:00")) / np.timedelta64(365, "D")
    is_northmoor = county == "Northmoor"

    if service == "fire":
        mobilised, mobile, arrival = _fire_times(rng, n, call, rural, years_on, is_northmoor)
    else:
        mobilised, mobile, arrival = _other_times(
            rng, n, service, category, call, rural, is_northmoor
        )

    def text(times):
        return np.char.replace(np.datetime_as_string(times, unit="s"), "T", " ")

    prefix = f"{COUNTIES[county]['prefix']}{service[0].upper()}"
    return pd.DataFrame(
        {
            "incident_id": [f"{prefix}{fy}-{i:06d}" for i in range(1, n + 1)],
            "service": service,
            "incident_category": category,
            "district_code": [districts[i].code for i in which],
            "call_time": text(call),
            "mobilised_time": text(mobilised),
            "mobile_time": text(mobile) if mobile is not None else "",
            "first_arrival_time": text(arrival),
        }
    )


def _fire_times(rng: np.random.Generator, n: int, call, rural, years_on, is_northmoor: bool):
    """Fire incidents' mobilised, mobile and first arrival times: call handling, turnout and
    drive, each drawn in turn."""
    handling = rng.gamma(40.0, 95.0 / 40.0, size=n)
    handling += np.where(
        call >= np.datetime64(PLANTED["call_handling_drift_start"]),
        PLANTED["call_handling_drift_seconds"],
        0.0,
    )
    if is_northmoor:
        handling += np.where(
            call >= np.datetime64(PLANTED["jcr_go_live"]),
            PLANTED["jcr_call_handling_change_seconds"],
            0.0,
        )
    turnout = rng.gamma(12.0, np.where(rural, 200.0, 95.0) / 12.0)
    drive = rng.gamma(6.0, (np.where(rural, 450.0, 290.0) + 3.0 * years_on) / 6.0)
    handling, turnout, drive = (np.maximum(x, 10.0).round() for x in (handling, turnout, drive))
    mobilised = call + handling.astype("timedelta64[s]")
    mobile = mobilised + turnout.astype("timedelta64[s]")
    arrival = mobile + drive.astype("timedelta64[s]")
    return mobilised, mobile, arrival


def _other_times(
    rng: np.random.Generator, n: int, service: str, category, call, rural, is_northmoor: bool
):
    """Ambulance and police incidents' mobilised and first arrival times (no mobile time)."""
    handling = np.maximum(rng.gamma(20.0, 75.0 / 20.0, size=n), 10.0).round()
    urban_mean = np.array([TRAVEL_MEAN[c][0] for c in category], dtype=float)
    rural_mean = np.array([TRAVEL_MEAN[c][1] for c in category], dtype=float)
    travel = rng.gamma(9.0, np.where(rural, rural_mean, urban_mean) / 9.0)
    if service == "ambulance":
        urgent = np.isin(category, ["cardiac_arrest", "C1"])
        travel += np.where(
            urgent & (call >= np.datetime64(PLANTED["ambulance_drift_start"])),
            PLANTED["ambulance_drift_seconds"],
            0.0,
        )
        if is_northmoor:
            co_responded = (
                (category == "cardiac_arrest")
                & rural
                & (call >= np.datetime64(PLANTED["co_responding_go_live"]))
            )
            travel += np.where(co_responded, PLANTED["co_responding_change_seconds"], 0.0)
    travel = np.maximum(travel, 30.0).round()
    mobilised = call + handling.astype("timedelta64[s]")
    mobile = None
    arrival = mobilised + travel.astype("timedelta64[s]")
    return mobilised, mobile, arrival
