"""Thousands of idle PostgreSQL clients from one process, for the idle_memory scenario.

pgbench cannot hold 10,000 idle clients, and a driver such as asyncpg would cost more
memory than the pooler under test. Each client here speaks just enough of the protocol
(trust login, one simple query) on a raw asyncio stream. The burst scenario, where the
clients' own speed is measured too, uses burst_client.cpp instead."""

import asyncio
import struct

PROTOCOL_3 = 196608


def startup_packet(user, database):
    body = struct.pack("!i", PROTOCOL_3)
    for key, value in (("user", user), ("database", database)):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def query_packet(sql):
    body = sql.encode() + b"\0"
    return b"Q" + struct.pack("!i", len(body) + 4) + body


class ClientFailed(Exception):
    pass


async def until_ready(reader):
    """Reads messages up to ReadyForQuery; an ErrorResponse fails the client."""
    while True:
        header = await reader.readexactly(5)
        kind, length = header[:1], struct.unpack("!i", header[1:])[0]
        body = await reader.readexactly(length - 4)
        if kind == b"E":
            fields = dict((f[:1], f[1:].decode(errors="replace")) for f in body.split(b"\0") if f)
            raise ClientFailed(f"{fields.get(b'C', '?')} {fields.get(b'M', '')}")
        if kind == b"Z":
            return


class Client:
    """One connection that logs in and runs SELECT 1, then stays open until closed."""

    def __init__(self):
        self.writer = None

    async def login_and_select(self, port, user="postgres", database="postgres"):
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port, limit=4096)
        self.writer.write(startup_packet(user, database))
        await until_ready(reader)
        self.writer.write(query_packet("SELECT 1"))
        await until_ready(reader)

    def close(self):
        if self.writer is not None:
            self.writer.close()


# Logins in flight at once while the idle clients are opened.
CONNECTING_AT_ONCE = 200


async def _open_all(port, count):
    """Opens `count` clients, CONNECTING_AT_ONCE at a time; returns them with the
    failures (text)."""
    clients = [Client() for _ in range(count)]
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    failures = []

    async def one(client):
        async with gate:
            try:
                await client.login_and_select(port)
            except (OSError, asyncio.IncompleteReadError, ClientFailed) as error:
                failures.append(f"{type(error).__name__}: {error}")
                client.close()
                client.writer = None

    await asyncio.gather(*(one(c) for c in clients))
    return clients, failures


async def _close_all(clients):
    for client in clients:
        client.close()
    await asyncio.sleep(0.2)  # let the closes go out before the loop ends


def hold_idle(port, count, while_holding):
    """Opens `count` clients (each ran SELECT 1), calls while_holding() with them all
    connected and idle, then closes them. Returns (failures, while_holding's result)."""

    async def run():
        clients, failures = await _open_all(port, count)
        # Let the pooler settle: Breakwater frees what the logins' burst left in its
        # caches within two janitor rounds (one a second), then trims malloc.
        await asyncio.sleep(3.0)
        result = while_holding()
        await _close_all(clients)
        return failures, result

    return asyncio.run(run())
