"""The machine a benchmark ran on, as its results file names it."""

from __future__ import annotations

import os
import platform
import time


def machine() -> str:
    """Cores (and their model), memory, Python and system: '2 cores (AMD EPYC), 24 GiB, Python 3.11.7, Linux'."""
    cpu = "unknown"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    return f"{os.cpu_count()} cores ({cpu}), {memory} GiB, Python {platform.python_version()}, {platform.system()}"


def header(title: str, command: str) -> list[str]:
    """A results file's first lines: its title, when and by which command it ran, on what."""
    return ["# " + title, "", f"Latest run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, `{command}`.", f"Machine: {machine()}."]
