"""Counts a running pooler's system calls with perf's tracepoints.

`perf stat -e raw_syscalls:sys_enter` counts in the kernel and costs far less than
strace, so the pooler runs at nearly its normal speed while counted. Where perf or
its tracepoints are not available the counts are simply absent from the report."""

import os
import shutil
import signal
import subprocess

# The calls a relay makes per transaction, then a login's; the rest are summed as "other".
KINDS = ("sendto", "recvfrom", "sendmsg", "recvmsg", "read", "write", "epoll_wait", "epoll_ctl", "io_uring_enter",
         # A new connection's own: what connect_storm's figures are made of.
         "accept", "accept4", "close", "setsockopt", "getsockname", "getpeername", "fcntl", "ioctl")


def available():
    if shutil.which("perf") is None:
        return False
    probe = subprocess.run(["perf", "stat", "-e", "raw_syscalls:sys_enter", "--", "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0


class SyscallCounter:
    """Counts system calls of `pid` (all its threads) between start() and stop()."""

    def __init__(self, pid, workdir):
        self.pid = pid
        self.output = os.path.join(workdir, f"perf-{pid}.csv")
        self.proc = None

    def start(self):
        events = ",".join(["raw_syscalls:sys_enter"] + [f"syscalls:sys_enter_{k}" for k in KINDS])
        self.proc = subprocess.Popen(["perf", "stat", "-x", ",", "-e", events, "-p", str(self.pid),
                                      "-o", self.output], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def stop(self):
        """Returns {"total": n, "sendto": n, ..., "other": n}, or None if perf failed."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        counts = {}
        try:
            with open(self.output) as f:
                for line in f:
                    fields = line.strip().split(",")
                    if len(fields) < 3 or not fields[0].isdigit():
                        continue
                    name = fields[2].split(":")[-1].removeprefix("sys_enter_")
                    counts["total" if name == "sys_enter" else name] = int(fields[0])
            os.remove(self.output)
        except OSError:
            return None
        if "total" not in counts:
            return None
        counts["other"] = counts["total"] - sum(counts.get(k, 0) for k in KINDS)
        return counts
