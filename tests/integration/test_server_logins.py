"""Servers log in for the pool's queue, not for one client: a server that comes back
serves a waiting client at once, whatever login is under way, and a failed login
fails the waiters only when the pool has no server left that could serve them
(PgBouncer's behaviour). A relay in front of PostgreSQL makes chosen logins slow
or fail (login_proxy.py)."""

import signal
import threading
import time

import psycopg
import pytest

from login_proxy import LoginProxy
from harness import wait_until

SLOW_LOGIN_S = 6


@pytest.fixture
def proxied(make_breakwater, postgres):
    """Breakwater with database `px` (PostgreSQL's `logins`, so that other suites'
    backend counts never see these) behind a LoginProxy whose plan the test gives
    (a function of the connection's index); returns (bw, proxy)."""
    postgres.ensure_database("logins")
    made = []

    def make(plan, **settings):
        proxy = LoginProxy(postgres.port, plan)
        made.append(proxy)
        base = {"admin_users": "postgres", "pool_mode": "transaction", "default_pool_size": "2",
                "server_connect_timeout": "15", "query_wait_timeout": "30"}
        base.update(settings)
        bw = make_breakwater(databases={"px": f"host=127.0.0.1 port={proxy.port} dbname=logins"}, settings=base)
        return bw, proxy

    yield make
    for proxy in made:
        proxy.close()


def pool_row(bw):
    with psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True) as conn:
        cur = conn.execute("SHOW POOLS")
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    return next(r for r in rows if r["database"] == "px")


def query_in_thread(dsn):
    """Runs SELECT 1 on a new connection in a thread; returns it and its outcome
    ("ok" or the error, and the seconds the query took)."""
    outcome = {}

    def body():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                start = time.monotonic()
                conn.execute("SELECT 1")
                outcome["seconds"] = time.monotonic() - start
            outcome["result"] = "ok"
        except Exception as error:  # noqa: BLE001 - the test reads it
            outcome["result"] = error

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, outcome


def test_ServerThatComesBackServesTheWaiterBeforeTheSlowLoginEnds(proxied):
    # The first server logs in at once, every later one takes SLOW_LOGIN_S.
    bw, proxy = proxied(lambda n: ("forward", 0 if n == 0 else SLOW_LOGIN_S))
    holder = psycopg.connect(bw.dsn("px"), autocommit=True)
    holder.execute("BEGIN")
    holder.execute("SELECT 1")  # the only server is lent to this transaction

    waiter, outcome = query_in_thread(bw.dsn("px"))
    wait_until(lambda: pool_row(bw)["cl_waiting"] == 1 and pool_row(bw)["sv_login"] == 1,
               what="the waiter queued while a second server logs in")
    holder.execute("COMMIT")
    waiter.join(timeout=SLOW_LOGIN_S - 1)
    assert not waiter.is_alive(), "the waiter got the server that came back, not the slow login's"
    assert outcome["result"] == "ok"
    # The slow login still ends, and its server goes idle for the next client.
    wait_until(lambda: pool_row(bw)["sv_idle"] == 2, timeout=SLOW_LOGIN_S + 5, what="the second server idle")
    holder.close()


def test_FailedLoginLeavesWaitersQueuedWhileTheirPoolHasAServer(proxied):
    # The first server logs in; every later login is refused (the connection closes).
    bw, proxy = proxied(lambda n: ("forward", 0) if n == 0 else ("close",), server_login_retry="30")
    holder = psycopg.connect(bw.dsn("px"), autocommit=True)
    holder.execute("BEGIN")
    holder.execute("SELECT 1")

    waiter, outcome = query_in_thread(bw.dsn("px"))
    wait_until(lambda: proxy.accepted >= 2 and pool_row(bw)["sv_login"] == 0, what="the second login failed")
    time.sleep(0.3)
    assert waiter.is_alive(), f"the waiter stays queued for the lent server: {outcome}"
    assert pool_row(bw)["cl_waiting"] == 1
    # During server_login_retry a new client queues too: a server is lent, it will come back.
    second, second_outcome = query_in_thread(bw.dsn("px"))
    wait_until(lambda: pool_row(bw)["cl_waiting"] == 2, what="a second client queued")
    assert proxy.accepted == 2, "no login during server_login_retry"

    holder.execute("COMMIT")
    for thread in (waiter, second):
        thread.join(timeout=10)
    assert outcome["result"] == "ok" and second_outcome["result"] == "ok"
    holder.close()


def test_FailedLoginFailsAPoolWithNoServer_ThenFailsFastDuringServerLoginRetry(proxied):
    bw, proxy = proxied(lambda n: ("close",))
    clients = [query_in_thread(bw.dsn("px")) for _ in range(3)]
    for thread, _ in clients:
        thread.join(timeout=10)
    for thread, outcome in clients:
        assert not thread.is_alive()
        assert "pgbouncer cannot connect to server" in str(outcome["result"])
    attempts = proxy.accepted
    assert 1 <= attempts <= 3
    # server_login_retry (15 s): the next client fails at once, with no login attempt.
    late, late_outcome = query_in_thread(bw.dsn("px"))
    late.join(timeout=10)
    assert "pgbouncer cannot connect to server" in str(late_outcome["result"])
    assert proxy.accepted == attempts


def test_ServerThatLogsInDuringASafeShutdownClosesAndTheProcessExits(proxied):
    # The first server logs in at once, the second takes 3 s: SIGINT comes while it does.
    bw, proxy = proxied(lambda n: ("forward", 0 if n == 0 else 3))
    holder = psycopg.connect(bw.dsn("px"), autocommit=True)
    holder.execute("BEGIN")
    holder.execute("SELECT 1")
    waiter, outcome = query_in_thread(bw.dsn("px"))
    wait_until(lambda: pool_row(bw)["sv_login"] == 1, what="a second server logging in for the waiter")
    bw.proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    holder.execute("COMMIT")  # the open transaction ends; its server closes (paused pool)
    # The login ends about 3 s after it began: its server closes too, rather than
    # wait idle in the paused pool, which would keep the shutdown waiting for ever.
    assert bw.proc.wait(timeout=10) == 0
    waiter.join(timeout=5)
    assert outcome["result"] != "ok", "no server goes to a client after the pause"
    holder.close()
