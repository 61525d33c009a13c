"""Pool sizing against a real PostgreSQL: reserve pool, min_pool_size, connection caps, per-user sizes."""

import asyncio
import threading
import time

import asyncpg
import psycopg
import pytest

from harness import PeakWatcher, ServerPeakWatcher, backends, wait_until


def run_clients(port, jobs, query="SELECT 1", transactions=2, timeout=120):
    """Runs asyncpg clients concurrently, one per (user, database) in `jobs`; returns their errors."""

    async def client(user, database):
        conn = await asyncpg.connect(host="127.0.0.1", port=port, user=user, database=database,
                                     statement_cache_size=0, timeout=timeout)
        try:
            for _ in range(transactions):
                async with conn.transaction():
                    await conn.fetchval(query)
        finally:
            await conn.close()

    async def main():
        results = await asyncio.gather(*(client(u, d) for u, d in jobs), return_exceptions=True)
        return [r for r in results if r is not None]

    return asyncio.run(main())


def sleepers(dsn, count, seconds):
    """Starts `count` threads, each running pg_sleep through the pooler; returns them and their outcomes."""
    outcomes = []

    def sleeper():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"SELECT pg_sleep({seconds})")
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001 - the test reports whatever went wrong
            outcomes.append(error)

    threads = [threading.Thread(target=sleeper) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, outcomes


@pytest.fixture
def sizing_db(postgres):
    """A PostgreSQL database of its own, so that its backends can be counted."""
    postgres.ensure_database("sizing")
    return "sizing"


def test_ReservePool_OpensOnlyAfterReserveTimeout_AndClosesWhenIdle(make_breakwater, postgres, sizing_db):
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db}"},
                         settings={"pool_mode": "transaction", "default_pool_size": "2", "reserve_pool_size": "2",
                                   "reserve_pool_timeout": "2"})
    where = f"datname = '{sizing_db}'"
    watcher = PeakWatcher(postgres, where)
    watcher.start()
    started = time.monotonic()
    threads, outcomes = sleepers(bw.dsn("sz"), 6, 3)
    time.sleep(1.2)
    before_timeout = backends(postgres, where)
    assert time.monotonic() - started < 1.9, "too slow to observe the time before reserve_pool_timeout"
    wait_until(lambda: backends(postgres, where) == 4, timeout=10, what="reserve servers")
    for thread in threads:
        thread.join()
    peak = watcher.stop()
    assert outcomes == ["ok"] * 6
    assert before_timeout == 2, "no reserve server before reserve_pool_timeout"
    assert peak == 4, "pool_size + reserve_pool_size at most"
    assert "taking connection from reserve_pool" in bw.log()
    wait_until(lambda: backends(postgres, where) == 2, timeout=10, what="reserve servers to close")


def test_ReservePool_ZeroTimeoutDisablesIt(make_breakwater, postgres, sizing_db):
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db}"},
                         settings={"pool_mode": "transaction", "default_pool_size": "2", "reserve_pool_size": "3",
                                   "reserve_pool_timeout": "0"})
    watcher = PeakWatcher(postgres, f"datname = '{sizing_db}'")
    watcher.start()
    threads, outcomes = sleepers(bw.dsn("sz"), 4, 1.5)
    for thread in threads:
        thread.join()
    assert outcomes == ["ok"] * 4
    assert watcher.stop() == 2


def test_MinPoolSize_ForcedUser_FilledAtStartAndAfterFailures(make_breakwater, postgres, sizing_db):
    make_breakwater(databases={"warm": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db} user=postgres "
                                       "min_pool_size=3 pool_size=5"})
    where = f"datname = '{sizing_db}'"
    wait_until(lambda: backends(postgres, where) == 3, timeout=10, what="min_pool_size servers at start-up")
    postgres.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {where} AND pid <> pg_backend_pid()")
    wait_until(lambda: backends(postgres, where) == 3, timeout=10, what="min_pool_size servers after termination")
    time.sleep(1.5)
    assert backends(postgres, where) == 3, "never more than min_pool_size without clients"


def test_MinPoolSize_AutoPool_FilledOnceAClientConnects(make_breakwater, postgres, sizing_db):
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db}"},
                         settings={"pool_mode": "transaction", "min_pool_size": "4"})
    where = f"datname = '{sizing_db}'"
    time.sleep(1.5)
    assert backends(postgres, where) == 0, "no forced user and no client: nothing to keep warm"
    with psycopg.connect(bw.dsn("sz")) as conn:
        conn.execute("SELECT 1")
        wait_until(lambda: backends(postgres, where) == 4, timeout=10, what="min_pool_size servers")


def test_PerUserPoolSize_WinsOverDatabaseAndDefault(make_breakwater, postgres, sizing_db):
    postgres.ensure_role("alice")
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db} pool_size=8"},
                         users={"alice": ""}, user_settings={"alice": "pool_size=2"},
                         settings={"pool_mode": "transaction", "max_client_conn": "500"})
    alice = PeakWatcher(postgres, f"datname = '{sizing_db}' AND usename = 'alice'")
    others = PeakWatcher(postgres, f"datname = '{sizing_db}' AND usename = 'postgres'")
    alice.start()
    others.start()
    jobs = [("alice", "sz")] * 60 + [("postgres", "sz")] * 60
    errors = run_clients(bw.port, jobs, query="SELECT pg_sleep(0.02)", transactions=3)
    assert errors == []
    assert alice.stop() == 2
    assert 2 < others.stop() <= 8


@pytest.fixture
def four_users(postgres):
    names = [f"capuser{i}" for i in range(4)]
    for name in names:
        postgres.ensure_role(name)
    return names


def test_MaxDbConnections_HoldsUnderAThousandClients(make_breakwater, postgres, sizing_db, four_users):
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db} "
                                          "max_db_connections=6"},
                         users={name: "" for name in four_users},
                         settings={"pool_mode": "transaction", "default_pool_size": "5", "max_client_conn": "1200",
                                   "admin_users": "postgres"})
    watcher = ServerPeakWatcher(bw, lambda server: server["database"] == "sz")
    watcher.start()
    jobs = [(four_users[i % 4], "sz") for i in range(1000)]
    errors = run_clients(bw.port, jobs)
    peak = watcher.stop()
    assert errors == []
    assert 1 <= peak <= 6, peak


def test_MaxUserConnections_HoldsUnderAThousandClients(make_breakwater, postgres, sizing_db, four_users):
    user = four_users[0]
    pg = f"host=127.0.0.1 port={postgres.port} dbname={sizing_db}"
    bw = make_breakwater(databases={"a": pg, "b": pg, "c": pg},
                         users={user: ""}, user_settings={user: "max_user_connections=4"},
                         settings={"pool_mode": "transaction", "default_pool_size": "3", "max_client_conn": "1200",
                                   "admin_users": "postgres"})
    watcher = ServerPeakWatcher(bw, lambda server: server["user"] == user)
    watcher.start()
    jobs = [(user, "abc"[i % 3]) for i in range(1000)]
    errors = run_clients(bw.port, jobs)
    peak = watcher.stop()
    assert errors == []
    assert 1 <= peak <= 4, peak


def test_MaxDbConnections_IdleServerOfAnotherPoolMakesRoom(make_breakwater, postgres, sizing_db, four_users):
    first, second = four_users[:2]
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db} "
                                          "max_db_connections=2"},
                         users={first: "", second: ""},
                         settings={"pool_mode": "transaction", "query_wait_timeout": "5"})
    where = f"datname = '{sizing_db}'"
    assert run_clients(bw.port, [(first, "sz")] * 2, query="SELECT pg_sleep(0.3)") == []
    assert backends(postgres, where) == 2, "two idle servers of the first user's pool fill the cap"
    started = time.monotonic()
    with psycopg.connect(bw.dsn("sz", user=second)) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == second
    assert time.monotonic() - started < 4, "served by closing an idle server, not after query_wait_timeout"
    assert backends(postgres, where) <= 2
    assert "to make room for another pool" in bw.log()


def test_ServerIdleTimeout_ClosesIdleServersBeyondMinPoolSize(make_breakwater, postgres, sizing_db):
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db}"},
                         settings={"pool_mode": "transaction", "server_idle_timeout": "1", "min_pool_size": "1"})
    where = f"datname = '{sizing_db}'"
    with psycopg.connect(bw.dsn("sz")) as conn:
        threads, outcomes = sleepers(bw.dsn("sz"), 3, 0.5)
        for thread in threads:
            thread.join()
        assert outcomes == ["ok"] * 3
        assert backends(postgres, where) >= 2
        wait_until(lambda: backends(postgres, where) == 1, timeout=10, what="idle servers to close")
        time.sleep(1.5)
        assert backends(postgres, where) == 1, "min_pool_size stays open"
        conn.execute("SELECT 1")
    assert "server idle timeout" in bw.log()


def test_ServerLifetime_ReplacesOldServers(make_breakwater, postgres, sizing_db):
    bw = make_breakwater(databases={"sz": f"host=127.0.0.1 port={postgres.port} dbname={sizing_db}"},
                         settings={"pool_mode": "transaction", "server_lifetime": "1", "default_pool_size": "1"})
    with psycopg.connect(bw.dsn("sz"), autocommit=True) as conn:
        first = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] == first, "reused while young"
        time.sleep(1.5)
        later = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert later != first
    assert "server lifetime over" in bw.log()
