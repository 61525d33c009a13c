"""Transaction and statement pooling against a real PostgreSQL."""

import asyncio
import hashlib
import re
import subprocess
import threading
import time

import asyncpg
import psycopg
import pytest

from harness import PG_BIN, PeakWatcher, backends, kill_client_mid_transaction, wait_until


def tx_breakwater(make_breakwater, **settings):
    base = {"pool_mode": "transaction", "default_pool_size": "5", "max_client_conn": "2000"}
    base.update(settings)
    return make_breakwater(settings=base)


def test_FiveHundredAsyncClients_OnFiveServers(make_breakwater, postgres):
    bw = tx_breakwater(make_breakwater)
    watcher = PeakWatcher(postgres, "datname = 'bench'")
    watcher.start()

    async def client(i):
        conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user="postgres", database="bench",
                                     statement_cache_size=0, timeout=60)
        try:
            for _ in range(3):
                async with conn.transaction():
                    assert await conn.fetchval("SELECT $1::int + 1", i) == i + 1
        finally:
            await conn.close()

    async def main():
        results = await asyncio.gather(*(client(i) for i in range(500)), return_exceptions=True)
        return [r for r in results if r is not None]

    errors = asyncio.run(main())
    peak = watcher.stop()
    assert errors == []
    assert 1 <= peak <= 5, peak


@pytest.mark.parametrize("protocol,script", [("simple", "tpcb"), ("extended", "tpcb"),
                                             ("simple", "select"), ("extended", "select")])
def test_Pgbench_TransactionMode_NoFailures(make_breakwater, postgres, protocol, script):
    subprocess.run([f"{PG_BIN}/pgbench", "-i", "-s", "1", "-q", "-d", postgres.dsn("bench")], check=True,
                   capture_output=True)
    bw = tx_breakwater(make_breakwater, default_pool_size="10")
    args = [f"{PG_BIN}/pgbench", "-M", protocol, "-c", "100", "-j", "2", "-T", "10", "-d", bw.dsn("bench")]
    if script == "select":
        args.insert(1, "-S")
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    processed = int(re.search(r"number of transactions actually processed: (\d+)", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    assert processed > 100
    assert failed is None or int(failed.group(1)) == 0
    assert backends(postgres, "datname = 'bench'") <= 10


@pytest.mark.parametrize("io_uring,sends", [("1", "sends and server reads batched through io_uring"),
                                            ("0", "sends use send()")])
def test_SendsWithAndWithoutIoUring_CarryLargeMessagesWhole(make_breakwater, postgres, io_uring, sends):
    # Large results fill the client's socket: the rest of a send waits for room
    # (in the kernel with io_uring, on epoll without), and arrives whole and in order.
    bw = make_breakwater(settings={"pool_mode": "transaction", "default_pool_size": "2"},
                         env={"BREAKWATER_IO_URING": io_uring})
    wait_until(lambda: sends in bw.log(), what="the startup line saying how sends go")
    big = 8 * 1024 * 1024
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        for _ in range(3):
            row = conn.execute("SELECT repeat('ab', %s), md5(repeat('ab', %s))", (big // 2, big // 2)).fetchone()
            assert len(row[0]) == big and hashlib.md5(row[0].encode()).hexdigest() == row[1]
            sent = "x" * big
            assert conn.execute("SELECT length(%s::text)", (sent,)).fetchone()[0] == big
    subprocess.run([f"{PG_BIN}/pgbench", "-i", "-s", "1", "-q", "-d", postgres.dsn("bench")], check=True,
                   capture_output=True)
    out = subprocess.run([f"{PG_BIN}/pgbench", "-S", "-c", "20", "-j", "2", "-T", "3", "-d", bw.dsn("bench")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert int(re.search(r"number of transactions actually processed: (\d+)", out.stdout).group(1)) > 100


def test_PsycopgPipeline_ReturnsCorrectResults(make_breakwater):
    bw = tx_breakwater(make_breakwater, default_pool_size="2")
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS pipe_t; CREATE TABLE pipe_t (n int)")
        with conn.pipeline():
            for n in range(200):
                conn.execute("INSERT INTO pipe_t VALUES (%s)", (n,))
            cursors = [conn.execute("SELECT %s::int * 2", (n,)) for n in range(50)]
        assert [c.fetchone()[0] for c in cursors] == [n * 2 for n in range(50)]
        assert conn.execute("SELECT count(*), sum(n) FROM pipe_t").fetchone() == (200, sum(range(200)))


def test_AsyncpgExecutemany_InATransaction(make_breakwater):
    bw = tx_breakwater(make_breakwater, default_pool_size="2")

    async def run():
        conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user="postgres", database="postgres",
                                     statement_cache_size=0)
        try:
            await conn.execute("DROP TABLE IF EXISTS many_t; CREATE TABLE many_t (a int, b text)")
            async with conn.transaction():
                await conn.executemany("INSERT INTO many_t VALUES ($1, $2)", [(i, str(i)) for i in range(1000)])
            return await conn.fetchrow("SELECT count(*), sum(a) FROM many_t")
        finally:
            await conn.close()

    row = asyncio.run(run())
    assert tuple(row) == (1000, sum(range(1000)))


def test_ServerIsSharedBetweenClientsBetweenTransactions(make_breakwater):
    bw = tx_breakwater(make_breakwater, default_pool_size="1")
    a = psycopg.connect(bw.dsn(), autocommit=True)
    b = psycopg.connect(bw.dsn(), autocommit=True)
    pid_a = a.execute("SELECT pg_backend_pid()").fetchone()[0]
    pid_b = b.execute("SELECT pg_backend_pid()").fetchone()[0]
    assert pid_a == pid_b, "one server serves both clients in turn"
    with a.transaction():
        a.execute("SELECT 1")
        # b waits for the server while a's transaction is open.
        started = threading.Event()
        result = []

        def run_b():
            started.set()
            result.append(b.execute("SELECT 'b'").fetchone()[0])

        t = threading.Thread(target=run_b)
        t.start()
        started.wait()
        time.sleep(0.3)
        assert result == []
    t.join(timeout=10)
    assert result == ["b"]
    a.close()
    b.close()


def test_ClientKilledMidTransaction_NextClientSeesNoTransaction(make_breakwater, postgres):
    bw = tx_breakwater(make_breakwater, default_pool_size="1")
    dirty_pid = kill_client_mid_transaction(bw.dsn())
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        pid, xid = conn.execute("SELECT pg_backend_pid(), txid_current_if_assigned()").fetchone()
        assert xid is None
        assert pid != dirty_pid
        assert conn.execute("SELECT to_regclass('pg_temp.t')").fetchone() == (None,)


def test_TrackedParameters_FollowTheClient_AndDoNotLeak(make_breakwater):
    bw = tx_breakwater(make_breakwater, default_pool_size="1")
    a = psycopg.connect(bw.dsn(application_name="client_a"), autocommit=True)
    b = psycopg.connect(bw.dsn(application_name="client_b"), autocommit=True)
    a.execute("SET DateStyle TO 'German'")
    # Same server, but b sees its own settings...
    assert b.execute("SHOW application_name").fetchone() == ("client_b",)
    assert b.execute("SHOW DateStyle").fetchone() == ("ISO, MDY",)
    # ... and a gets its own back on its next transaction.
    assert a.execute("SHOW application_name").fetchone() == ("client_a",)
    assert a.execute("SHOW DateStyle").fetchone() == ("German, DMY",)
    a.close()
    b.close()


def test_ClientsWithTheSameParameters_StillGetTheirOwnBackAfterAnotherChangesOne(make_breakwater):
    # a and c start alike (they share one parameter list); b's SET on the shared
    # server must not reach them, nor a's SET reach c.
    bw = tx_breakwater(make_breakwater, default_pool_size="1", workers="1")
    psycopg.connect(bw.dsn()).close()  # the pool's first login links a server; the rest are welcomed alike
    a, b, c = (psycopg.connect(bw.dsn(), autocommit=True) for _ in range(3))
    b.execute("SET DateStyle TO 'SQL, DMY'")
    assert a.execute("SHOW DateStyle").fetchone() == ("ISO, MDY",)
    a.execute("SET DateStyle TO 'German'")
    assert c.execute("SHOW DateStyle").fetchone() == ("ISO, MDY",)
    assert b.execute("SHOW DateStyle").fetchone() == ("SQL, DMY",)
    assert a.execute("SHOW DateStyle").fetchone() == ("German, DMY",)
    for conn in (a, b, c):
        conn.close()


def test_ExtraParameterTheServerDoesNotReport_IsSetAtEveryLink(make_breakwater):
    # PostgreSQL 15 does not report search_path: a SET of it goes unseen, so the
    # pooler sets the client's value again at every link, even for a client whose
    # parameter list is shared with the one that changed it (one worker: shared).
    bw = tx_breakwater(make_breakwater, default_pool_size="1", track_extra_parameters="search_path", workers="1")

    async def scenario():
        def connect():
            return asyncpg.connect(host="127.0.0.1", port=bw.port, user="postgres", database="postgres",
                                   server_settings={"search_path": "pg_catalog"}, statement_cache_size=0)
        first = await connect()  # the pool's first login links a server; a and b are welcomed alike
        await first.close()
        a, b = await connect(), await connect()
        try:
            assert await a.fetchval("SHOW search_path") == "pg_catalog"
            await b.execute("SET search_path TO public")
            assert await a.fetchval("SHOW search_path") == "pg_catalog"
            assert await b.fetchval("SHOW search_path") == "pg_catalog"
        finally:
            await a.close()
            await b.close()

    asyncio.run(scenario())


def test_SeedLimits_SetLocalAndTempTableLiveForTheirTransaction(make_breakwater):
    bw = tx_breakwater(make_breakwater, default_pool_size="2")
    with psycopg.connect(bw.dsn()) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL work_mem = '9MB'")
            assert conn.execute("SHOW work_mem").fetchone() == ("9MB",)
            conn.execute("CREATE TEMP TABLE per_tx (x int) ON COMMIT DROP")
            conn.execute("INSERT INTO per_tx VALUES (1)")
            assert conn.execute("SELECT count(*) FROM per_tx").fetchone() == (1,)
        conn.commit()
        assert conn.execute("SHOW work_mem").fetchone() == ("4MB",)
        conn.commit()


def test_CopyInTransactionMode_ReleasesAfterward(make_breakwater):
    bw = tx_breakwater(make_breakwater, default_pool_size="1")
    with psycopg.connect(bw.dsn(), autocommit=True) as a, psycopg.connect(bw.dsn(), autocommit=True) as b:
        a.execute("DROP TABLE IF EXISTS tx_copy; CREATE TABLE tx_copy (n int)")
        with a.cursor().copy("COPY tx_copy FROM STDIN") as copy:
            for n in range(1000):
                copy.write_row((n,))
        assert b.execute("SELECT count(*) FROM tx_copy").fetchone() == (1000,)


def test_QueriesLargerThanTheClientBuffer_PassWhole(make_breakwater):
    # A client's relay buffer is pkt_buf-sized (4 KiB): queries and pipelines far
    # larger, sent while the client has no server yet, still arrive whole.
    bw = tx_breakwater(make_breakwater, default_pool_size="1")
    text = "x" * 300_000
    with psycopg.connect(bw.dsn(), autocommit=True, prepare_threshold=None) as conn:
        assert conn.execute(f"SELECT length('{text}')").fetchone() == (300_000,)
        assert conn.execute("SELECT length(%s)", (text,)).fetchone() == (300_000,)
        with conn.pipeline():
            cursors = [conn.execute("SELECT %s::int, length(%s)", (i, text[: 1000 * i])) for i in range(20)]
        assert [c.fetchone() for c in cursors] == [(i, 1000 * i) for i in range(20)]


def test_StatementMode_RefusesTransactions(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "statement", "default_pool_size": "1"})
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.Error) as info:
            conn.execute("BEGIN")
        assert "Long transactions not allowed" in str(info.value)
    # The server was not handed on inside a transaction.
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT txid_current_if_assigned()").fetchone() == (None,)
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_SessionMode_KeepsTempTableAcrossTransactions(make_breakwater):
    bw = make_breakwater(settings={"pool_mode": "session", "default_pool_size": "1"})
    with psycopg.connect(bw.dsn()) as conn:
        conn.execute("CREATE TEMP TABLE kept (x int)")
        conn.commit()
        conn.execute("INSERT INTO kept VALUES (1)")
        conn.commit()
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (1,)


def test_PoolModePerDatabaseAndPerUser(make_breakwater, postgres):
    bw = make_breakwater(
        databases={"txdb": f"host=127.0.0.1 port={postgres.port} dbname=postgres pool_mode=transaction pool_size=1"},
        settings={"pool_mode": "session"})
    a = psycopg.connect(bw.dsn("txdb"), autocommit=True)
    b = psycopg.connect(bw.dsn("txdb"), autocommit=True)
    # Transaction mode on txdb: both clients share the single server.
    assert a.execute("SELECT pg_backend_pid()").fetchone() == b.execute("SELECT pg_backend_pid()").fetchone()
    a.close()
    b.close()
