"""Command line, daemon mode, signals."""

import os
import signal
import subprocess
import time

import psycopg
import pytest

from harness import wait_until, port_open


def test_Version(make_breakwater):
    bw = make_breakwater(start=False)
    out = subprocess.run([bw.binary, "-V"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "Breakwater" in out.stdout


def test_Daemon_WritesPidfileAndServes(make_breakwater):
    bw = make_breakwater(start=False, settings={"pidfile": "PLACEHOLDER"})
    pidfile = os.path.join(bw.dir, "bw.pid")
    text = open(bw.ini).read().replace("PLACEHOLDER", pidfile)
    open(bw.ini, "w").write(text)
    out = subprocess.run([bw.binary, "-d", bw.ini], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    pid = int(open(pidfile).read())
    try:
        with psycopg.connect(bw.dsn()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z",
               what="daemon to exit")
    assert not os.path.exists(pidfile)


def test_Daemon_StartupFailureFailsTheCommand(make_breakwater):
    bw = make_breakwater(start=False, settings={"pidfile": "/tmp/bw-never.pid", "listen_addr": "256.0.0.1"})
    out = subprocess.run([bw.binary, "-d", bw.ini], capture_output=True, text=True, timeout=20)
    assert out.returncode == 1
    assert "listen_addr" in out.stderr


def test_SecondInstanceOnSamePort_Refused(breakwater):
    out = subprocess.run([breakwater.binary, breakwater.ini], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert "cannot listen" in out.stderr or "in use" in out.stderr


def test_Sigint_WaitsForClientsThenExits(breakwater):
    conn = psycopg.connect(breakwater.dsn())
    breakwater.proc.send_signal(signal.SIGINT)
    wait_until(lambda: not port_open(breakwater.port), what="listeners to close")
    time.sleep(0.3)
    assert breakwater.proc.poll() is None, "exited while a client was connected"
    assert conn.execute("SELECT 1").fetchone() == (1,)
    conn.close()
    breakwater.proc.wait(timeout=10)
    assert breakwater.proc.returncode == 0


def test_Sigterm_ExitsAtOnce(breakwater):
    conn = psycopg.connect(breakwater.dsn())
    breakwater.proc.send_signal(signal.SIGTERM)
    breakwater.proc.wait(timeout=5)
    conn.close()


def test_LogLinesNameTheConnection(breakwater):
    with psycopg.connect(breakwater.dsn()) as conn:
        conn.execute("SELECT 1")
    wait_until(lambda: "closing because: client close request" in breakwater.log())
    log = breakwater.log()
    assert "login attempt: db=postgres user=postgres" in log
    assert " LOG C-0x" in log


def test_syslog_lines(make_breakwater):
    """syslog=1 sends each line, with its level word, under syslog_ident and the facility asked for.
    The test listens on /dev/log itself, which it can do only where no syslog daemon owns it."""
    import socket as sockets

    if os.path.exists("/dev/log"):
        pytest.skip("a syslog daemon owns /dev/log: the lines cannot be read back here")
    listener = sockets.socket(sockets.AF_UNIX, sockets.SOCK_DGRAM)
    try:
        listener.bind("/dev/log")
    except PermissionError:
        pytest.skip("/dev/log cannot be created by this user")
    try:
        listener.settimeout(10)
        bw = make_breakwater(settings={"syslog": "1", "syslog_ident": "bwtest", "syslog_facility": "local3"})
        with psycopg.connect(bw.dsn()) as conn:
            conn.execute("SELECT 1")
        lines = []
        while not any("login attempt" in line for line in lines):
            lines.append(listener.recv(4096).decode(errors="replace"))
        line = next(line for line in lines if "login attempt" in line)
        # <priority> = facility * 8 + severity: local3 (19) and info (6).
        assert line.startswith(f"<{19 * 8 + 6}>")
        assert "bwtest[" in line and "LOG C-0x" in line
    finally:
        listener.close()
        os.unlink("/dev/log")


def test_unknown_syslog_facility_stops_the_start(make_breakwater):
    bw = make_breakwater(start=False, settings={"syslog": "1", "syslog_facility": "nosuch"})
    bw.start(wait=False)
    assert bw.proc.wait(timeout=10) != 0
    assert 'unknown syslog_facility "nosuch"' in open(bw.output_path).read()


def worker_threads(bw):
    # The listening sockets open before the event loops start: wait until the pooler says all of them run.
    wait_until(lambda: "process up" in bw.log() or bw.proc.poll() is not None, what="the worker threads")
    pid = bw.proc.pid
    names = [open(f"/proc/{pid}/task/{tid}/comm").read().strip() for tid in os.listdir(f"/proc/{pid}/task")]
    return [name for name in names if name.startswith("bw-worker")]


def test_workers_zero_counts_the_cpus_the_affinity_mask_allows(make_breakwater):
    # A process confined to one CPU (taskset, a cpuset) runs one event loop, not one per CPU of the host.
    bw = make_breakwater(start=False, settings={"workers": "0"})
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    try:
        bw.start()  # the child inherits the mask
    finally:
        os.sched_setaffinity(0, allowed)
    assert len(worker_threads(bw)) == 1
    assert "1 worker threads" in bw.log() and "1 in the affinity mask" in bw.log()
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)



def make_cpu_limited_cgroup(cpus):
    """A cgroup of our own with a CPU quota, v2 or v1, or None where this host lets us make none."""
    period = 100000
    for base, write in (("/sys/fs/cgroup", lambda d: open(f"{d}/cpu.max", "w").write(f"{int(cpus * period)} {period}")),
                        ("/sys/fs/cgroup/cpu", lambda d: (open(f"{d}/cpu.cfs_period_us", "w").write(str(period)),
                                                          open(f"{d}/cpu.cfs_quota_us", "w").write(str(int(cpus * period)))))):
        path = f"{base}/breakwater-test-{os.getpid()}"
        try:
            os.mkdir(path)
        except OSError:
            continue
        if not os.path.exists(f"{path}/cgroup.procs"):  # a plain directory (a tmpfs above cgroup v1's mounts)
            os.rmdir(path)
            continue
        try:
            write(path)
            return path
        except OSError:
            os.rmdir(path)
    return None


def test_workers_zero_counts_the_cpu_time_the_cgroup_grants(make_breakwater):
    # A container limited to 1.5 CPUs gets two loops; to half a CPU, one.
    group = make_cpu_limited_cgroup(0.5)
    if group is None:
        pytest.skip("no cgroup with a CPU quota can be made here")
    bw = make_breakwater(start=False, settings={"workers": "0"})
    try:
        output = open(os.path.join(bw.dir, "breakwater.out"), "ab")
        bw.proc = subprocess.Popen(["/bin/sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$0" "$1"', bw.binary, bw.ini],
                                   stdout=output, stderr=subprocess.STDOUT)
        wait_until(lambda: port_open(bw.port) or bw.proc.poll() is not None, what="breakwater to listen")
        assert bw.proc.poll() is None, open(os.path.join(bw.dir, "breakwater.out")).read()
        assert len(worker_threads(bw)) == 1
        assert "cgroup quota 0.5 CPUs" in bw.log()
        with psycopg.connect(bw.dsn(), autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        bw.stop()
        wait_until(lambda: not open(f"{group}/cgroup.procs").read().strip(), what="the cgroup to empty")
        os.rmdir(group)
