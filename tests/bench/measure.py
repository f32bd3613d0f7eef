"""Process accounting for one measured command: wall time, CPU seconds and peak memory of the process and
of every process it starts (the browser's node driver and Chromium's processes), sampled from /proc.

CPU: each process of the tree counts with the highest utime+stime seen for it (a process that exits between
two samples loses at most one interval). The total is the larger of that sum and the kernel's own total
from `wait4` (the command's time plus that of every descendant waited for, nothing lost between samples,
but blind to descendants that were killed and never waited for, as Chromium's helpers can be).

Memory: resident set (RSS) and proportional set (PSS, shared pages divided among the processes that share
them, so the sum over Chromium's processes is the memory they really take), summed per group at each
sample; the peaks are reported. The command's own peak RSS is the kernel's high-water mark (VmHWM).
"""
from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    """Direct children of a process (all its threads' children)."""
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            found.extend(int(c) for c in text.split())
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int, reaped: bool = False) -> float | None:
    """utime + stime of one process (not of its children); with `reaped`, cutime + cstime instead: the CPU of
    the children it has waited for."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    first = 13 if reaped else 11
    return (int(fields[first]) + int(fields[first + 1])) / TICKS


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB; zeros for a process that is gone."""
    rollup = _read(f"/proc/{pid}/smaps_rollup")
    if not rollup:
        return 0, 0
    values = {}
    for line in rollup.splitlines()[1:]:
        name, _, rest = line.partition(":")
        if name in ("Rss", "Pss"):
            values[name] = int(rest.split()[0])
    return values.get("Rss", 0), values.get("Pss", 0)


def command_name(pid: int) -> str:
    """The process name, with Chromium's process type (renderer, gpu-process, utility ...) when it has one:
    which kind of process the browser's CPU goes to."""
    name = (_read(f"/proc/{pid}/comm") or "?").strip()
    # Chromium rewrites its command line as one space-separated title, so search the whole of it.
    cmdline = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
    kind = re.search(r"--type=([\w-]+)", cmdline)
    service = re.search(r"--utility-sub-type=([\w.-]+)", cmdline)
    return " ".join([name, *(m.group(1) for m in (kind, service) if m)])


@dataclass
class Measurement:
    argv: list[str]
    returncode: int = 0
    seconds: float = 0.0
    cpu_total: float = 0.0             # the whole tree, from wait4
    cpu_descendants: float = 0.0       # sampled: node driver, Chromium, anything else started
    cpu_by_command: dict[str, float] = field(default_factory=dict)   # descendants, by process name
    peak_rss_mb: float = 0.0           # the command itself (VmHWM)
    peak_descendants_rss_mb: float = 0.0
    peak_descendants_pss_mb: float = 0.0
    peak_total_pss_mb: float = 0.0     # command + descendants at the same moment
    samples: int = 0

    @property
    def cpu_self(self) -> float:
        return max(0.0, self.cpu_total - self.cpu_descendants)

    def to_json(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "argv"}
        data["cpu_self"] = self.cpu_self
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in data.items()}


def run(argv: list[str], *, log: Path, interval: float = 0.5, env: dict | None = None) -> Measurement:
    """Run `argv` to the end (output to `log`), sampling its process tree every `interval` seconds."""
    result = Measurement(argv)
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    done = threading.Event()
    seen_cpu: dict[int, tuple[str, float]] = {}
    hwm_kb = 0
    own_cpu = 0.0

    def sample() -> None:
        nonlocal hwm_kb, own_cpu
        own_cpu = max(own_cpu, cpu_seconds(process.pid) or 0.0)
        own_rss, own_pss = memory_kb(process.pid)
        status = _read(f"/proc/{process.pid}/status") or ""
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                hwm_kb = max(hwm_kb, int(line.split()[1]))
        rss = pss = 0
        for pid in descendants(process.pid):
            cpu = cpu_seconds(pid)
            if cpu is not None:
                name = seen_cpu.get(pid, (command_name(pid), 0.0))[0]
                seen_cpu[pid] = (name, max(cpu, seen_cpu.get(pid, (name, 0.0))[1]))
            r, p = memory_kb(pid)
            rss, pss = rss + r, pss + p
        result.peak_descendants_rss_mb = max(result.peak_descendants_rss_mb, rss / 1024)
        result.peak_descendants_pss_mb = max(result.peak_descendants_pss_mb, pss / 1024)
        result.peak_total_pss_mb = max(result.peak_total_pss_mb, (own_pss + pss) / 1024)
        result.samples += 1

    def sampler() -> None:
        while not done.wait(interval):
            sample()

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    thread.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    result.returncode = process.returncode
    result.seconds = time.monotonic() - started
    result.cpu_descendants = sum(cpu for _, cpu in seen_cpu.values())
    # Descendants that were killed rather than waited for (Chromium's, when the browser closes) are missing
    # from wait4's total; the samples have them.
    result.cpu_total = max(usage.ru_utime + usage.ru_stime, own_cpu + result.cpu_descendants)
    for name, cpu in seen_cpu.values():
        result.cpu_by_command[name] = round(result.cpu_by_command.get(name, 0.0) + cpu, 3)
    result.peak_rss_mb = hwm_kb / 1024
    return result
