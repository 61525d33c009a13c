"""The tcp_* settings reach the pooler's sockets on both sides: the clients'
and the servers' (PgBouncer tunes both). The pooler's own descriptors are
read through pidfd_getfd, which needs the test to be allowed to trace it
(root, or its parent)."""

import ctypes
import os
import signal
import socket

import psycopg

from harness import wait_until

PIDFD_GETFD = 438  # x86_64 and arm64 share the generic syscall table's number


def _inodes_of_connections(pid, local_port=None, remote_port=None):
    """Socket inodes of the process's established IPv4 TCP connections on those ports."""
    found = []
    with open(f"/proc/{pid}/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state != "01":
                continue
            if local_port is not None and int(local.split(":")[1], 16) != local_port:
                continue
            if remote_port is not None and int(remote.split(":")[1], 16) != remote_port:
                continue
            found.append(inode)
    return found


def _descriptor_of(pid, inode):
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == f"socket:[{inode}]":
                return int(name)
        except FileNotFoundError:
            continue
    raise AssertionError(f"no descriptor of {pid} for socket inode {inode}")


def _options(pid, inode):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        fd = libc.syscall(PIDFD_GETFD, pidfd, _descriptor_of(pid, inode), 0)
        assert fd >= 0, f"pidfd_getfd: {os.strerror(ctypes.get_errno())}"
    finally:
        os.close(pidfd)
    with socket.socket(fileno=fd) as sock:  # our own copy of the descriptor
        return {"keepalive": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                "keepidle": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                "keepintvl": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                "keepcnt": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                "user_timeout": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)}


def test_TcpSettingsApplyToServerAndClientSockets(make_breakwater, postgres):
    bw = make_breakwater(settings={"tcp_keepalive": "1", "tcp_keepidle": "77", "tcp_keepintvl": "13",
                                   "tcp_keepcnt": "4", "tcp_user_timeout": "12345"})
    wanted = {"keepalive": 1, "keepidle": 77, "keepintvl": 13, "keepcnt": 4, "user_timeout": 12345}
    with psycopg.connect(bw.dsn()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        servers = _inodes_of_connections(bw.proc.pid, remote_port=postgres.port)
        clients = _inodes_of_connections(bw.proc.pid, local_port=bw.port)
        assert servers, "the pooler holds a server connection"
        assert clients, "the pooler holds the client's connection"
        for inode in servers:
            assert _options(bw.proc.pid, inode) == wanted, "server socket"
        for inode in clients:
            assert _options(bw.proc.pid, inode) == wanted, "client socket"


def test_TcpKeepaliveOffReachesServerSockets(make_breakwater, postgres):
    bw = make_breakwater(settings={"tcp_keepalive": "0"})
    with psycopg.connect(bw.dsn()) as conn:
        conn.execute("SELECT 1")
        servers = _inodes_of_connections(bw.proc.pid, remote_port=postgres.port)
        assert servers
        for inode in servers:
            assert _options(bw.proc.pid, inode)["keepalive"] == 0


def test_ReloadedTcpSettingsReachNewServersOfAnOpenPool(make_breakwater, postgres):
    # PgBouncer applies the tcp_* values current at each connect.
    bw = make_breakwater(settings={"tcp_keepalive": "1", "tcp_keepidle": "77", "pool_mode": "transaction"})
    with psycopg.connect(bw.dsn()) as first:
        first.execute("SELECT 1")  # holds its server in a transaction
        before = set(_inodes_of_connections(bw.proc.pid, remote_port=postgres.port))
        assert [_options(bw.proc.pid, inode)["keepidle"] for inode in before] == [77]
        with open(bw.ini) as f:
            text = f.read().replace("tcp_keepidle = 77", "tcp_keepidle = 88")
        with open(bw.ini, "w") as f:
            f.write(text)
        done = bw.log().count("RELOAD: configuration")
        bw.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: bw.log().count("RELOAD: configuration") > done, what="the reload")
        with psycopg.connect(bw.dsn()) as second:
            second.execute("SELECT 1")  # the pool's first server is busy: a new one logs in
            after = set(_inodes_of_connections(bw.proc.pid, remote_port=postgres.port)) - before
            assert [_options(bw.proc.pid, inode)["keepidle"] for inode in after] == [88]
        assert [_options(bw.proc.pid, inode)["keepidle"] for inode in before] == [77], "open servers keep theirs"
