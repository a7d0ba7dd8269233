"""Keep freed memory in the process heap, as the ROS 2 real-time demos do (``rttest``:
glibc ``mallopt`` of M_TRIM_THRESHOLD and M_MMAP_MAX).

Radar processing allocates cubes of several MB every slot. With glibc's defaults such a
block can be a fresh ``mmap`` whose pages the kernel faults in and zeroes again: on the
2-core box the transform of a 32 x 64 x 128 echo took 3.8 ms from the heap and up to 11 ms
that way, and the whole frame (seed004, a new echo per slot) 14.7 ms instead of 15.8 ms
median. Off glibc this does nothing."""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # <malloc.h>: give heap memory back above this much free at the top
M_MMAP_MAX = -4  # <malloc.h>: most blocks served by mmap at once


def keep_heap_memory() -> bool:
    """Serve every block from the heap and never trim it; whether it applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, -1))
