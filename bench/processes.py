"""Throwaway PostgreSQL and the two poolers for the benchmarks, with /proc readings."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

PG_BIN = "/usr/lib/postgresql/15/bin"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port}")


def as_postgres(cmd):
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


def cpu_seconds(pid):
    """(user, system) CPU seconds of a process so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" of the command name, utime and stime are fields 12 and 13 (0-based 11, 12).
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def _status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_kib(pid):
    return _status_kib(pid, "VmHWM")


def current_rss_kib(pid):
    return _status_kib(pid, "VmRSS")


class Postgres:
    """A PostgreSQL 15 cluster in a temporary folder on loopback, fsync off."""

    def __init__(self, max_connections=300):
        self.dir = tempfile.mkdtemp(prefix="bw-bench-pg-")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.max_connections = max_connections

    def start(self):
        subprocess.run(as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                                    "--no-sync", "-E", "UTF8", "--locale=C"]), check=True, stdout=subprocess.DEVNULL)
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c max_connections={self.max_connections} -c shared_buffers=256MB")
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", opts, "-w", "-l",
                                    os.path.join(self.dir, "postgres.log"), "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        return self

    def stop(self):
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def pgbench_init(self, scale):
        subprocess.run([f"{PG_BIN}/pgbench", "-i", "-q", "-s", str(scale), "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", "postgres", "postgres"], check=True, capture_output=True)


class Pooler:
    """Breakwater or PgBouncer with the same pgbouncer.ini, in front of `postgres`."""

    def __init__(self, kind, binary, postgres, workdir, pool_mode="transaction", pool_size=20, extra=None):
        self.kind, self.binary, self.postgres = kind, binary, postgres
        self.dir = os.path.join(workdir, kind)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.pid = None
        settings = {
            "listen_addr": "127.0.0.1", "listen_port": self.port, "unix_socket_dir": "",
            "auth_type": "trust", "auth_file": os.path.join(self.dir, "users.txt"),
            "pool_mode": pool_mode, "default_pool_size": pool_size, "max_client_conn": 20000,
            "logfile": os.path.join(self.dir, f"{kind}.log"),
            "log_connections": 0, "log_disconnections": 0,
        }
        settings.update(extra or {})
        with open(settings["auth_file"], "w") as f:
            f.write('"postgres" ""\n')
        self.ini = os.path.join(self.dir, "pgbouncer.ini")
        with open(self.ini, "w") as f:
            f.write(f"[databases]\npostgres = host=127.0.0.1 port={postgres.port}\n[pgbouncer]\n")
            for key, value in settings.items():
                f.write(f"{key} = {value}\n")
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (self.dir, self.ini, settings["auth_file"]):
                os.chown(path, user.pw_uid, user.pw_gid)

    def start(self):
        if self.kind == "pgbouncer":
            # -u: PgBouncer refuses to run as root; it keeps the raised open-files limit.
            user = ["-u", "postgres"] if os.geteuid() == 0 else []
            cmd = [self.binary, "-q", *user, self.ini]
        else:
            cmd = [self.binary, "-q", self.ini]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc, self.kind)
        self.pid = self.proc.pid
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
