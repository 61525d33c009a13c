"""query_timeout, idle_transaction_timeout, transaction_timeout and client_idle_timeout
against a real PostgreSQL: the client is told why and closed, the server's work is
cancelled, other clients carry on; KILL_CLIENT reaches a client waiting for a server."""

import threading
import time

import psycopg
import pytest

from harness import wait_until


def app(bw, **extra):
    return psycopg.connect(bw.dsn(**extra), autocommit=True, prepare_threshold=None)


def sleeping_backends(postgres):
    return int(postgres.sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'"
                            " AND state = 'active' AND pid <> pg_backend_pid()"))


def test_QueryTimeout_EndsTheClientAndCancelsTheQuery(make_breakwater, postgres):
    bw = make_breakwater(settings={"pool_mode": "transaction", "query_timeout": "1"})
    bystander = app(bw)
    slow = app(bw)
    start = time.monotonic()
    with pytest.raises(psycopg.Error, match="query timeout"):
        slow.execute("SELECT pg_sleep(30)")
    assert time.monotonic() - start < 10
    # The backend stopped working for a client that is gone.
    wait_until(lambda: sleeping_backends(postgres) == 0, what="the timed-out query to be cancelled")
    assert bystander.execute("SELECT 1").fetchone() == (1,)
    wait_until(lambda: "closing because: query timeout" in bw.log(), what="the log line")
    bystander.close()


def test_QueryTimeout_PerUserEntryWins(make_breakwater):
    bw = make_breakwater(user_settings={"postgres": "query_timeout=1"}, settings={"pool_mode": "transaction"})
    with app(bw) as conn:
        with pytest.raises(psycopg.Error, match="query timeout"):
            conn.execute("SELECT pg_sleep(30)")


def test_FastQueriesAreNotTimedOut(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "transaction", "query_timeout": "1", "transaction_timeout": "2"})
    with app(bw) as conn:
        end = time.monotonic() + 3
        while time.monotonic() < end:
            conn.execute("SELECT pg_sleep(0.1)")
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_IdleTransactionTimeout_EndsAnIdleTransactionOnly(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "transaction", "idle_transaction_timeout": "1"})
    idle_outside = app(bw)
    idle_outside.execute("SELECT 1")
    stuck = psycopg.connect(bw.dsn(), prepare_threshold=None)  # not autocommit: a transaction stays open
    stuck.execute("SELECT 1")
    time.sleep(2.5)
    with pytest.raises(psycopg.Error, match="idle transaction timeout"):
        stuck.execute("SELECT 2")
    # A client idle outside a transaction is left alone.
    assert idle_outside.execute("SELECT 3").fetchone() == (3,)
    idle_outside.close()


def test_TransactionTimeout_CountsFromTheFirstQuery(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "transaction", "transaction_timeout": "2"})
    with psycopg.connect(bw.dsn(), prepare_threshold=None) as busy:
        start = time.monotonic()
        with pytest.raises(psycopg.Error, match="transaction timeout"):
            while time.monotonic() - start < 10:
                busy.execute("SELECT pg_sleep(0.2)")
        assert 2 <= time.monotonic() - start < 6


def test_ClientIdleTimeout_InTransactionPooling(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "transaction", "client_idle_timeout": "1"})
    idle = app(bw)
    idle.execute("SELECT 1")
    time.sleep(2.5)
    with pytest.raises(psycopg.Error, match="client_idle_timeout"):
        idle.execute("SELECT 2")
    wait_until(lambda: "closing because: client_idle_timeout" in bw.log(), what="the log line")
    # A busy client is not idle.
    with app(bw) as busy:
        for _ in range(6):
            busy.execute("SELECT 1")
            time.sleep(0.4)


def test_ClientIdleTimeout_ChangedBySet(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "transaction", "admin_users": "postgres"})
    idle = app(bw)
    idle.execute("SELECT 1")
    with psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True) as admin:
        admin.execute("SET client_idle_timeout = 1")
    time.sleep(2.5)
    with pytest.raises(psycopg.Error, match="client_idle_timeout"):
        idle.execute("SELECT 2")


def test_KillClient_ReachesAClientWaitingForAServer(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "transaction", "default_pool_size": "1", "admin_users": "postgres",
                                   "query_wait_timeout": "60"})
    holder = psycopg.connect(bw.dsn(), prepare_threshold=None)
    holder.execute("SELECT 1")  # a transaction stays open: the only server is taken
    waiter = app(bw, application_name="the_waiter")
    outcome = {}

    def wait_for_server():
        try:
            waiter.execute("SELECT 1")
            outcome["result"] = "answered"
        except psycopg.Error as e:
            outcome["result"] = str(e)

    thread = threading.Thread(target=wait_for_server)
    thread.start()
    with psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True) as admin:
        def waiting_id():
            cur = admin.execute("SHOW CLIENTS")
            names = [c.name for c in cur.description]
            rows = [dict(zip(names, r)) for r in cur.fetchall()]
            return next((r["id"] for r in rows if r["state"] == "waiting"), None)
        wait_until(lambda: waiting_id() is not None, what="the client to wait")
        start = time.monotonic()
        admin.execute(f"KILL_CLIENT {waiting_id()}")
        thread.join(timeout=10)
        assert not thread.is_alive()
        assert time.monotonic() - start < 5
        assert "admin forced disconnect" in outcome["result"] or "closed" in outcome["result"]
        # The client hears of its end before its worker takes it out of the queue
        # (microseconds later, but SHOW POOLS may run on the other worker first).
        def waiting_count():
            cur = admin.execute("SHOW POOLS")
            names = [c.name for c in cur.description]
            return next(dict(zip(names, r)) for r in cur.fetchall() if r[0] == "postgres")["cl_waiting"]
        wait_until(lambda: waiting_count() == 0, timeout=2, what="the killed client to leave the queue")
    holder.commit()
    assert holder.execute("SELECT 2").fetchone() == (2,)
    holder.close()


def test_KillClient_FarBackInALongQueue_TheOthersAreStillServed(make_breakwater):
    # The pool looks for a leaving waiter among the first few first: one killed far
    # back in the queue must be found too, and the queue stay whole for the rest.
    bw = make_breakwater(settings={"pool_mode": "transaction", "default_pool_size": "1", "admin_users": "postgres",
                                   "query_wait_timeout": "60"})
    holder = psycopg.connect(bw.dsn(), prepare_threshold=None)
    holder.execute("SELECT 1")  # a transaction stays open: the only server is taken
    waiters = [app(bw, application_name=f"waiter_{i}") for i in range(40)]
    outcomes = {}

    def wait_for_server(i):
        try:
            outcomes[i] = waiters[i].execute("SELECT %s::int", (i,)).fetchone()[0]
        except psycopg.Error as e:
            outcomes[i] = str(e)

    threads = []
    # prepare_threshold=None: psycopg would prepare a query run this often, and the console takes simple queries only.
    with psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True, prepare_threshold=None) as admin:
        def waiting():
            cur = admin.execute("SHOW CLIENTS")
            names = [c.name for c in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall() if dict(zip(names, r))["state"] == "waiting"]
        for i in range(40):  # one at a time: the queue's order is the start order
            threads.append(threading.Thread(target=wait_for_server, args=(i,)))
            threads[-1].start()
            wait_until(lambda: len(waiting()) == i + 1, what=f"client {i} to wait")
        last = next(r["id"] for r in waiting() if r["application_name"] == "waiter_39")
        admin.execute(f"KILL_CLIENT {last}")
        wait_until(lambda: len(waiting()) == 39, what="the killed client to leave the queue")
    holder.commit()
    for thread in threads:
        thread.join(timeout=30)
    assert all(not t.is_alive() for t in threads)
    assert {i: outcomes[i] for i in range(39)} == {i: i for i in range(39)}
    assert isinstance(outcomes[39], str)
    for conn in waiters + [holder]:
        conn.close()
