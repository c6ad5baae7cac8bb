"""CPU time of processes and of the machine, from ``/proc`` (Linux), for the portal bench.

On a shared 2-core machine wall-clock latencies move with everybody else's work; the CPU seconds a
process used for a known number of requests do not (much). The bench reads them before and after
each burst: the server's process tree (uvicorn and its worker processes), the PostgreSQL backends
of the bench database, the load generator's own processes, and the whole machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of ``pid``, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def processes(pids: list[int]) -> dict[int, float]:
    """CPU seconds per process, for ``pids`` that still exist."""
    out = {}
    for pid in pids:
        s = _stat(pid)
        if s is not None:
            out[pid] = s[1]
    return out


def tree(root: int) -> dict[int, float]:
    """CPU seconds per process of ``root`` and all its descendants (uvicorn's worker processes)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            s = _stat(int(entry))
            if s is not None:
                stats[int(entry)] = s
    out: dict[int, float] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in out:
            out[pid] = stats[pid][1]
            todo += [p for p, (parent, _) in stats.items() if parent == pid]
    return out


def used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings (a process started in between counts from zero; one
    that ended in between is lost — the caller says so)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@dataclass(frozen=True)
class Machine:
    """Busy and total CPU seconds of the whole machine (all cores) since boot."""

    busy: float
    total: float

    @staticmethod
    def read() -> Machine:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        total = sum(values[:8])  # without guest time, which is already in user
        return Machine(busy=(total - idle) / TICK, total=total / TICK)

    def since(self, earlier: Machine) -> tuple[float, float]:
        """(busy CPU seconds, available CPU seconds) in between."""
        return self.busy - earlier.busy, self.total - earlier.total
