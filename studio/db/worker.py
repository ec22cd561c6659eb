"""Which process sent a pending request (`generations.worker`), and whether that process still runs.

A worker is `host:pid:start`, start being the process's start time in clock ticks since boot (Linux
/proc). The pid alone is not enough: in a container the studio is often pid 1 or 7 again after a
restart, and a reused pid would make a crashed request look alive for ever. Rows written before the
start was added hold `host:pid` and are judged by the pid alone.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache


def _start_ticks(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), or None where /proc is not there."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count the fields after its ')'.
    return stat.rsplit(")", 1)[1].split()[19]


_own_start = lru_cache(maxsize=None)(_start_ticks)  # this process's own start never changes


def current_worker() -> str:
    """This process (computed each time: a forked child is another worker)."""
    pid = os.getpid()
    start = _own_start(pid)
    return f"{socket.gethostname()}:{pid}" + (f":{start}" if start else "")


@dataclass(frozen=True)
class Worker:
    host: str
    pid: int | None
    start: str | None

    @classmethod
    def parse(cls, text: str | None) -> "Worker":
        host, _, rest = (text or "").partition(":")
        pid, _, start = rest.partition(":")
        # pid_max is at most 2**22 on Linux; 0 would mean "my process group" to os.kill.
        return cls(host, int(pid) if pid.isdigit() and 0 < int(pid) <= 2**22 else None, start or None)

    def here(self) -> bool:
        return self.pid is not None and self.host == socket.gethostname()

    def alive(self) -> bool:
        """Whether this process still runs (only answerable on its own host: see `here`)."""
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # it exists, under another user
        return self.start is None or _start_ticks(self.pid) == self.start
