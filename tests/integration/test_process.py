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
