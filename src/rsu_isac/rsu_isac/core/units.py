"""Physical constants and decibel conversions."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

SPEED_OF_LIGHT_MPS = 299_792_458.0


def db_to_linear(value_db: ArrayLike) -> NDArray[np.float64]:
    """Power ratio from decibels: 10^(x/10)."""
    return np.power(10.0, np.asarray(value_db, dtype=float) / 10.0)


def linear_to_db(value: ArrayLike) -> NDArray[np.float64]:
    """Decibels from a power ratio: 10 log10(x)."""
    return 10.0 * np.log10(np.asarray(value, dtype=float))


def dbm_to_watt(power_dbm: ArrayLike) -> NDArray[np.float64]:
    """Watts from dBm."""
    return db_to_linear(power_dbm) * 1e-3


def watt_to_dbm(power_w: ArrayLike) -> NDArray[np.float64]:
    """dBm from watts."""
    return linear_to_db(np.asarray(power_w, dtype=float) * 1e3)
