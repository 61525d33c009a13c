"""max_db_client_connections and max_user_client_connections: the client past the
limit is refused with PgBouncer's message, the others carry on, and SHOW DATABASES /
SHOW USERS count the clients against the limit."""

import asyncio

import asyncpg
import psycopg
import pytest

from harness import wait_until


def refusal(bw, database="postgres", user="postgres"):
    """SQLSTATE and message of a refused login, through asyncpg (it exposes the SQLSTATE)."""
    async def attempt():
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user=user, database=database,
                                         ssl=False, timeout=20)
        except asyncpg.PostgresError as e:
            return e.sqlstate, str(e)
        await conn.close()
        return None, "connected"

    return asyncio.run(attempt())


def console_rows(bw, what):
    with psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True) as conn:
        cur = conn.execute(f"SHOW {what}")
        names = [c.name for c in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def test_MaxDbClientConnections_RefusesTheClientPastTheLimitOnly(make_breakwater, postgres):
    bw = make_breakwater(databases={"limited": f"host=127.0.0.1 port={postgres.port} dbname=postgres "
                                               "max_db_client_connections=2"},
                         settings={"admin_users": "postgres"})
    first = psycopg.connect(bw.dsn("limited"))
    second = psycopg.connect(bw.dsn("limited"))
    assert refusal(bw, "limited") == ("53300", "client connections exceeded (max_db_client_connections)")
    with pytest.raises(psycopg.OperationalError, match=r"client connections exceeded \(max_db_client_connections\)"):
        psycopg.connect(bw.dsn("limited"), connect_timeout=20)
    # Another database is not counted against this one, and the admitted clients carry on.
    with psycopg.connect(bw.dsn("postgres")) as other:
        assert other.execute("SELECT 1").fetchone() == (1,)
    assert first.execute("SELECT 2").fetchone() == (2,)
    limited = console_rows(bw, "DATABASES")["limited"]
    assert limited["max_client_connections"] == 2 and limited["current_client_connections"] == 2
    first.close()
    wait_until(lambda: console_rows(bw, "DATABASES")["limited"]["current_client_connections"] == 1,
               what="the first client to leave")
    with psycopg.connect(bw.dsn("limited")) as third:
        assert third.execute("SELECT 3").fetchone() == (3,)
    second.close()


def test_MaxUserClientConnections_CountsTheUserAcrossDatabases(make_breakwater, postgres):
    postgres.ensure_role("watcher")
    bw = make_breakwater(users={"watcher": ""}, user_settings={"postgres": "max_user_client_connections=2"},
                         settings={"admin_users": "watcher"})
    first = psycopg.connect(bw.dsn("postgres"))
    second = psycopg.connect(bw.dsn("bench"))
    assert refusal(bw, "postgres") == ("53300", "client connections exceeded (max_user_client_connections)")
    # Another user is not limited.
    others = [psycopg.connect(bw.dsn("postgres", user="watcher")) for _ in range(3)]
    with psycopg.connect(bw.dsn(dbname="pgbouncer", user="watcher"), autocommit=True) as admin:
        cur = admin.execute("SHOW USERS")
        names = [c.name for c in cur.description]
        users = {row[0]: dict(zip(names, row)) for row in cur.fetchall()}
    assert users["postgres"]["max_user_client_connections"] == 2
    assert users["postgres"]["current_client_connections"] == 2
    assert users["watcher"]["current_client_connections"] == 3
    assert second.execute("SELECT 1").fetchone() == (1,)
    for conn in (first, second, *others):
        conn.close()


def test_GlobalClientLimits_FollowReload(make_breakwater):
    bw = make_breakwater(settings={"admin_users": "postgres", "max_db_client_connections": "1"})
    held = psycopg.connect(bw.dsn("bench"))
    assert refusal(bw, "bench")[1] == "client connections exceeded (max_db_client_connections)"
    with psycopg.connect(bw.dsn(dbname="pgbouncer"), autocommit=True) as admin:
        admin.execute("SET max_db_client_connections = 3")
    # Clients already in are kept; the next ones see the new limit.
    with psycopg.connect(bw.dsn("bench")) as more:
        assert more.execute("SELECT 1").fetchone() == (1,)
    assert held.execute("SELECT 1").fetchone() == (1,)
    held.close()
