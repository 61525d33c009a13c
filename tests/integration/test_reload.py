"""RELOAD by SIGHUP: the configuration, auth_file and TLS files are read again for new
logins; a configuration that fails to load changes nothing; settings that need a
restart are reported."""

import os
import signal
import threading
import time

import psycopg
import pytest

from harness import backends, free_port, wait_until


def can_log_in(bw, user, password):
    try:
        with psycopg.connect(bw.dsn(user=user, password=password), connect_timeout=5) as conn:
            return conn.execute("SELECT current_user").fetchone()[0] == user
    except psycopg.OperationalError:
        return False


def rewrite_userlist(bw, entries):
    path = os.path.join(bw.dir, "userlist.txt")
    with open(path, "w") as f:
        for name, secret in entries.items():
            f.write(f'"{name}" "{secret}"\n')


def test_sighup_rereads_auth_file(make_breakwater, postgres):
    postgres.ensure_role("reloaduser")
    bw = make_breakwater(settings={"auth_type": "md5"}, users={"reloaduser": "first"})
    assert can_log_in(bw, "reloaduser", "first")
    rewrite_userlist(bw, {"postgres": "", "reloaduser": "second"})
    bw.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "RELOAD: configuration" in bw.log(), what="the reload")
    assert can_log_in(bw, "reloaduser", "second")
    assert not can_log_in(bw, "reloaduser", "first")


def test_a_broken_configuration_changes_nothing(make_breakwater, postgres):
    postgres.ensure_role("reloaduser")
    bw = make_breakwater(settings={"auth_type": "md5"}, users={"reloaduser": "first"})
    good = open(bw.ini).read()
    with open(bw.ini, "a") as f:
        f.write("no_such_setting = 1\n")
    rewrite_userlist(bw, {"reloaduser": "second"})
    bw.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "RELOAD failed" in bw.log(), what="the failed reload")
    assert "no_such_setting" in bw.log()
    assert can_log_in(bw, "reloaduser", "first"), "the old auth_file stays with the old configuration"
    with open(bw.ini, "w") as f:
        f.write(good)


def test_restart_only_settings_are_reported(make_breakwater):
    bw = make_breakwater()
    text = open(bw.ini).read().replace(f"listen_port = {bw.port}", f"listen_port = {bw.port + 1}")
    with open(bw.ini, "w") as f:
        f.write(text)
    bw.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "listen_port changed; it takes effect after a restart" in bw.log(), what="the warning")
    with psycopg.connect(bw.dsn()) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1


def reload_and_wait(bw):
    done = bw.log().count("RELOAD: configuration")
    bw.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: bw.log().count("RELOAD: configuration") > done, what="the reload")


def test_a_changed_entry_moves_new_servers_and_closes_the_old_when_released(make_breakwater, postgres):
    # PgBouncer's rule: servers of the old destination close as they are released,
    # new ones log in with the entry's new parameters at once.
    postgres.ensure_database("reload_moved")
    entry = f"host=127.0.0.1 port={postgres.port} application_name=bw_retarget dbname="
    bw = make_breakwater(databases={"moving": entry + "postgres"}, settings={"pool_mode": "transaction"})
    old_servers = "application_name = 'bw_retarget' AND datname = 'postgres'"
    with psycopg.connect(bw.dsn(dbname="moving")) as holder:
        holder.execute("SELECT 1")  # a transaction open on a server of the old destination
        assert backends(postgres, old_servers) == 1
        text = open(bw.ini).read().replace(entry + "postgres", entry + "reload_moved")
        with open(bw.ini, "w") as f:
            f.write(text)
        reload_and_wait(bw)
        with psycopg.connect(bw.dsn(dbname="moving"), autocommit=True) as newcomer:
            assert newcomer.execute("SELECT current_database()").fetchone() == ("reload_moved",)
        assert holder.execute("SELECT current_database()").fetchone() == ("postgres",), \
            "a transaction keeps its server"
        assert backends(postgres, old_servers) == 1
        holder.commit()
        wait_until(lambda: backends(postgres, old_servers) == 0, what="the old server to close once released")
        assert holder.execute("SELECT current_database()").fetchone() == ("reload_moved",)
    assert "connection parameters changed" in bw.log()


def test_a_new_password_alone_keeps_the_open_servers(make_breakwater, postgres):
    entry = f"host=127.0.0.1 port={postgres.port} application_name=bw_keep dbname=postgres"
    bw = make_breakwater(databases={"kept": entry}, settings={"pool_mode": "transaction"})
    with psycopg.connect(bw.dsn(dbname="kept"), autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        text = open(bw.ini).read().replace(entry, entry + " password=unused")
        with open(bw.ini, "w") as f:
            f.write(text)
        reload_and_wait(bw)
        assert conn.execute("SELECT pg_backend_pid()").fetchone()[0] == pid
    assert "connection parameters changed" not in bw.log()


def test_a_cancel_reaches_a_server_of_the_old_destination(make_breakwater, postgres):
    # The entry now names a port nobody listens on: a query running on a server
    # of the old destination is still cancelled there.
    entry = f"host=127.0.0.1 application_name=bw_cancel dbname=postgres port="
    bw = make_breakwater(databases={"moving": entry + str(postgres.port)}, settings={"pool_mode": "transaction"})
    with psycopg.connect(bw.dsn(dbname="moving"), autocommit=True) as conn:
        conn.execute("SELECT 1")
        text = open(bw.ini).read().replace(entry + str(postgres.port), entry + str(free_port()))
        with open(bw.ini, "w") as f:
            f.write(text)
        outcome = {}

        def sleep_on_the_server():
            started = time.monotonic()
            try:
                conn.execute("SELECT pg_sleep(20)")
                outcome["error"] = None
            except psycopg.errors.QueryCanceled as error:
                outcome["error"] = error
            outcome["seconds"] = time.monotonic() - started

        sleeper = threading.Thread(target=sleep_on_the_server)
        sleeper.start()
        wait_until(lambda: backends(postgres, "application_name = 'bw_cancel' AND state = 'active'") == 1,
                   what="the query to run")
        reload_and_wait(bw)
        conn.cancel()
        sleeper.join(30)
        assert isinstance(outcome.get("error"), psycopg.errors.QueryCanceled)
        assert outcome["seconds"] < 15


def test_a_removed_database_is_dropped_with_its_clients(make_breakwater, postgres):
    # PgBouncer drops a database whose entry a RELOAD removed: its clients are
    # told "database removed" and closed, its servers close; others carry on.
    gone_entry = f"host=127.0.0.1 port={postgres.port} dbname=postgres application_name=bw_gone"
    bw = make_breakwater(databases={"gone": gone_entry}, settings={"pool_mode": "transaction"})
    with psycopg.connect(bw.dsn(dbname="gone"), autocommit=True) as doomed, \
            psycopg.connect(bw.dsn(), autocommit=True) as other:
        doomed.execute("SELECT 1")
        other.execute("SELECT 1")
        assert backends(postgres, "application_name = 'bw_gone'") == 1
        text = open(bw.ini).read().replace(f"gone = {gone_entry}\n", "")
        with open(bw.ini, "w") as f:
            f.write(text)
        reload_and_wait(bw)
        with pytest.raises(psycopg.OperationalError, match="database removed"):
            wait_until(lambda: doomed.execute("SELECT 1") and False, timeout=5, what="the client to be dropped")
        assert other.execute("SELECT 1").fetchone() == (1,)
        wait_until(lambda: backends(postgres, "application_name = 'bw_gone'") == 0, what="its server to close")
    with pytest.raises(psycopg.OperationalError, match="no such database: gone"):
        psycopg.connect(bw.dsn(dbname="gone"))
    assert "dropping database 'gone'" in bw.log()
