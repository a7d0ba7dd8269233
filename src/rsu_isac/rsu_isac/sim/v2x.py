"""The simulated vehicles' own reports (CAM-shaped, core.v2x) as the RSUs hear them.

A share of the vehicles (``V2xConfig.equipped_share``, drawn once per vehicle) broadcasts
every ``period_s`` from a random phase: its true position plus a GNSS error, its speed and
heading plus white errors, each with the 1-sigma the vehicle states. The GNSS error of each
axis is a first-order Gauss-Markov process, e_{k+1} = a e_k + sqrt(1 - a^2) sigma w_k with
a = exp(-period / correlation time) (a slowly wandering bias, as single-frequency GNSS
errs, not white noise: averaging reports does not remove it). A report is heard after a
delay uniform in ``latency_s`` and delivered in the first slot that has begun by then.
"""

from __future__ import annotations

import numpy as np

from rsu_isac.core.scenario import V2xConfig
from rsu_isac.core.v2x import VehicleReports
from rsu_isac.sim.traffic import VehicleStates


class ReportSource:
    """Generates and delivers reports slot by slot; every draw from ``rng``."""

    def __init__(self, config: V2xConfig, rng: np.random.Generator) -> None:
        self.config = config
        self._rng = rng
        self._equipped: dict[int, bool] = {}
        self._next_s: dict[int, float] = {}  # next generation time per equipped vehicle
        self._gnss_error: dict[int, np.ndarray] = {}
        self._in_flight: list[tuple[float, VehicleReports]] = []  # (delivery time, report)

    def step(self, time_s: float, vehicles: VehicleStates) -> VehicleReports:
        """Generate the reports of the vehicles on the road whose generation time has come
        (at ``time_s``, the slot's time: the road is simulated slot by slot) and return
        those delivered by ``time_s``, oldest first."""
        c = self.config
        if c.equipped_share > 0.0:
            present = set(vehicles.vehicle_id.tolist())
            for gone in [v for v in self._next_s if v not in present]:  # left the road
                del self._next_s[gone], self._equipped[gone]
                self._gnss_error.pop(gone, None)
            for k, vid in enumerate(vehicles.vehicle_id.tolist()):
                if vid not in self._next_s:
                    self._equipped[vid] = bool(self._rng.random() < c.equipped_share)
                    self._next_s[vid] = time_s + self._rng.uniform(0.0, c.period_s)
                if self._equipped[vid] and time_s >= self._next_s[vid]:
                    self._generate(vid, time_s, vehicles.position_xy[k], vehicles.velocity_xy[k])
                    self._next_s[vid] += c.period_s * np.ceil(
                        (time_s - self._next_s[vid]) / c.period_s + 1e-12
                    )
        due = [r for t, r in self._in_flight if t <= time_s]
        self._in_flight = [(t, r) for t, r in self._in_flight if t > time_s]
        if not due:
            return VehicleReports.empty()
        return _concatenate(due)

    def _generate(self, vid: int, time_s: float, position, velocity) -> None:
        c = self.config
        a = np.exp(-c.period_s / c.position_correlation_s) if c.position_correlation_s else 0.0
        noise = self._rng.standard_normal(2) * c.position_std_m
        previous = self._gnss_error.get(vid)
        error = noise if previous is None else a * previous + np.sqrt(1.0 - a * a) * noise
        self._gnss_error[vid] = error
        speed = float(np.hypot(*velocity)) + self._rng.standard_normal() * c.speed_std_mps
        heading_std = np.deg2rad(c.heading_std_deg)
        heading = float(np.arctan2(velocity[1], velocity[0]))
        heading += self._rng.standard_normal() * heading_std
        report = VehicleReports(
            np.array([vid], dtype=np.int64),
            np.array([time_s]),
            (np.asarray(position, dtype=float) + error)[None],
            np.array([c.position_std_m]),
            np.array([max(speed, 0.0)]),
            np.array([c.speed_std_mps]),
            np.array([heading]),
            np.array([heading_std]),
        )
        delay = self._rng.uniform(*c.latency_s)
        self._in_flight.append((time_s + delay, report))


def _concatenate(parts: list[VehicleReports]) -> VehicleReports:
    order = np.argsort([float(p.time_s[0]) for p in parts], kind="stable")
    parts = [parts[i] for i in order]
    fields = VehicleReports.__dataclass_fields__
    return VehicleReports(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))
