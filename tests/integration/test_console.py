"""The admin console: PgBouncer's SHOW columns in order, access rules, errors, RELOAD."""

import os
import signal
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
