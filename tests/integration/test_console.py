"""The admin console: PgBouncer's SHOW columns in order, access rules, errors, RELOAD."""

import os
import signal
import socket
import subprocess

import psycopg
import pytest

from harness import PG_BIN, wait_until

# PgBouncer's columns, in order (doc/usage.md of the latest release).
COLUMNS = {
    "POOLS": ["database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req", "cl_waiting_cancel_req",
              "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used", "sv_tested", "sv_login",
              "maxwait", "maxwait_us", "pool_mode", "load_balance_hosts"],
    "DATABASES": ["name", "host", "port", "database", "force_user", "pool_size", "min_pool_size",
                  "reserve_pool_size", "server_lifetime", "pool_mode", "load_balance_hosts", "max_connections",
                  "current_connections", "max_client_connections", "current_client_connections", "paused",
                  "disabled"],
    "USERS": ["name", "pool_size", "reserve_pool_size", "pool_mode", "max_user_connections", "current_connections",
              "max_user_client_connections", "current_client_connections"],
    "CONFIG": ["key", "value", "default", "changeable"],
    "LISTS": ["list", "items"],
    "STATE": ["key", "value"],
    "VERSION": ["version"],
    "PEERS": ["peer_id", "host", "port", "pool_size"],
    "PEER_POOLS": ["peer_id", "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active_cancel", "sv_login"],
    "DNS_HOSTS": ["hostname", "ttl", "addrs"],
    "DNS_ZONES": ["zonename", "serial", "count"],
    "MEM": ["name", "size", "used", "free", "memtotal"],
    "FDS": ["fd", "task", "user", "database", "addr", "port", "cancel", "link", "client_encoding", "std_strings",
            "datestyle", "timezone", "password", "scram_client_key", "scram_server_key"],
}
INT4, INT8, TEXT = 23, 20, 25


@pytest.fixture
def console_bw(make_breakwater, postgres):
    postgres.ensure_role("watcher")
    return make_breakwater(users={"watcher": ""}, settings={"admin_users": "postgres", "stats_users": "watcher",
                                     "pool_mode": "transaction", "default_pool_size": "3"})


def console(bw, user="postgres"):
    return psycopg.connect(bw.dsn(dbname="pgbouncer", user=user), autocommit=True)


def show(bw, what, user="postgres"):
    with console(bw, user) as conn:
        cur = conn.execute(f"SHOW {what}")
        names = [c.name for c in cur.description]
        return names, cur.description, [dict(zip(names, row)) for row in cur.fetchall()]


@pytest.mark.parametrize("what", sorted(COLUMNS))
def test_show_columns_match_pgbouncer(console_bw, what):
    names, _, _ = show(console_bw, what)
    assert names == COLUMNS[what]


def test_show_pools_counts_and_types(console_bw):
    with psycopg.connect(console_bw.dsn(), autocommit=True) as app:
        app.execute("SELECT 1")
        names, description, rows = show(console_bw, "POOLS", user="watcher")
        types = dict(zip(names, (c.type_code for c in description)))
        assert types["cl_active"] == INT4 and types["maxwait_us"] == INT4 and types["database"] == TEXT
        pool = next(r for r in rows if r["database"] == "postgres" and r["user"] == "postgres")
        assert pool["cl_active"] == 1 and pool["cl_waiting"] == 0
        assert pool["sv_idle"] + pool["sv_active"] == 1
        assert pool["pool_mode"] == "transaction"


def test_show_databases_and_config_read_the_configuration(console_bw):
    _, _, rows = show(console_bw, "DATABASES")
    bench = next(r for r in rows if r["name"] == "bench")
    assert bench["database"] == "bench" and bench["pool_size"] == 3 and bench["host"] == "127.0.0.1"
    assert any(r["name"] == "pgbouncer" for r in rows)
    _, _, config = show(console_bw, "CONFIG")
    values = {r["key"]: r for r in config}
    assert values["default_pool_size"]["value"] == "3"
    assert values["default_pool_size"]["default"] == "20"
    assert values["listen_port"]["changeable"] == "no"


def test_help_version_and_fake_parameters(console_bw):
    with console(console_bw) as conn:
        notices = []
        # The diagnostic is valid inside the handler only: keep its text.
        conn.add_notice_handler(lambda d: notices.append((d.message_primary, d.message_detail)))
        conn.execute("SHOW HELP")
        assert notices and notices[0][0] == "Console usage" and "SHOW HELP|CONFIG" in notices[0][1]
        assert conn.execute("SHOW VERSION").fetchone()[0].startswith("PgBouncer ")
        assert conn.execute("SHOW client_encoding").fetchone()[0] == "UTF-8"


def test_psql_reads_the_console(console_bw):
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-d", console_bw.dsn(dbname="pgbouncer"), "-c", "SHOW LISTS"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "pools|" in out.stdout and "used_clients|" in out.stdout


def test_unknown_commands_and_rights(console_bw):
    with console(console_bw, "watcher") as conn:
        with pytest.raises(psycopg.errors.ProtocolViolation, match="invalid command 'FROBNICATE', use SHOW HELP;"):
            conn.execute("FROBNICATE")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="admin access needed"):
            conn.execute("RELOAD")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="admin access needed"):
            conn.execute("SHUTDOWN")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="admin access needed"):
            conn.execute("PAUSE")
        # The session survives its errors.
        assert conn.execute("SHOW STATE").fetchall()[0] == ("active", "yes")


def test_other_users_are_not_allowed(console_bw):
    with pytest.raises(psycopg.OperationalError, match="not allowed"):
        console(console_bw, "md5user").close()


def test_extended_protocol_is_refused(console_bw):
    with console(console_bw) as conn:
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SHOW POOLS", prepare=True)


def test_console_reload_and_set(console_bw):
    text = open(console_bw.ini).read().replace("default_pool_size = 3", "default_pool_size = 7")
    with open(console_bw.ini, "w") as f:
        f.write(text)
    with console(console_bw) as conn:
        conn.execute("RELOAD")
        values = {row[0]: row[1] for row in conn.execute("SHOW CONFIG").fetchall()}
        assert values["default_pool_size"] == "7"
        conn.execute("SET log_connections = 0")
        values = {row[0]: row[1] for row in conn.execute("SHOW CONFIG").fetchall()}
        assert values["log_connections"] == "0"
        with pytest.raises(psycopg.errors.ProtocolViolation, match="only at start-up"):
            conn.execute("SET listen_port = 1")
    with open(console_bw.ini, "a") as f:
        f.write("bogus_key = 1\n")
    with console(console_bw) as conn:
        with pytest.raises(psycopg.Error, match="RELOAD failed"):
            conn.execute("RELOAD")


def test_console_shutdown(console_bw):
    with console(console_bw) as conn:
        try:
            conn.execute("SHUTDOWN")
        except psycopg.OperationalError:
            pass
    assert console_bw.proc.wait(timeout=10) == 0


STATS_COLUMNS = ["database", "total_server_assignment_count", "total_xact_count", "total_query_count",
                 "total_received", "total_sent", "total_xact_time", "total_query_time", "total_wait_time",
                 "total_client_parse_count", "total_server_parse_count", "total_bind_count",
                 "avg_server_assignment_count", "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent",
                 "avg_xact_time", "avg_query_time", "avg_wait_time", "avg_client_parse_count",
                 "avg_server_parse_count", "avg_bind_count"]
SHORT_COLUMNS = ["database", "server_assignment_count", "xact_count", "query_count", "bytes_received",
                 "bytes_sent", "xact_time", "query_time", "wait_time", "client_parse_count", "server_parse_count",
                 "bind_count"]


def stats_of(bw, database="postgres"):
    _, _, rows = show(bw, "STATS")
    return next((r for r in rows if r["database"] == database), {c: 0 for c in STATS_COLUMNS})


def test_stats_columns(console_bw):
    names, description, _ = show(console_bw, "STATS")
    assert names == STATS_COLUMNS
    assert all(c.type_code == INT8 for c in description[1:])
    assert show(console_bw, "STATS_TOTALS")[0] == SHORT_COLUMNS
    assert show(console_bw, "STATS_AVERAGES")[0] == SHORT_COLUMNS
    assert show(console_bw, "TOTALS")[0] == ["name", "value"]


def test_stats_count_a_known_workload(console_bw):
    # The pool's first login links a server to learn its parameters: done before counting.
    psycopg.connect(console_bw.dsn()).close()
    before = stats_of(console_bw)
    with psycopg.connect(console_bw.dsn(), autocommit=True, prepare_threshold=None) as conn:
        for _ in range(1000):
            conn.execute("SELECT 1")
        with conn.transaction():
            conn.execute("SELECT 2")
            conn.execute("SELECT 3")
    after = stats_of(console_bw)
    # 1,000 autocommit queries, then BEGIN, two SELECTs and COMMIT in one transaction.
    assert after["total_xact_count"] - before["total_xact_count"] == 1001
    assert after["total_query_count"] - before["total_query_count"] == 1004
    assert after["total_server_assignment_count"] - before["total_server_assignment_count"] == 1001
    assert after["total_received"] - before["total_received"] > 1000 * 14
    assert after["total_sent"] - before["total_sent"] > 1000 * 20
    assert after["total_xact_time"] > before["total_xact_time"]
    assert after["total_query_time"] > before["total_query_time"]
    _, _, totals = show(console_bw, "TOTALS")
    values = {r["name"]: r["value"] for r in totals}
    assert values["total_xact_count"] >= after["total_xact_count"]


def test_waiting_clients_show_in_pools(make_breakwater):
    bw = make_breakwater(settings={"admin_users": "postgres", "pool_mode": "transaction", "default_pool_size": "1",
                                   "query_wait_timeout": "20"})
    holder = psycopg.connect(bw.dsn(), autocommit=True)
    holder.execute("BEGIN")
    holder.execute("SELECT 1")
    waiter_done = []

    def waiter():
        with psycopg.connect(bw.dsn(), autocommit=True) as conn:
            waiter_done.append(conn.execute("SELECT 2").fetchone()[0])

    import threading
    thread = threading.Thread(target=waiter)
    thread.start()

    def waiting_row():
        rows = show(bw, "POOLS")[2]
        row = next(r for r in rows if r["database"] == "postgres" and r["user"] == "postgres")
        return row if row["cl_waiting"] >= 1 and row["maxwait"] * 1000000 + row["maxwait_us"] > 200000 else None

    wait_until(waiting_row, what="a waiting client in SHOW POOLS")
    holder.execute("COMMIT")
    thread.join(timeout=10)
    holder.close()
    assert waiter_done == [2]
    row = next(r for r in show(bw, "POOLS")[2] if r["database"] == "postgres")
    assert row["cl_waiting"] == 0 and row["maxwait"] == 0



def test_stats_wait_time_counts_waiting_clients_only(make_breakwater):
    bw = make_breakwater(settings={"admin_users": "postgres", "pool_mode": "transaction", "default_pool_size": "1",
                                   "query_wait_timeout": "20"})
    psycopg.connect(bw.dsn()).close()  # the pool's first server, opened before counting
    before = stats_of(bw)
    with psycopg.connect(bw.dsn(), autocommit=True, prepare_threshold=None) as conn:
        for _ in range(200):
            conn.execute("SELECT 1")  # the idle server each time: no wait
    served_at_once = stats_of(bw)
    assert served_at_once["total_server_assignment_count"] - before["total_server_assignment_count"] == 200
    assert served_at_once["total_wait_time"] == before["total_wait_time"]

    import threading
    import time
    holder = psycopg.connect(bw.dsn(), autocommit=True)
    holder.execute("BEGIN")
    holder.execute("SELECT 1")
    waited = []
    thread = threading.Thread(target=lambda: waited.append(
        psycopg.connect(bw.dsn(), autocommit=True).execute("SELECT 2").fetchone()[0]))
    thread.start()
    wait_until(lambda: next(r for r in show(bw, "POOLS")[2] if r["database"] == "postgres")["cl_waiting"] == 1,
               what="the second client waiting")
    time.sleep(0.5)
    holder.execute("COMMIT")
    thread.join(timeout=10)
    holder.close()
    assert waited == [2]
    after = stats_of(bw)
    # It waited from its query to the COMMIT: at least the half second above.
    assert after["total_wait_time"] - served_at_once["total_wait_time"] >= 500_000

def test_stats_period_averages_and_log_stats(make_breakwater):
    bw = make_breakwater(settings={"admin_users": "postgres", "stats_period": "1", "log_stats": "1"})
    with psycopg.connect(bw.dsn(), autocommit=True, prepare_threshold=None) as conn:
        import time
        deadline_rows = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for _ in range(50):
                conn.execute("SELECT 1")
            rows = show(bw, "STATS_AVERAGES")[2]
            deadline_rows = next((r for r in rows if r["database"] == "postgres" and r["xact_count"] > 0), None)
            if deadline_rows:
                break
    assert deadline_rows is not None, "an average over a stats_period with traffic"
    assert deadline_rows["query_count"] > 0 and deadline_rows["bytes_received"] > 0
    wait_until(lambda: "stats: postgres: " in bw.log(), what="a log_stats line")
    line = next(l for l in bw.log().splitlines() if "stats: postgres: " in l and "xacts/s" in l)
    assert " queries/s, " in line and " B/s, " in line and " us, wait " in line


SOCKET_COLUMNS = ["type", "user", "database", "replication", "state", "addr", "port", "local_addr", "local_port",
                  "connect_time", "request_time", "wait", "wait_us", "close_needed", "ptr", "link", "remote_pid",
                  "tls", "application_name", "prepared_statements", "id"]


def test_show_clients_and_servers_link_each_other(console_bw, postgres):
    # Longer than the 15 bytes a client record keeps in place: the name goes to the heap.
    app_name = "nightly-reporting-job"
    app = psycopg.connect(console_bw.dsn(application_name=app_name))  # a transaction stays open: linked
    app.execute("SELECT 1")
    names, description, clients = show(console_bw, "CLIENTS")
    assert names == SOCKET_COLUMNS
    types = dict(zip(names, (c.type_code for c in description)))
    assert types["connect_time"] == 1114 and types["port"] == INT4
    mine = next(c for c in clients if c["application_name"] == app_name)
    assert mine["type"] == "C" and mine["user"] == "postgres" and mine["database"] == "postgres"
    assert mine["state"] == "active" and mine["addr"] == "127.0.0.1" and mine["local_port"] == console_bw.port
    assert mine["local_addr"] == "127.0.0.1" and mine["port"] > 0 and mine["tls"] == ""
    assert mine["link"].startswith("S-0x")
    console_row = next(c for c in clients if c["database"] == "pgbouncer")
    assert console_row["state"] == "idle" and console_row["link"] == ""

    names, _, servers = show(console_bw, "SERVERS")
    assert names == SOCKET_COLUMNS
    linked = next(s for s in servers if s["ptr"] == mine["link"])
    assert linked["type"] == "S" and linked["state"] == "active" and linked["link"] == mine["ptr"]
    assert linked["port"] == postgres.port and linked["application_name"] == app_name
    pids = postgres.sql(f"SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE application_name = '{app_name}'")
    assert str(linked["remote_pid"]) in pids.split(",")
    app.rollback()
    _, _, servers = show(console_bw, "SERVERS")
    assert next(s for s in servers if s["id"] == linked["id"])["state"] == "idle"
    app.close()


def test_kill_client_drops_that_client_only(console_bw):
    victim = psycopg.connect(console_bw.dsn(application_name="victim"), autocommit=True)
    bystander = psycopg.connect(console_bw.dsn(application_name="bystander"), autocommit=True)
    victim.execute("SELECT 1")
    bystander.execute("SELECT 1")
    _, _, clients = show(console_bw, "CLIENTS")
    target = next(c for c in clients if c["application_name"] == "victim")
    with console(console_bw, "watcher") as conn:
        with pytest.raises(psycopg.errors.ProtocolViolation, match="admin access needed"):
            conn.execute(f"KILL_CLIENT {target['id']}")
    with console(console_bw) as conn:
        with pytest.raises(psycopg.errors.ProtocolViolation, match="client not found"):
            conn.execute("KILL_CLIENT 999999")
        with pytest.raises(psycopg.errors.ProtocolViolation, match="invalid client pointer supplied"):
            conn.execute("KILL_CLIENT abc")
        conn.execute(f"KILL_CLIENT {target['id']}")
    with pytest.raises(psycopg.OperationalError):
        victim.execute("SELECT 2")
    assert bystander.execute("SELECT 3").fetchone()[0] == 3
    wait_until(lambda: "admin forced disconnect" in console_bw.log(), what="the log line")
    _, _, clients = show(console_bw, "CLIENTS")
    assert all(c["application_name"] != "victim" for c in clients)
    bystander.close()


def test_sockets_and_active_sockets(console_bw):
    app = psycopg.connect(console_bw.dsn(application_name="busy"))
    app.execute("SELECT 1")  # a transaction stays open: the pair is linked
    idle = psycopg.connect(console_bw.dsn(application_name="quiet"), autocommit=True)
    names, _, rows = show(console_bw, "SOCKETS")
    assert names == SOCKET_COLUMNS + ["recv_pos", "pkt_pos", "pkt_remain", "send_pos", "send_remain", "pkt_avail",
                                      "send_avail"]
    states = {(r["type"], r["application_name"]): r["state"] for r in rows}
    assert states[("C", "busy")] == "cl_active" and states[("C", "quiet")] == "cl_active"
    assert states[("S", "busy")] == "sv_active"
    _, _, active = show(console_bw, "ACTIVE_SOCKETS")
    assert {(r["type"], r["application_name"]) for r in active} == {("C", "busy"), ("S", "busy")}
    app.close()
    idle.close()


def test_show_mem_counts_connections(console_bw):
    with psycopg.connect(console_bw.dsn(), autocommit=True) as app:
        app.execute("SELECT 1")
        _, _, rows = show(console_bw, "MEM")
    mem = {r["name"]: r for r in rows}
    # The app and the console asking.
    assert mem["client_session"]["used"] >= 2 and mem["client_session"]["size"] > 0
    assert mem["server_connection"]["used"] >= 1
    assert mem["pool"]["memtotal"] == mem["pool"]["size"] * mem["pool"]["used"]


def test_show_mem_lists_the_workers_caches(console_bw, sanitized):
    """Relay buffers, relays and coroutine frames, as of the janitor's last round (once a second)."""
    def caches():
        _, _, rows = show(console_bw, "MEM")
        return {r["name"]: r for r in rows if r["name"].startswith(("relay", "task_frame_"))}

    with psycopg.connect(console_bw.dsn(), autocommit=True) as app:
        for _ in range(5):
            app.execute("SELECT 1")
        wait_until(lambda: any(n.startswith("relay_buffer_") for n in caches()), timeout=5,
                   what="a janitor round's census of relay buffers")
    mem = caches()
    buffers = [r for n, r in mem.items() if n.startswith("relay_buffer_")]
    assert all(r["size"] == int(r["name"].rsplit("_", 1)[1]) for r in buffers)
    assert sum(r["used"] + r["free"] for r in buffers) >= 2  # the link's two directions
    assert "relay" in mem and mem["relay"]["used"] + mem["relay"]["free"] >= 1
    # Under AddressSanitizer frames are not cached, nor counted.
    assert any(n.startswith("task_frame_") for n in mem) != sanitized
    for r in mem.values():
        assert r["memtotal"] == r["size"] * (r["used"] + r["free"])


def test_show_fds_lists_sockets_without_secrets(console_bw):
    with psycopg.connect(console_bw.dsn(), autocommit=True) as app:
        app.execute("SELECT 1")
        with socket.socket(fileno=os.dup(app.pgconn.socket)) as own:
            local_port = own.getsockname()[1]
        _, description, rows = show(console_bw, "FDS")
        types = {c.name: c.type_code for c in description}
        assert types["fd"] == INT4 and types["cancel"] == INT8
        client = next(r for r in rows if r["task"] == "client" and r["port"] == local_port)
        assert client["fd"] > 2 and client["user"] == "postgres" and client["database"] == "postgres"
        servers = [r for r in rows if r["task"] == "server"]
        assert servers and all(r["fd"] > 2 for r in servers)
        # Distinct descriptors, and never a secret or a cancel key.
        assert len({r["fd"] for r in rows}) == len(rows)
        assert all(r["password"] is None and r["cancel"] is None and r["scram_client_key"] is None for r in rows)
    with pytest.raises(psycopg.Error, match="admin access needed"):
        show(console_bw, "FDS", user="watcher")
