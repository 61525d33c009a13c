"""Live control: PAUSE/RESUME from the console and by SIGUSR1/SIGUSR2, and RELOAD
resizing an open pool (pg_stat_activity shows it)."""

import signal
import threading
import time

import psycopg
import pytest

from harness import backends, wait_until


@pytest.fixture
def bw(make_breakwater, postgres):
    postgres.ensure_database("livectl")
    return make_breakwater(databases={"livectl": f"host=127.0.0.1 port={postgres.port} dbname=livectl"},
                           settings={"admin_users": "postgres", "pool_mode": "transaction",
                                     "default_pool_size": "2", "query_wait_timeout": "30"})


def console(bw):
    return psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True)


def run_in_thread(fn):
    result = {}

    def body():
        try:
            result["value"] = fn()
        except Exception as error:  # noqa: BLE001 - the test reads it
            result["error"] = error

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, result


def pool_row(bw, database="livectl"):
    with console(bw) as conn:
        cur = conn.execute("SHOW POOLS")
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return next(r for r in rows if r["database"] == database)


def test_pause_waits_for_transactions_then_holds_queries_until_resume(bw, postgres):
    app = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    app.execute("BEGIN")
    app.execute("SELECT 1")
    admin = console(bw)
    pausing, paused = run_in_thread(lambda: admin.execute("PAUSE livectl"))
    time.sleep(0.5)
    assert pausing.is_alive(), "PAUSE waits for the open transaction"
    app.execute("COMMIT")
    pausing.join(timeout=10)
    assert not pausing.is_alive() and "error" not in paused
    # Paused: its servers are closed, and a new query waits.
    wait_until(lambda: backends(postgres, "datname = 'livectl'") == 0, what="servers closed by PAUSE")
    querying, answer = run_in_thread(lambda: app.execute("SELECT 42").fetchone()[0])
    wait_until(lambda: pool_row(bw)["cl_waiting"] == 1, what="the query waiting")
    time.sleep(0.3)
    assert querying.is_alive()
    with console(bw) as conn:
        state = dict(conn.execute("SHOW STATE").fetchall())
        assert state["paused"] == "no", "a database pause is not a global one"
        cur = conn.execute("SHOW DATABASES")
        names = [c.name for c in cur.description]
        db = next(dict(zip(names, r)) for r in cur.fetchall() if r[0] == "livectl")
        assert db["paused"] == 1
    admin.execute("RESUME livectl")
    querying.join(timeout=10)
    assert answer.get("value") == 42
    with pytest.raises(psycopg.errors.ProtocolViolation, match="database livectl is not paused"):
        admin.execute("RESUME livectl")
    admin.close()
    app.close()


def test_pause_errors(bw):
    with console(bw) as conn:
        with pytest.raises(psycopg.errors.ProtocolViolation, match="no such database: nosuch"):
            conn.execute("PAUSE nosuch")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="cannot pause admin db"):
            conn.execute("PAUSE pgbouncer")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="pooler is not paused/suspended"):
            conn.execute("RESUME")
        conn.execute("PAUSE")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="already suspended/paused"):
            conn.execute("PAUSE")
        assert dict(conn.execute("SHOW STATE").fetchall())["paused"] == "yes"
        conn.execute("RESUME")


def test_sigusr1_pauses_and_sigusr2_resumes(bw):
    app = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    assert app.execute("SELECT 1").fetchone()[0] == 1
    bw.proc.send_signal(signal.SIGUSR1)
    wait_until(lambda: "got SIGUSR1" in bw.log(), what="the pause")
    querying, answer = run_in_thread(lambda: app.execute("SELECT 7").fetchone()[0])
    time.sleep(0.5)
    assert querying.is_alive(), "paused: the query waits"
    with console(bw) as conn:
        assert dict(conn.execute("SHOW STATE").fetchall())["paused"] == "yes"
    bw.proc.send_signal(signal.SIGUSR2)
    querying.join(timeout=10)
    assert answer.get("value") == 7
    app.close()


def test_reload_resizes_an_open_pool(bw, postgres):
    stop = threading.Event()
    errors = []

    def client():
        try:
            with psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None) as conn:
                while not stop.is_set():
                    conn.execute("SELECT pg_sleep(0.05)")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    try:
        where = "datname = 'livectl'"
        wait_until(lambda: backends(postgres, where) == 2, what="pool_size 2 in use")
        text = open(bw.ini).read().replace("default_pool_size = 2", "default_pool_size = 5")
        with open(bw.ini, "w") as f:
            f.write(text)
        with console(bw) as conn:
            conn.execute("RELOAD")
        wait_until(lambda: backends(postgres, where) == 5, timeout=15, what="pool_size 5 after RELOAD")
        with console(bw) as conn:
            conn.execute("SET default_pool_size = 1")
        # The surplus closes as it comes back, under load too.
        wait_until(lambda: backends(postgres, where) == 1, timeout=15, what="pool_size 1 after SET")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    assert errors == []


def test_sigint_waits_for_open_transactions_not_for_idle_clients(bw):
    idle = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    idle.execute("SELECT 1")
    busy = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    busy.execute("BEGIN")
    busy.execute("SELECT 1")
    bw.proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert bw.proc.poll() is None, "a transaction is still open"
    assert busy.execute("SELECT 2").fetchone()[0] == 2, "the open transaction carries on"
    busy.execute("COMMIT")
    # Transaction pooling: an idle client holds no server, so nothing is left to wait for.
    assert bw.proc.wait(timeout=10) == 0
    idle.close()
    busy.close()


def test_shutdown_wait_for_clients(bw):
    app = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    with console(bw) as conn:
        conn.execute("SHUTDOWN WAIT_FOR_CLIENTS")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="invalid command"):
            conn.execute("SHUTDOWN NOW")
    time.sleep(0.3)
    assert bw.proc.poll() is None, "a client is still connected"
    assert app.execute("SELECT 5").fetchone()[0] == 5
    app.close()
    assert bw.proc.wait(timeout=10) == 0


def test_disable_and_enable(bw):
    kept = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    with console(bw) as conn:
        with pytest.raises(psycopg.errors.ProtocolViolation, match="a database is required"):
            conn.execute("DISABLE")
        conn.execute("DISABLE livectl")
        cur = conn.execute("SHOW DATABASES")
        names = [c.name for c in cur.description]
        assert next(dict(zip(names, r)) for r in cur.fetchall() if r[0] == "livectl")["disabled"] == 1
    with pytest.raises(psycopg.OperationalError, match="database does not allow connections: livectl"):
        psycopg.connect(bw.dsn(dbname="livectl")).close()
    assert kept.execute("SELECT 1").fetchone()[0] == 1, "connected clients carry on"
    with console(bw) as conn:
        conn.execute("ENABLE livectl")
    psycopg.connect(bw.dsn(dbname="livectl")).close()
    kept.close()


def test_reconnect_then_wait_close(bw):
    app = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    app.execute("BEGIN")
    first_pid = app.execute("SELECT pg_backend_pid()").fetchone()[0]
    admin = console(bw)
    admin.execute("RECONNECT livectl")
    cur = admin.execute("SHOW SERVERS")
    names = [c.name for c in cur.description]
    lent = next(dict(zip(names, r)) for r in cur.fetchall() if r[names.index("remote_pid")] == first_pid)
    assert lent["close_needed"] == 1 and lent["state"] == "active"
    waiting, done = run_in_thread(lambda: admin.execute("WAIT_CLOSE livectl"))
    time.sleep(0.3)
    assert waiting.is_alive(), "the lent server is still open"
    app.execute("COMMIT")
    waiting.join(timeout=10)
    assert "error" not in done
    assert app.execute("SELECT pg_backend_pid()").fetchone()[0] != first_pid, "a new server after RECONNECT"
    admin.close()
    app.close()


def test_kill_drops_the_database_clients_until_resume(bw):
    victim = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    victim.execute("SELECT 1")
    other = psycopg.connect(bw.dsn(dbname="postgres"), autocommit=True, prepare_threshold=None)
    with console(bw) as conn:
        conn.execute("KILL livectl")
    with pytest.raises(psycopg.OperationalError):
        victim.execute("SELECT 2")
    assert other.execute("SELECT 3").fetchone()[0] == 3, "other databases are untouched"
    newcomer = psycopg.connect(bw.dsn(dbname="livectl"), autocommit=True, prepare_threshold=None)
    querying, answer = run_in_thread(lambda: newcomer.execute("SELECT 4").fetchone()[0])
    time.sleep(0.3)
    assert querying.is_alive(), "a killed database waits for RESUME"
    with console(bw) as conn:
        conn.execute("RESUME livectl")
    querying.join(timeout=10)
    assert answer.get("value") == 4
    newcomer.close()
    other.close()
