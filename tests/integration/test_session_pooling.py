"""Session pooling: limits, waiting, reuse, cleanliness, cancel, COPY, pgbench."""

import re
import subprocess
import threading
import time

import psycopg
import psycopg2

from harness import PG_BIN, kill_client_mid_transaction, wait_until


def test_HundredClients_OnPoolSizeFive_AllServedInTurn(make_breakwater, postgres):
    bw = make_breakwater(settings={"default_pool_size": "5", "max_client_conn": "200"})
    pids, errors = set(), []
    peak = [0]
    lock = threading.Lock()

    def client(i):
        try:
            with psycopg.connect(bw.dsn(application_name=f"c{i}"), connect_timeout=60) as conn:
                pid = conn.execute("SELECT pg_backend_pid() FROM pg_sleep(0.05)").fetchone()[0]
                with lock:
                    pids.add(pid)
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))

    def watch():
        while any(t.is_alive() for t in threads):
            n = int(postgres.sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                                 "AND datname = 'postgres' AND pid <> pg_backend_pid()"))
            peak[0] = max(peak[0], n)
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    watcher = threading.Thread(target=watch)
    watcher.start()
    for t in threads:
        t.join(timeout=120)
    watcher.join()
    assert errors == []
    assert 1 <= len(pids) <= 5
    assert peak[0] <= 5


def test_Pgbench_SessionMode_NoFailedTransactions(make_breakwater, postgres):
    subprocess.run([f"{PG_BIN}/pgbench", "-i", "-s", "1", "-q", "-d", postgres.dsn("bench")], check=True,
                   capture_output=True)
    bw = make_breakwater(settings={"default_pool_size": "20", "max_client_conn": "100"})
    out = subprocess.run([f"{PG_BIN}/pgbench", "-c", "20", "-j", "2", "-T", "5", "-d", bw.dsn("bench")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    processed = int(re.search(r"number of transactions actually processed: (\d+)", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    assert processed > 0
    assert failed is None or int(failed.group(1)) == 0


def test_Copy100MB_InAndOut_RssStaysSmall(make_breakwater, postgres, sanitized):
    bw = make_breakwater()
    # ASan's shadow memory inflates RSS: there, bound the growth instead.
    limit_kib = 64 * 1024 + (bw.rss_kib() if sanitized else 0)
    postgres.sql("DROP TABLE IF EXISTS copy_t; CREATE UNLOGGED TABLE copy_t (line text)")
    row = ("x" * 1000 + "\n").encode()
    chunk = row * 1000  # ~1 MB
    with psycopg.connect(bw.dsn()) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY copy_t FROM STDIN") as copy:
                for _ in range(100):
                    copy.write(chunk)
        conn.commit()
        assert conn.execute("SELECT count(*) FROM copy_t").fetchone() == (100_000,)
        received = 0
        with conn.cursor() as cur:
            with cur.copy("COPY copy_t TO STDOUT") as copy:
                for data in copy:
                    received += len(data)
        assert received == len(chunk) * 100
    peak_kib = bw.rss_kib("VmHWM")
    assert peak_kib < limit_kib, f"peak RSS {peak_kib} KiB, limit {limit_kib} KiB"


def test_Cancel_StopsPgSleepQuickly(breakwater):
    conn = psycopg2.connect(breakwater.dsn())
    cur = conn.cursor()
    timer = threading.Timer(0.5, conn.cancel)
    timer.start()
    start = time.monotonic()
    try:
        cur.execute("SELECT pg_sleep(30)")
        raise AssertionError("pg_sleep was not cancelled")
    except psycopg2.errors.QueryCanceled:
        pass
    elapsed = time.monotonic() - start
    assert elapsed < 2.0, f"cancel took {elapsed:.2f}s"
    conn.rollback()
    cur.execute("SELECT 1")
    assert cur.fetchone() == (1,)
    conn.close()


def test_SessionState_DoesNotLeakToNextClient(make_breakwater):
    bw = make_breakwater(settings={"default_pool_size": "1"})
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        first_pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.execute("CREATE TEMP TABLE leftover (x int)")
        conn.execute("SET work_mem = '7MB'")
        conn.execute("PREPARE stmt AS SELECT 1")
    with psycopg.connect(bw.dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] == first_pid, "server was not reused"
        assert conn.execute("SELECT to_regclass('pg_temp.leftover')").fetchone() == (None,)
        assert conn.execute("SHOW work_mem").fetchone() == ("4MB",)
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)


def test_ClientKilledMidTransaction_ServerIsNotReused(make_breakwater, postgres):
    bw = make_breakwater(settings={"default_pool_size": "1"})
    dirty_pid = kill_client_mid_transaction(bw.dsn())
    with psycopg.connect(bw.dsn()) as conn:
        pid, in_tx = conn.execute("SELECT pg_backend_pid(), txid_current_if_assigned()").fetchone()
        assert pid != dirty_pid
        assert in_tx is None
    wait_until(lambda: postgres.sql(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {dirty_pid}") == "0",
               what="the dirty server to be closed")


def test_ServerTerminatedWhileIdle_IsReplaced(make_breakwater, postgres):
    bw = make_breakwater(settings={"default_pool_size": "1"})
    with psycopg.connect(bw.dsn()) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    postgres.sql(f"SELECT pg_terminate_backend({pid})")
    wait_until(lambda: postgres.sql(f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == "0")
    with psycopg.connect(bw.dsn()) as conn:
        assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] != pid


def test_ServerTerminatedDuringSession_ClientGetsAnError(breakwater, postgres):
    with psycopg.connect(breakwater.dsn(), autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        postgres.sql(f"SELECT pg_terminate_backend({pid})")
        try:
            conn.execute("SELECT 1")
            raise AssertionError("query on a terminated server succeeded")
        except psycopg.OperationalError as e:
            assert "terminat" in str(e) or "crashed" in str(e)
