"""The grid's history: fault-prone lines and poor-quality 台区 (planted, recorded in truth.json), and the outages.

A line's fault rate is proportional to its number of 台区 (more transformers, more equipment to fail), so raw
counts are confounded by size; a planted line fails fault_prone_factor times as often as its size predicts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from insight.generate_latent import BoolArray, Calendar, Dates, FloatArray, IntArray, Params
from insight.generate_population import Topology

FAULT, PLANNED = 0, 1
SUMMER_STORMS = np.array([0.8, 0.8, 0.9, 1.0, 1.1, 1.4, 1.6, 1.5, 1.1, 0.9, 0.8, 0.9])  # by month of year


@dataclass
class Grid:
    """The planted causes and the outages; affected: (outage index, 台区 index) pairs, a line-level outage
    expanded to every 台区 of its line."""

    fault_prone_line: BoolArray
    poor_quality_tq: BoolArray
    line: IntArray
    tq: IntArray  # -1: the whole line
    kind: IntArray
    start: Dates  # datetime64[s]
    duration_min: IntArray
    affected_outage: IntArray
    affected_tq: IntArray

    def outages_table(self, topology: Topology) -> pa.Table:
        return pa.table(
            {
                "outage_id": [f"O{i + 1:07d}" for i in range(len(self.line))],
                "line_code": topology.line_code[self.line],
                "tq_code": pa.array(topology.tq_code[np.maximum(self.tq, 0)], mask=self.tq < 0),
                "kind": np.array(["fault", "planned"])[self.kind],
                "started_at": pa.array(self.start.astype("datetime64[us]")),
                "duration_min": self.duration_min.astype(np.int32),
            }
        )


def plant(topology: Topology, params: Params, rng: np.random.Generator) -> tuple[BoolArray, BoolArray]:
    """About fault_prone_line_share of the lines (at least 3, when there are that many) and poor_quality_tq_share
    of the 台区 (at least 1)."""
    n_lines, n_tqs = len(topology.line_code), len(topology.tq_code)
    lines = np.zeros(n_lines, dtype=bool)
    planted = max(1, min(max(3, round(params.fault_prone_line_share * n_lines)), n_lines // 2))  # never most lines
    lines[rng.choice(n_lines, size=planted, replace=False)] = True
    tqs = np.zeros(n_tqs, dtype=bool)
    tqs[rng.choice(n_tqs, size=max(1, round(params.poor_quality_tq_share * n_tqs)), replace=False)] = True
    return lines, tqs


def _events(rate: FloatArray, months: int, rng: np.random.Generator) -> tuple[IntArray, IntArray]:
    """Poisson events per (unit, month) at `rate` (n_units, months): the unit and month of each event."""
    counts = rng.poisson(rate)
    unit, month = np.nonzero(counts)
    reps = counts[unit, month]
    return np.repeat(unit, reps).astype(np.int64), np.repeat(month, reps).astype(np.int64)


def simulate_grid(topology: Topology, params: Params, calendar: Calendar, rng: np.random.Generator) -> Grid:
    fault_prone, poor_quality = plant(topology, params, rng)
    months = calendar.months
    season = SUMMER_STORMS[calendar.month_of_year][None, :]
    size = topology.tqs_per_line().astype(np.float64)
    factor = np.where(fault_prone, params.fault_prone_factor, 1.0)
    line_rate = params.fault_rate_per_tq_month * params.line_level_fault_share * size * factor
    tq_rate = params.fault_rate_per_tq_month * (1 - params.line_level_fault_share) * factor[topology.tq_line]
    f_line, f_line_month = _events(line_rate[:, None] * season, months, rng)
    f_tq, f_tq_month = _events(tq_rate[:, None] * season, months, rng)
    has_tqs = (size > 0)[:, None]
    p_unit, p_month = _events(np.where(has_tqs, params.planned_rate_per_line_month, 0.0), months, rng)
    by_line, first = _line_index(topology)
    one_tq = rng.random(len(p_unit)) < 0.4  # 40 % of planned work hits one 台区 of the line
    pick = first[p_unit] + (rng.random(len(p_unit)) * size[p_unit]).astype(np.int64)
    planned_tq = np.where(one_tq, by_line[np.minimum(pick, len(by_line) - 1)], -1)
    line = np.concatenate([f_line, topology.tq_line[f_tq], p_unit])
    tq = np.concatenate([np.full(len(f_line), -1), f_tq, planned_tq]).astype(np.int64)
    kind = np.concatenate([np.zeros(len(f_line) + len(f_tq)), np.ones(len(p_unit))]).astype(np.int64)
    month = np.concatenate([f_line_month, f_tq_month, p_month])
    n = len(line)
    month_days = (calendar.month_start(month + 1) - calendar.month_start(month)).astype(np.int64)
    day = (rng.random(n) * month_days).astype(np.int64)
    fault_second = (rng.random(n) * 86_400).astype(np.int64)
    planned_second = (8 + rng.integers(0, 2, n)) * 3600  # planned work starts at 08:00 or 09:00
    second = np.where(kind == FAULT, fault_second, planned_second)
    start = calendar.month_start(month).astype("datetime64[s]") + (day * 86_400 + second).astype("timedelta64[s]")
    area_class = topology.area_class[topology.line_area[line]]
    slow = np.select([area_class == "rural", area_class == "remote"], [1.4, 2.0], 1.0)
    fault_min = np.exp(rng.normal(np.log(90), 0.6, n)) * slow
    planned_min = rng.integers(4, 10, n) * 60.0
    duration = np.clip(np.round(np.where(kind == FAULT, fault_min, planned_min)), 10, 24 * 60).astype(np.int64)
    order = np.lexsort((line, start))
    line, tq, kind, start, duration = line[order], tq[order], kind[order], start[order], duration[order]
    affected_outage, affected_tq = _affected(topology, line, tq)
    return Grid(fault_prone, poor_quality, line, tq, kind, start, duration, affected_outage, affected_tq)


def _affected(topology: Topology, line: IntArray, tq: IntArray) -> tuple[IntArray, IntArray]:
    """(outage, 台区) pairs: a 台区-level outage hits its 台区, a line-level one every 台区 of the line (台区 of
    a line are contiguous in the synthetic topology, not in a given one: go through a sort)."""
    by_line, first = _line_index(topology)
    size = topology.tqs_per_line()
    whole = tq < 0
    counts = np.where(whole, size[line], 1)
    outage = np.repeat(np.arange(len(line)), counts)
    offset = np.arange(len(outage)) - np.repeat(np.cumsum(counts) - counts, counts)
    tqs = np.where(np.repeat(whole, counts), by_line[np.repeat(first[line], counts) + offset], np.repeat(tq, counts))
    return outage.astype(np.int64), tqs.astype(np.int64)


def _line_index(topology: Topology) -> tuple[IntArray, IntArray]:
    """台区 indices ordered by line, and where each line's run starts in that order."""
    by_line = np.argsort(topology.tq_line, kind="stable").astype(np.int64)
    first = np.searchsorted(topology.tq_line[by_line], np.arange(len(topology.line_code))).astype(np.int64)
    return by_line, first
