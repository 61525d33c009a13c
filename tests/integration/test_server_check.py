"""server_check_query and server_check_delay against a real PostgreSQL: a server that
sat idle past the delay runs the check before a client gets it, one that fails the
check is closed and replaced, and SHOW POOLS/SERVERS count such servers as used.

The check query advances a sequence, so PostgreSQL itself counts the checks."""

import time

import psycopg

from harness import wait_until

CHECK = "SELECT nextval('bw_checks')"


def checks_run(postgres):
    return int(postgres.sql("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM bw_checks"))


def fresh_sequence(postgres):
    postgres.sql("DROP SEQUENCE IF EXISTS bw_checks; CREATE SEQUENCE bw_checks")


def app(bw):
    return psycopg.connect(bw.dsn(), autocommit=True, prepare_threshold=None)


def console(bw):
    return psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True)


def pool_row(bw):
    with console(bw) as admin:
        cur = admin.execute("SHOW POOLS")
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, row)) for row in cur.fetchall()]
    return next(r for r in rows if r["database"] == "postgres" and r["user"] == "postgres")


def test_DelayZero_ChecksEveryIdleServerBeforeUse(make_breakwater, postgres):
    fresh_sequence(postgres)
    bw = make_breakwater(settings={"pool_mode": "transaction", "server_check_delay": "0",
                                   "server_check_query": CHECK})
    with app(bw) as conn:
        for i in range(10):
            assert conn.execute("SELECT %s::int", (i,)).fetchone() == (i,)
    # Each transaction took the one server from the idle list; only the login or
    # the first transaction, whichever opened it, had a fresh one (never checked).
    assert 9 <= checks_run(postgres) <= 10


def test_ServersReusedWithinTheDelayAreNotChecked(make_breakwater, postgres):
    fresh_sequence(postgres)
    bw = make_breakwater(settings={"pool_mode": "transaction", "server_check_delay": "30",
                                   "server_check_query": CHECK})
    with app(bw) as conn:
        for _ in range(10):
            conn.execute("SELECT 1")
    assert checks_run(postgres) == 0


def test_IdlePastTheDelay_ShowsAsUsedThenIsCheckedOnce(make_breakwater, postgres):
    fresh_sequence(postgres)
    bw = make_breakwater(settings={"admin_users": "postgres", "pool_mode": "transaction", "server_check_delay": "1",
                                   "server_check_query": CHECK})
    with app(bw) as conn:
        conn.execute("SELECT 1")
        row = pool_row(bw)
        assert (row["sv_idle"], row["sv_used"]) == (1, 0)
        time.sleep(1.5)
        row = pool_row(bw)
        assert (row["sv_idle"], row["sv_used"], row["sv_tested"]) == (0, 1, 0)
        with console(bw) as admin:
            states = [r[4] for r in admin.execute("SHOW SERVERS").fetchall()]
        assert states == ["used"]
        conn.execute("SELECT 1")
        conn.execute("SELECT 1")  # reused at once: no second check
        assert checks_run(postgres) == 1
        row = pool_row(bw)
        assert (row["sv_idle"], row["sv_used"]) == (1, 0)


def test_AServerFailingTheCheckIsClosedAndTheClientGetsAnother(make_breakwater, postgres):
    bw = make_breakwater(settings={"pool_mode": "transaction", "server_check_delay": "0",
                                   "server_check_query": "SELECT 1/0"})
    with app(bw) as conn:
        first = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        second = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    assert first != second
    wait_until(lambda: "server_check_query failed" in bw.log(), what="the log line")
    wait_until(lambda: int(postgres.sql(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {first}")) == 0,
               what="the failed server to close")


def test_ReloadChangesTheCheckLive(make_breakwater, postgres):
    fresh_sequence(postgres)
    bw = make_breakwater(settings={"admin_users": "postgres", "pool_mode": "transaction", "server_check_delay": "0",
                                   "server_check_query": CHECK})
    with app(bw) as conn:
        conn.execute("SELECT 1")
        before = checks_run(postgres)
        conn.execute("SELECT 1")
        conn.execute("SELECT 1")
        assert checks_run(postgres) == before + 2
        with console(bw) as admin:
            admin.execute("SET server_check_query = ''")
        for _ in range(5):
            conn.execute("SELECT 1")
        assert checks_run(postgres) == before + 2
