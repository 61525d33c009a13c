"""What clients and operators see when something is wrong."""

import asyncio
import socket
import struct
import subprocess
import time

import asyncpg
import psycopg
import pytest

from harness import free_port, wait_until


def connect_error(dsn):
    with pytest.raises(psycopg.OperationalError) as info:
        psycopg.connect(dsn, connect_timeout=20)
    return info.value


def connect_sqlstate(bw, database="postgres", user="postgres", password=None):
    """The SQLSTATE of a refused login (psycopg does not expose it for connect errors; asyncpg does)."""
    async def attempt():
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user=user, database=database,
                                         password=password, ssl=False, timeout=20)
        except asyncpg.PostgresError as e:
            return e.sqlstate, str(e)
        await conn.close()
        return None, "connected"

    return asyncio.run(attempt())


def test_UnknownDatabase_Is3D000(breakwater):
    error = connect_error(breakwater.dsn("nosuchdb"))
    assert "no such database: nosuchdb" in str(error)
    assert connect_sqlstate(breakwater, "nosuchdb") == ("3D000", "no such database: nosuchdb")


def test_MaxClientConn_RefusesTheExtraClientOnly(make_breakwater):
    bw = make_breakwater(settings={"max_client_conn": "2"})
    first = psycopg.connect(bw.dsn())
    second = psycopg.connect(bw.dsn())
    error = connect_error(bw.dsn())
    assert "no more connections allowed (max_client_conn)" in str(error)
    assert connect_sqlstate(bw)[0] == "53300"
    assert first.execute("SELECT 1").fetchone() == (1,)
    first.close()
    # The slot is free once Breakwater has seen the Terminate; that is asynchronous.
    wait_until(lambda: "closing because: client close request" in bw.log(), what="the first client to leave")
    third = psycopg.connect(bw.dsn())
    assert third.execute("SELECT 2").fetchone() == (2,)
    second.close()
    third.close()


def test_BrokenConfig_RefusedWithItsLineNumber(make_breakwater):
    bw = make_breakwater(start=False)
    with open(bw.ini, "a") as f:
        f.write("default_pool_size = many\n")
    lines = open(bw.ini).read().count("\n")
    out = subprocess.run([bw.binary, bw.ini], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert f"{bw.ini}:{lines}: invalid value for default_pool_size" in out.stderr


def test_UnknownSection_Refused(make_breakwater):
    bw = make_breakwater(start=False)
    with open(bw.ini, "a") as f:
        f.write("[pgbouncerr]\nx = 1\n")
    out = subprocess.run([bw.binary, bw.ini], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert "unknown section [pgbouncerr]" in out.stderr


def test_NotSupportedSetting_IsReportedNotIgnored(make_breakwater):
    bw = make_breakwater(settings={"dns_max_ttl": "3"})
    assert "dns_max_ttl is not supported yet" in bw.log()


def test_ServerRefusingConnections_FailsFast(make_breakwater):
    bw = make_breakwater(databases={"down": f"host=127.0.0.1 port={free_port()}"})
    start = time.monotonic()
    error = connect_error(bw.dsn("down"))
    assert "pgbouncer cannot connect to server" in str(error)
    assert time.monotonic() - start < 5


def test_ServerNotAnswering_FailsAfterServerConnectTimeout(make_breakwater):
    # A listener that accepts TCP but never speaks: only the timeout can end the login.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    bw = make_breakwater(databases={"silent": f"host=127.0.0.1 port={port}"},
                         settings={"server_connect_timeout": "1"})
    start = time.monotonic()
    error = connect_error(bw.dsn("silent"))
    elapsed = time.monotonic() - start
    silent.close()
    assert "pgbouncer cannot connect to server" in str(error)
    assert 0.9 <= elapsed < 5, elapsed
    assert "timed out" in bw.log()


def test_UnsupportedStartupParameter_Refused(breakwater):
    error = connect_error(breakwater.dsn(options="'-c geqo=off'"))
    assert "unsupported startup parameter: options" in str(error)


def test_IgnoredStartupParameter_Accepted(make_breakwater):
    bw = make_breakwater(settings={"ignore_startup_parameters": "extra_float_digits, options"})
    with psycopg.connect(bw.dsn(options="'-c geqo=off'")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_Md5Auth_RightAndWrongPasswords(make_breakwater):
    bw = make_breakwater(settings={"auth_type": "md5"})
    with psycopg.connect(bw.dsn(user="md5user", password="md5secret")) as conn:
        # The server login also used md5 (pg_hba says md5 for md5user).
        assert conn.execute("SELECT current_user").fetchone() == ("md5user",)
    error = connect_error(bw.dsn(user="md5user", password="wrong"))
    assert 'password authentication failed for user "md5user"' in str(error)
    assert connect_sqlstate(bw, user="md5user", password="wrong")[0] == "28P01"
    unknown = connect_error(bw.dsn(user="nobody", password="x"))
    assert 'password authentication failed for user "nobody"' in str(unknown)


def test_PlainAuth_AndCleartextServerLogin(make_breakwater):
    bw = make_breakwater(settings={"auth_type": "plain"})
    with psycopg.connect(bw.dsn(user="pwuser", password="plainsecret")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("pwuser",)
    assert "password authentication failed" in str(connect_error(bw.dsn(user="pwuser", password="nope")))
    assert connect_sqlstate(bw, user="pwuser", password="nope")[0] == "28P01"


def test_QueryWaitTimeout_WhenPoolIsBusy(make_breakwater):
    bw = make_breakwater(settings={"default_pool_size": "1", "query_wait_timeout": "1"})
    holder = psycopg.connect(bw.dsn())
    start = time.monotonic()
    error = connect_error(bw.dsn())
    assert "query_wait_timeout" in str(error)
    assert time.monotonic() - start < 5
    holder.close()


def test_GarbageFromClient_GetsProtocolErrorAndOthersContinue(breakwater):
    with psycopg.connect(breakwater.dsn()) as good:
        with socket.create_connection(("127.0.0.1", breakwater.port)) as bad:
            bad.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = bad.recv(1024)
            assert reply[:1] == b"E" and b"08P01" in reply
        assert good.execute("SELECT 1").fetchone() == (1,)


def _raw_login(port):
    """A logged-in client socket (trust), read up to its first ReadyForQuery."""
    body = struct.pack("!i", 196608) + b"user\0postgres\0database\0postgres\0\0"
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(20)
    sock.sendall(struct.pack("!i", len(body) + 4) + body)
    _read_until(sock, b"Z")
    return sock


def _read_until(sock, wanted):
    """Messages up to and including the first of type `wanted`, as (type, body) pairs."""
    messages, data = [], b""
    while True:
        while len(data) >= 5 and len(data) >= 1 + struct.unpack("!i", data[1:5])[0]:
            length = struct.unpack("!i", data[1:5])[0]
            messages.append((data[:1], data[5:1 + length]))
            data = data[1 + length:]
            if messages[-1][0] == wanted:
                return messages
        chunk = sock.recv(65536)
        assert chunk, f"closed before {wanted!r}: {messages}"
        data += chunk


def test_GarbageAfterLogin_IsToldWhatWasWrongAndServerStaysUsable(make_breakwater):
    # A framing error inside a session: the relay's scanner says what was wrong,
    # and that detail reaches both the client's ErrorResponse and the log.
    bw = make_breakwater(settings={"default_pool_size": "1"})
    with _raw_login(bw.port) as bad:
        bad.sendall(b"\x01" + struct.pack("!i", 4))
        error = _read_until(bad, b"E")[-1][1]
        fields = dict((f[:1], f[1:].decode()) for f in error.split(b"\0") if f)
        assert fields[b"C"] == "08P01"
        assert fields[b"M"] == "protocol error: unknown message type 1"
        assert bad.recv(1024) == b""
    wait_until(lambda: "client protocol error: unknown message type 1" in bw.log(), what="the detail in the log")
    # The bytes never reached the server: the pool's only server serves the next client.
    with psycopg.connect(bw.dsn()) as good:
        assert good.execute("SELECT 1").fetchone() == (1,)


def test_ClientLoginTimeout_DropsSilentClient(make_breakwater):
    bw = make_breakwater(settings={"client_login_timeout": "1"})
    with socket.create_connection(("127.0.0.1", bw.port)) as idle:
        # Half a length word: with tcp_defer_accept (on by default) a connection that
        # sends nothing stays in the kernel, as with PgBouncer.
        idle.sendall(b"\x00\x00")
        idle.settimeout(5)
        start = time.monotonic()
        assert idle.recv(1024) == b""
        assert time.monotonic() - start < 4
