"""RELOAD by SIGHUP: the configuration, auth_file and TLS files are read again for new
logins; a configuration that fails to load changes nothing; settings that need a
restart are reported."""

import os
import signal

import psycopg
import pytest

from harness import wait_until


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
