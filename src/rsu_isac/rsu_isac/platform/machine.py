"""What machine a result was measured on (reports, experiment manifests, benchmarks)."""

from __future__ import annotations

import os
import platform

import numpy as np


def machine_description() -> str:
    """Processor, core count, Python and numpy versions, in one line."""
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
