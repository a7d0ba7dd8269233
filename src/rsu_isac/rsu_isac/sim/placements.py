"""002's Monte Carlo placements: a transmit RSU serving K UEs and illuminating one target,
a receive RSU hearing the target and C clutter patches (002 Sec. 4: "we randomize the
positions of the transmit RSU, receive RSU, UEs, and target, resulting in randomized
azimuth angles"). The numbers of 002's setting are lost with its Sections 2-3 in our copy;
ours (docs/isac_ocs.md says why) are in :class:`PlacementConfig`.

Every angle is drawn uniformly within 60 deg of broadside (30-150 deg from the array axis,
core.array's convention) at each end, independently (a bistatic pair sees one object at two
unrelated angles). The channels are line of sight with a uniform phase; the target and the
patches reflect with variances that include both arrays' gains N_t N_r (unit-norm steering
vectors in core.isac_metrics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.channel import los_channel
from rsu_isac.core.isac_metrics import BistaticScene
from rsu_isac.core.units import db_to_linear

ANGLE_RANGE_RAD = (np.deg2rad(30.0), np.deg2rad(150.0))


@dataclass(frozen=True)
class PlacementConfig:
    """002's setting as we fill it in (P = 0 dBW as 002; the rest our choice)."""

    num_tx_antennas: int = 16
    num_rx_antennas: int = 4  # 002 Fig. 3: "four receiving antenna sensors"
    users: int = 3
    clutter_patches: int = 6  # more than N_r - 1: the receive filter alone cannot null them
    snr_db: float = 5.0  # transmit SNR P / sigma^2 (002 Figs. 5, 6, 10: 0 and 5 dB)
    power_w: float = 1.0  # P = 0 dBW (002)
    target_gain: float = 1.0  # sensing channel gain variance of the target
    clutter_to_target_db: float = 10.0  # each patch's reflection against the target's
    user_distance_m: float = 0.0  # 0: unit gain; else LoS path loss (d0 / d)^2 ...
    reference_distance_m: float = 50.0  # ... with d0 (002 Fig. 7's x axis)

    @property
    def noise_w(self) -> float:
        """sigma^2 of the users and of the receive RSU [W]."""
        return self.power_w / db_to_linear(self.snr_db)


@dataclass(frozen=True)
class Placement:
    """One draw: unit-noise user channels G (K, N_t) (rows g_k = h_k^H / sigma), the users'
    angles [rad] and the sensing scene."""

    g: NDArray[np.complex128]
    user_rad: NDArray[np.float64]
    scene: BistaticScene


def draw_placement(rng: np.random.Generator, config: PlacementConfig) -> Placement:
    """A placement from ``rng`` (draw order: user angles, user phases, the target's and the
    patches' angles at the transmit RSU, then at the receive RSU)."""
    c, k = config, config.users
    low, high = ANGLE_RANGE_RAD
    user_rad = rng.uniform(low, high, k)
    phase = np.exp(2j * np.pi * rng.uniform(size=k))[:, None]
    gain = 1.0
    if c.user_distance_m > 0:
        gain = (c.reference_distance_m / c.user_distance_m) ** 2
    g = los_channel(user_rad, np.full(k, np.sqrt(gain)), c.num_tx_antennas) * phase
    at_tx = rng.uniform(low, high, 1 + c.clutter_patches)
    at_rx = rng.uniform(low, high, 1 + c.clutter_patches)
    arrays = c.num_tx_antennas * c.num_rx_antennas
    clutter = c.target_gain * db_to_linear(c.clutter_to_target_db)
    scene = BistaticScene(
        float(at_tx[0]),
        float(at_rx[0]),
        arrays * c.target_gain,
        at_tx[1:],
        at_rx[1:],
        np.full(c.clutter_patches, arrays * clutter),
        c.noise_w,
        c.num_rx_antennas,
    )
    return Placement(g / np.sqrt(c.noise_w), user_rad, scene)
