"""Real clients through Breakwater in session mode: psql, psycopg, asyncpg."""

import asyncio
import subprocess

import asyncpg
import psycopg

from harness import PG_BIN


def test_Psql_RunsAQuery(breakwater):
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-d", breakwater.dsn(), "-c", "SELECT 40 + 2"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"


def test_Psql_OverUnixSocket(breakwater):
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-h", breakwater.dir, "-p", str(breakwater.port),
                          "-U", "postgres", "-d", "postgres", "-c", "SELECT current_database()"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "postgres"


def test_Psycopg_QueriesErrorsAndNotices(breakwater):
    with psycopg.connect(breakwater.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT %s::int * 2", (21,)).fetchone() == (42,)
        try:
            conn.execute("SELECT 1/0")
            raise AssertionError("division by zero passed")
        except psycopg.errors.DivisionByZero:
            pass
        notices = []
        conn.add_notice_handler(lambda d: notices.append(d.message_primary))
        conn.execute("DO $$ BEGIN RAISE NOTICE 'hello from server'; END $$")
        assert notices == ["hello from server"]
        # The connection is still usable after the error.
        assert conn.execute("SELECT 'ok'").fetchone() == ("ok",)


def test_Psycopg_SeesServerParametersAndPoolerKey(breakwater, postgres):
    with psycopg.connect(breakwater.dsn(application_name="myapp")) as conn:
        assert conn.info.parameter_status("server_version").startswith("15")
        assert conn.info.parameter_status("application_name") == "myapp"
        assert conn.execute("SHOW application_name").fetchone() == ("myapp",)
        real_pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        # The BackendKeyData comes from Breakwater, not from the server.
        assert conn.info.backend_pid != real_pid


def test_StartupParameters_AreAppliedOnTheServer(breakwater):
    # libpq sends PGDATESTYLE and PGTZ as startup parameters.
    env = {"PGDATESTYLE": "German", "PGTZ": "Europe/Paris", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-d", breakwater.dsn(), "-c",
                          "SELECT current_setting('DateStyle') || '|' || current_setting('TimeZone')"],
                         capture_output=True, text=True, timeout=30, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "German, DMY|Europe/Paris"
    # The next session reuses that server after server_reset_query: the first
    # client's "German, DMY" is gone, and a SET is reported as PostgreSQL reports it.
    with psycopg.connect(breakwater.dsn(), autocommit=True) as conn:
        assert conn.info.parameter_status("DateStyle") == "ISO, MDY"
        conn.execute("SET DateStyle TO 'SQL'")
        assert conn.info.parameter_status("DateStyle") == "SQL, MDY"


def test_Asyncpg_QueriesAndPreparedStatements(breakwater):
    async def run():
        conn = await asyncpg.connect(host="127.0.0.1", port=breakwater.port, user="postgres", database="postgres")
        try:
            assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
            rows = await conn.fetch("SELECT g FROM generate_series(1, 1000) g")
            assert len(rows) == 1000
            statement = await conn.prepare("SELECT $1::text || 'x'")
            assert await statement.fetchval("a") == "ax"
        finally:
            await conn.close()

    asyncio.run(run())


def test_LargeResult_StreamsThrough(breakwater):
    with psycopg.connect(breakwater.dsn()) as conn:
        total = 0
        with conn.cursor(name="big") as cur:
            cur.execute("SELECT repeat('x', 1000) FROM generate_series(1, 200000)")
            for (row,) in cur:
                total += len(row)
        assert total == 200_000 * 1000
