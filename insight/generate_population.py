"""Who the generator writes history for: the topology (area -> line -> 台区) and the customers with what the CIS
knows of them. Either synthetic (scaled by the customer count) or given (the product's own CIS, see
insight/generate_backend.py)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

AREA_CLASSES = ("urban", "rural", "remote")
DISTRICT_NAMES = ("城东区", "城西区", "城南区", "城北区", "高新区", "江北区", "临江县", "青山县", "石门县", "桃源镇")
ELDERLY_BORN_BY = 1960

StrArray = npt.NDArray[np.str_]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Topology:
    """Areas, feeder lines and 台区; lines and 台区 point at their parent by index."""

    area_code: StrArray
    area_name: StrArray
    area_class: StrArray
    line_code: StrArray
    line_name: StrArray
    line_area: IntArray
    tq_code: StrArray
    tq_name: StrArray
    tq_line: IntArray

    @property
    def tq_area(self) -> IntArray:
        return self.line_area[self.tq_line]

    def tqs_per_line(self) -> IntArray:
        return np.bincount(self.tq_line, minlength=len(self.line_code)).astype(np.int64)


@dataclass
class Population:
    """One row per customer: the CIS attributes, and where the customer hangs in the topology (tq -1: unknown)."""

    topology: Topology
    account_no: StrArray
    area: IntArray
    tq: IntArray
    prepaid: BoolArray
    solar: BoolArray
    low_income: BoolArray
    birth_year: IntArray
    opened: npt.NDArray[np.datetime64]  # datetime64[D]
    # what the CIS shows today that the history must end with: the account owes now (a negative prepaid balance).
    # None for a synthetic population, whose latent causes alone decide.
    owing_now: BoolArray | None = None

    def __len__(self) -> int:
        return len(self.account_no)

    @property
    def line(self) -> IntArray:
        return np.where(self.tq >= 0, self.topology.tq_line[np.maximum(self.tq, 0)], -1)

    def take(self, rows: slice) -> Population:
        return Population(
            self.topology,
            self.account_no[rows],
            self.area[rows],
            self.tq[rows],
            self.prepaid[rows],
            self.solar[rows],
            self.low_income[rows],
            self.birth_year[rows],
            self.opened[rows],
            None if self.owing_now is None else self.owing_now[rows],
        )


def _sizes_summing_to(total: int, low: int, high: int, rng: np.random.Generator) -> IntArray:
    """Group sizes in [low, high] adding up to total (the last group takes the remainder, merged if too small)."""
    sizes = rng.integers(low, high + 1, size=total // low + 1)
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, total))  # the first group reaching the total
    out = sizes[: k + 1].copy()
    out[k] -= int(ends[k]) - total
    if k > 0 and out[k] < low // 2:
        out[k - 1] += out[k]
        out = out[:k]
    return out.astype(np.int64)


def synthetic_topology(
    customers: int,
    rng: np.random.Generator,
    *,
    tq_size: tuple[int, int] = (60, 250),
    tqs_per_line: tuple[int, int] = (3, 25),
) -> tuple[Topology, IntArray]:
    """Topology for `customers`, and the customer count of each 台区. Lines vary widely in size (3-25 台区), so raw
    per-line counts are confounded by size."""
    tq_sizes = _sizes_summing_to(customers, *tq_size, rng)
    line_sizes = _sizes_summing_to(len(tq_sizes), *tqs_per_line, rng)
    area_sizes = _sizes_summing_to(len(line_sizes), 2, 6, rng)
    n_areas = len(area_sizes)
    area_class = rng.choice(np.array(AREA_CLASSES), size=n_areas, p=[0.5, 0.35, 0.15])
    area_class[0] = "urban"
    area_code = np.array([f"A{i + 1:02d}" for i in range(n_areas)])
    area_name = np.array(
        [f"{DISTRICT_NAMES[i % len(DISTRICT_NAMES)]}{i // len(DISTRICT_NAMES) + 1}网格" for i in range(n_areas)]
    )
    line_area = np.repeat(np.arange(n_areas), area_sizes)
    line_code = np.array([f"L{a + 1:02d}{i + 1:03d}" for i, a in enumerate(line_area)])
    line_name = np.array([f"10kV {area_name[a]}{i + 1}号线" for i, a in enumerate(line_area)])
    tq_line = np.repeat(np.arange(len(line_sizes)), line_sizes)
    tq_code = np.array([f"TQ{i + 1:06d}" for i in range(len(tq_sizes))])
    tq_name = np.array([f"{line_name[ln][5:]}{i + 1}号台区" for i, ln in enumerate(tq_line)])
    topology = Topology(
        area_code, area_name, area_class, line_code, line_name, line_area.astype(np.int64), tq_code, tq_name, tq_line
    )
    return topology, tq_sizes


def synthetic_population(customers: int, seed: int, window_start: np.datetime64, window_days: int) -> Population:
    """A synthetic CIS: topology and customers, the attributes' shares depending on the area class."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    topology, tq_sizes = synthetic_topology(customers, rng)
    tq = np.repeat(np.arange(len(tq_sizes)), tq_sizes).astype(np.int64)
    area = topology.tq_area[tq]
    cls = np.select([topology.area_class == c for c in AREA_CLASSES], range(len(AREA_CLASSES)), 0)[area]

    def pick(shares: tuple[float, float, float]) -> BoolArray:  # shares for (urban, rural, remote)
        return np.asarray(rng.random(customers) < np.array(shares)[cls])

    low_income = pick((0.04, 0.08, 0.12))
    prepaid = pick((0.25, 0.15, 0.10))
    solar = pick((0.02, 0.08, 0.05))
    birth_year = np.clip(np.round(rng.normal(1972, 14, customers)) - np.array((0, 5, 7))[cls], 1930, 2004)
    numbers = rng.choice(90_000_000, size=customers, replace=False) + 10_000_000
    account_no = np.char.add("32", numbers.astype("U8"))
    opened_before = window_start - rng.integers(30, 7300, customers).astype("timedelta64[D]")
    opened_during = window_start + rng.integers(0, max(window_days - 30, 1), customers).astype("timedelta64[D]")
    opened = np.where(rng.random(customers) < 0.06, opened_during, opened_before)
    return Population(topology, account_no, area, tq, prepaid, solar, low_income, birth_year.astype(np.int64), opened)


def stable_hash(text: str, salt: str = "") -> int:
    """A hash of a string that is the same in every process (Python's hash() is salted per process)."""
    return zlib.crc32(f"{salt}:{text}".encode())


def birth_year_of(account_no: str) -> int:
    """A birth year for an account holder the CIS has none for, derived from the account number (deterministic)."""
    h = stable_hash(account_no, "birth")
    return 1935 + h % 40 + (h >> 8) % 30  # 1935-2003, peaked around the 1970s like real holders


def opened_of(account_no: str, window_start: np.datetime64, window_days: int) -> np.datetime64:
    """An opening date for an account the CIS has none for: 94 % before the history starts (deterministic)."""
    h = stable_hash(account_no, "opened")
    if h % 100 < 6:
        return window_start + np.timedelta64(int((h >> 8) % max(window_days - 30, 1)), "D")
    return window_start - np.timedelta64(30 + int((h >> 8) % 7300), "D")
