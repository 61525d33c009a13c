"""Starts a throwaway PostgreSQL 15 and Breakwater processes for the integration suites."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

PG_BIN = "/usr/lib/postgresql/15/bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _as_postgres(cmd):
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


class Postgres:
    """A throwaway PostgreSQL 15. `tls`: (cert_file, key_file) turns ssl on; `hba`: replaces
    the default pg_hba.conf lines for TCP clients."""

    def __init__(self, tls=None, hba=None):
        self.tls = tls
        self.hba = hba
        self.dir = tempfile.mkdtemp(prefix="bw-pg-")
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.socket_dir = self.dir

    def start(self):
        subprocess.run(_as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                                     "--no-sync", "-E", "UTF8", "--locale=C"]),
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as hba:
            hba.write("local all all trust\n")
            hba.write(self.hba or ("host all md5user 127.0.0.1/32 md5\n"
                                   "host all pwuser 127.0.0.1/32 password\n"
                                   "host all scramuser 127.0.0.1/32 scram-sha-256\n"
                                   "host all lookupmd5 127.0.0.1/32 md5\n"
                                   "host all lookupscram 127.0.0.1/32 scram-sha-256\n"
                                   "host all all 127.0.0.1/32 trust\n"))
        opts = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c max_connections=200 -c shared_buffers=32MB")
        if self.tls:
            # PostgreSQL wants its key owned by itself and unreadable to others.
            for name, source in (("server.crt", self.tls[0]), ("server.key", self.tls[1])):
                target = os.path.join(self.data, name)
                shutil.copy(source, target)
                os.chmod(target, 0o600)
                if os.geteuid() == 0:
                    pw = pwd.getpwnam("postgres")
                    os.chown(target, pw.pw_uid, pw.pw_gid)
            opts += " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
        subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", opts, "-w",
                                     "-l", os.path.join(self.dir, "postgres.log"), "start"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.sql("SET password_encryption = 'md5'; CREATE ROLE md5user LOGIN PASSWORD 'md5secret' SUPERUSER;"
                 "CREATE ROLE pwuser LOGIN PASSWORD 'plainsecret' SUPERUSER;")
        self.sql("SET password_encryption = 'scram-sha-256'; "
                 "CREATE ROLE scramuser LOGIN PASSWORD 'scramsecret' SUPERUSER;")
        self.sql("CREATE DATABASE bench")

    def stop(self):
        subprocess.run(_as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def dsn(self, dbname="postgres", user="postgres"):
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"

    def ensure_database(self, name):
        if self.sql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == "0":
            self.sql(f"CREATE DATABASE {name}")

    def ensure_role(self, name):
        if self.sql(f"SELECT count(*) FROM pg_roles WHERE rolname = '{name}'") == "0":
            self.sql(f"CREATE ROLE {name} LOGIN")

    def sql(self, query, dbname="postgres"):
        out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.dsn(dbname),
                              "-c", query], check=True, capture_output=True, text=True)
        return out.stdout.strip()


def backends(postgres, where):
    """Client backends matching an SQL condition on pg_stat_activity, this query's own excluded."""
    return int(postgres.sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                            f"AND pid <> pg_backend_pid() AND {where}"))


class PeakWatcher(threading.Thread):
    """Samples how many backends match `where`, until stopped; keeps the peak."""

    def __init__(self, postgres, where):
        super().__init__(daemon=True)
        self.postgres, self.where, self.peak, self.running = postgres, where, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, backends(self.postgres, self.where))
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.join()
        return self.peak


class ServerPeakWatcher(threading.Thread):
    """Samples, through the admin console (SHOW SERVERS), how many server connections
    Breakwater holds that match `keep(row)`; keeps the peak. What a cap bounds: a server
    Breakwater has closed may still show in pg_stat_activity while its backend exits,
    and its slot is already someone else's, as in PgBouncer."""

    def __init__(self, bw, keep):
        super().__init__(daemon=True)
        self.bw, self.keep, self.peak, self.running = bw, keep, 0, True
        self.ready = threading.Event()

    def run(self):
        import psycopg
        # prepare_threshold=None: the console takes simple queries only.
        with psycopg.connect(self.bw.dsn("pgbouncer"), autocommit=True, prepare_threshold=None) as admin:
            self.ready.set()
            while self.running:
                cur = admin.execute("SHOW SERVERS")
                names = [c.name for c in cur.description]
                rows = [dict(zip(names, r)) for r in cur.fetchall()]
                self.peak = max(self.peak, sum(1 for row in rows if self.keep(row)))
                time.sleep(0.005)

    def start(self):
        super().start()
        if not self.ready.wait(10):
            raise RuntimeError("the admin console did not answer")

    def stop(self):
        self.running = False
        self.join()
        return self.peak


class Breakwater:
    """One Breakwater process with a generated pgbouncer.ini."""

    def __init__(self, binary, postgres, workdir, databases=None, settings=None, users=None, user_settings=None,
                 env=None):
        self.binary = binary
        self.env = {**os.environ, **env} if env else None
        self.postgres = postgres
        self.dir = workdir
        self.port = free_port()
        self.ini = os.path.join(workdir, "pgbouncer.ini")
        self.log_path = os.path.join(workdir, "breakwater.log")
        self.proc = None
        pg = f"host=127.0.0.1 port={postgres.port}"
        dbs = {"postgres": pg, "bench": f"{pg} dbname=bench"}
        dbs.update(databases or {})
        base = {"listen_addr": "127.0.0.1", "listen_port": str(self.port), "unix_socket_dir": workdir,
                "auth_type": "trust", "auth_file": os.path.join(workdir, "userlist.txt"),
                "logfile": self.log_path, "server_connect_timeout": "5", "workers": "2"}
        base.update(settings or {})
        self.unix_socket = (os.path.join(base["unix_socket_dir"], f".s.PGSQL.{base['listen_port']}")
                            if base.get("unix_socket_dir") else None)
        userlist = {"postgres": "", "md5user": "md5secret", "pwuser": "plainsecret"}
        userlist.update(users or {})
        with open(base["auth_file"], "w") as f:
            for name, secret in userlist.items():
                f.write(f'"{name}" "{secret}"\n')
        with open(self.ini, "w") as f:
            f.write("[databases]\n")
            for name, value in dbs.items():
                if value is not None:
                    f.write(f"{name} = {value}\n")
            if user_settings:
                f.write("[users]\n")
                for name, value in user_settings.items():
                    f.write(f"{name} = {value}\n")
            f.write("[pgbouncer]\n")
            for key, value in base.items():
                f.write(f"{key} = {value}\n")

    def start(self, extra_args=(), wait=True):
        # stderr goes to a file: a pipe nobody reads would fill and block the pooler's logging.
        self.output_path = os.path.join(self.dir, "breakwater.out")
        with open(self.output_path, "ab") as output:
            self.proc = subprocess.Popen([self.binary, *extra_args, self.ini], stdout=output,
                                         stderr=subprocess.STDOUT, env=self.env)
        if wait:
            wait_until(lambda: port_open(self.port) or self.proc.poll() is not None, what="breakwater to listen")
            assert self.proc.poll() is None, f"breakwater exited: {open(self.output_path).read()}"
            # The unix socket is bound after the TCP listeners: a test that connects
            # through it must not race its creation (slow under ASan).
            if self.unix_socket:
                wait_until(lambda: os.path.exists(self.unix_socket) or self.proc.poll() is not None,
                           what="breakwater's unix socket")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def dsn(self, dbname="postgres", user="postgres", **extra):
        parts = [f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"]
        parts += [f"{k}={v}" for k, v in extra.items()]
        return " ".join(parts)

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"{field} not found")


def kill_client_mid_transaction(dsn):
    """A client that opens a transaction (with a temp table) and dies by SIGKILL; returns its backend pid."""
    script = ("import psycopg, os\n"
              f"c = psycopg.connect('{dsn}')\n"
              "c.execute('CREATE TEMP TABLE t (x int)')\n"
              "print(c.execute('SELECT pg_backend_pid(), txid_current()').fetchone()[0], flush=True)\n"
              "os.kill(os.getpid(), 9)\n")
    out = subprocess.run(["/usr/bin/python3", "-c", script], capture_output=True, text=True, timeout=30)
    return int(out.stdout.strip())
