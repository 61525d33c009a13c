"""TLS on both sides, with a throwaway CA made by the openssl CLI.

Client side: client_tls_sslmode from prefer to verify-full, psycopg/psql/asyncpg over TLS,
plain clients refused when TLS is required, auth_type cert and hostssl/hostnossl hba rules.
Server side: server_tls_sslmode against a PostgreSQL with ssl=on whose pg_hba only lets
TLS in; pg_stat_ssl must show the pooler's backends encrypted.
"""

import asyncio
import os
import ssl
import subprocess
import threading

import asyncpg
import psycopg
import pytest

from harness import PG_BIN, Postgres


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={name}", cwd=directory)


def make_cert(directory, name, ca, subject, alt_names=None):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=directory)
    extra = []
    if alt_names:
        with open(os.path.join(directory, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={alt_names}\n")
        extra = ["-extfile", f"{name}.ext"]
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", *extra, cwd=directory)
    os.chmod(os.path.join(directory, f"{name}.key"), 0o600)


class Certificates:
    def __init__(self, directory):
        self.dir = directory
        make_ca(directory, "ca")
        make_ca(directory, "rogue_ca")
        # One certificate serves Breakwater and the TLS PostgreSQL: both listen on 127.0.0.1.
        make_cert(directory, "server", "ca", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
        make_cert(directory, "certuser", "ca", "/CN=certuser")
        make_cert(directory, "rogue", "rogue_ca", "/CN=certuser")
        # libpq refuses a client key others can read; the test may run as root, keys stay 0600.

    def path(self, name):
        return os.path.join(self.dir, name)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    os.chmod(directory, 0o755)
    return Certificates(str(directory))


@pytest.fixture(scope="module")
def tls_postgres(certs):
    """A PostgreSQL that takes TCP clients over TLS only."""
    pg = Postgres(tls=(certs.path("server.crt"), certs.path("server.key")),
                  hba="hostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n")
    pg.start()
    yield pg
    pg.stop()


def client_tls(certs, mode="require", **extra):
    settings = {"client_tls_sslmode": mode, "client_tls_key_file": certs.path("server.key"),
                "client_tls_cert_file": certs.path("server.crt")}
    settings.update(extra)
    return settings


def ssl_in_use(dsn):
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT 1").fetchone()[0] == 1
        return conn.pgconn.ssl_in_use


def test_require_serves_tls_clients_and_refuses_plain_ones(make_breakwater, certs):
    bw = make_breakwater(settings=client_tls(certs, "require"))
    assert ssl_in_use(bw.dsn(sslmode="require")) is True
    with pytest.raises(psycopg.OperationalError, match="SSL required"):
        psycopg.connect(bw.dsn(sslmode="disable")).close()

    async def plain_sqlstate():
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user="postgres", database="postgres",
                                         ssl=False)
            await conn.close()
        except asyncpg.PostgresError as error:
            return error.sqlstate
        return None

    assert asyncio.run(plain_sqlstate()) == "28000"
    # Unix sockets carry no TLS, as with PostgreSQL: they stay open to local clients.
    with psycopg.connect(f"host={bw.dir} port={bw.port} dbname=postgres user=postgres") as conn:
        assert conn.pgconn.ssl_in_use is False
        assert conn.execute("SELECT 2").fetchone()[0] == 2


def test_prefer_serves_plain_and_tls_side_by_side(make_breakwater, certs):
    bw = make_breakwater(settings=client_tls(certs, "prefer", pool_mode="transaction", default_pool_size="2"))
    errors = []

    def client(mode, expect_tls):
        try:
            with psycopg.connect(bw.dsn(sslmode=mode), autocommit=True, prepare_threshold=None) as conn:
                assert conn.pgconn.ssl_in_use is expect_tls
                for i in range(50):
                    assert conn.execute("SELECT %s::int", (i,)).fetchone()[0] == i
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=client, args=(mode, mode == "require"))
               for mode in ("require", "disable") * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_show_clients_names_each_clients_tls(make_breakwater, certs):
    bw = make_breakwater(settings=client_tls(certs, "prefer", admin_users="postgres"))
    with psycopg.connect(bw.dsn(sslmode="require", application_name="over-tls")) as tls_app, \
            psycopg.connect(bw.dsn(sslmode="disable", application_name="plain")) as plain_app:
        tls_app.execute("SELECT 1")
        plain_app.execute("SELECT 1")
        with psycopg.connect(bw.dsn(dbname="pgbouncer", sslmode="disable"), autocommit=True) as console:
            cur = console.execute("SHOW CLIENTS")
            names = [c.name for c in cur.description]
            rows = {r["application_name"]: r for r in (dict(zip(names, row)) for row in cur.fetchall())}
    assert rows["over-tls"]["tls"].startswith("TLSv1.") and "/" in rows["over-tls"]["tls"]
    assert rows["plain"]["tls"] == ""


def test_verify_full_with_psql_and_asyncpg(make_breakwater, certs):
    bw = make_breakwater(settings=client_tls(certs, "require"))
    dsn = (f"host=localhost port={bw.port} dbname=postgres user=postgres sslmode=verify-full "
           f"sslrootcert={certs.path('ca.crt')}")
    assert ssl_in_use(dsn) is True
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-d", dsn, "-c", "SELECT 'tls ok'"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "tls ok"
    # A client that trusts another CA must refuse Breakwater's certificate.
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(dsn.replace("ca.crt", "rogue_ca.crt")).close()

    async def with_asyncpg():
        context = ssl.create_default_context(cafile=certs.path("ca.crt"))
        conn = await asyncpg.connect(host="localhost", port=bw.port, user="postgres", database="postgres",
                                     ssl=context)
        try:
            return await conn.fetchval("SELECT sum(x) FROM generate_series(1, 1000) x")
        finally:
            await conn.close()

    assert asyncio.run(with_asyncpg()) == 500500


def test_large_results_and_copy_cross_tls(make_breakwater, certs):
    bw = make_breakwater(settings=client_tls(certs, "require"))
    with psycopg.connect(bw.dsn(sslmode="require")) as conn:
        # Many TLS records each way: a 4 MB value out, a 2 MB one in.
        value = conn.execute("SELECT repeat('x', 4000000)").fetchone()[0]
        assert len(value) == 4000000
        sent = "y" * 2000000
        assert conn.execute("SELECT length(%s::text)", (sent,)).fetchone()[0] == 2000000
        rows = conn.execute("SELECT g, md5(g::text) FROM generate_series(1, 50000) g").fetchall()
        assert len(rows) == 50000 and rows[-1][0] == 50000


def test_cert_auth_takes_the_user_from_the_certificate(make_breakwater, certs, postgres):
    postgres.ensure_role("certuser")
    bw = make_breakwater(settings=client_tls(certs, "verify-full", client_tls_ca_file=certs.path("ca.crt"),
                                             auth_type="cert"))
    base = f"host=localhost port={bw.port} dbname=postgres sslmode=verify-full sslrootcert={certs.path('ca.crt')}"
    own = f"sslcert={certs.path('certuser.crt')} sslkey={certs.path('certuser.key')}"
    with psycopg.connect(f"{base} user=certuser {own}") as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "certuser"
    with pytest.raises(psycopg.OperationalError, match='certificate authentication failed for user "postgres"'):
        psycopg.connect(f"{base} user=postgres {own}").close()
    # verify-full: no certificate, or one from another CA, does not get past the handshake.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"{base} user=certuser").close()
    rogue = f"sslcert={certs.path('rogue.crt')} sslkey={certs.path('rogue.key')}"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"{base} user=certuser {rogue}").close()
    assert "TLS handshake failed" in bw.log()


def test_hba_hostssl_and_hostnossl(make_breakwater, certs, tmp_path):
    hba = tmp_path / "hba.conf"
    hba.write_text("hostssl all all 127.0.0.1/32 trust\n"
                   "hostnossl all all 127.0.0.1/32 reject\n")
    bw = make_breakwater(settings=client_tls(certs, "prefer", auth_type="hba", auth_hba_file=str(hba)))
    assert ssl_in_use(bw.dsn(sslmode="require")) is True
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection"):
        psycopg.connect(bw.dsn(sslmode="disable")).close()


def test_bad_certificate_files_stop_the_start(make_breakwater, certs):
    bw = make_breakwater(start=False, settings=client_tls(certs, "require",
                                                          client_tls_cert_file=certs.path("certuser.crt")))
    bw.start(wait=False)
    assert bw.proc.wait(timeout=10) != 0
    assert "does not match certificate" in open(bw.output_path).read() + bw.log()


def tls_backends(postgres):
    return postgres.sql("SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) "
                        "FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
                        "WHERE a.datname = 'postgres' AND a.pid <> pg_backend_pid() AND a.client_addr IS NOT NULL")


@pytest.mark.parametrize("mode", ["require", "verify-full"])
def test_server_tls_reaches_a_tls_only_postgres(make_breakwater, certs, tls_postgres, mode):
    bw = make_breakwater(
        databases={"tlsdb": f"host=localhost port={tls_postgres.port} dbname=postgres"},
        settings={"server_tls_sslmode": mode, "server_tls_ca_file": certs.path("ca.crt"),
                  "pool_mode": "transaction", "default_pool_size": "3"})
    errors = []

    def client():
        try:
            with psycopg.connect(bw.dsn(dbname="tlsdb"), autocommit=True, prepare_threshold=None) as conn:
                for i in range(100):
                    assert conn.execute("SELECT %s::int", (i,)).fetchone()[0] == i
                assert len(conn.execute("SELECT repeat('z', 1000000)").fetchone()[0]) == 1000000
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    # More clients than servers, on two workers: servers move between workers with their TLS session.
    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    encrypted, plain = map(int, tls_backends(tls_postgres).split("|"))
    assert encrypted >= 1 and plain == 0


def test_server_tls_verify_ca_refuses_an_unknown_ca(make_breakwater, certs, tls_postgres):
    bw = make_breakwater(
        databases={"tlsdb": f"host=127.0.0.1 port={tls_postgres.port} dbname=postgres"},
        settings={"server_tls_sslmode": "verify-ca", "server_tls_ca_file": certs.path("rogue_ca.crt")})
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bw.dsn(dbname="tlsdb")).close()
    assert "certificate verify failed" in bw.log()


def test_server_tls_require_refuses_a_plain_postgres(make_breakwater):
    bw = make_breakwater(settings={"server_tls_sslmode": "require"})
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(bw.dsn()).close()
    assert "server does not support TLS" in bw.log()


def test_server_tls_prefer_falls_back_to_plain(make_breakwater, postgres):
    bw = make_breakwater(settings={"server_tls_sslmode": "prefer"})
    with psycopg.connect(bw.dsn()) as conn:
        assert conn.execute("SELECT 3").fetchone()[0] == 3


def test_sighup_rereads_certificates(make_breakwater, certs, tmp_path):
    import shutil
    import signal

    from harness import wait_until

    make_cert(certs.dir, "rogue_server", "rogue_ca", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
    cert, key = str(tmp_path / "live.crt"), str(tmp_path / "live.key")
    shutil.copy(certs.path("server.crt"), cert)
    shutil.copy(certs.path("server.key"), key)
    bw = make_breakwater(settings=client_tls(certs, "require", client_tls_cert_file=cert, client_tls_key_file=key))

    def trusted_by(ca):
        try:
            ssl_in_use(f"host=localhost port={bw.port} dbname=postgres user=postgres sslmode=verify-full "
                       f"sslrootcert={certs.path(ca)}")
            return True
        except psycopg.OperationalError:
            return False

    assert trusted_by("ca.crt") and not trusted_by("rogue_ca.crt")
    shutil.copy(certs.path("rogue_server.crt"), cert)
    shutil.copy(certs.path("rogue_server.key"), key)
    bw.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "RELOAD: configuration" in bw.log(), what="the reload")
    assert trusted_by("rogue_ca.crt") and not trusted_by("ca.crt")


def test_cert_auth_with_psql_and_asyncpg(make_breakwater, certs, postgres):
    postgres.ensure_role("certuser")
    bw = make_breakwater(settings=client_tls(certs, "verify-ca", client_tls_ca_file=certs.path("ca.crt"),
                                             auth_type="cert"))
    dsn = (f"host=localhost port={bw.port} dbname=postgres user=certuser sslmode=verify-full "
           f"sslrootcert={certs.path('ca.crt')} sslcert={certs.path('certuser.crt')} "
           f"sslkey={certs.path('certuser.key')}")
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-d", dsn, "-c", "SELECT current_user"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "certuser"

    async def with_asyncpg(user):
        context = ssl.create_default_context(cafile=certs.path("ca.crt"))
        context.load_cert_chain(certs.path("certuser.crt"), certs.path("certuser.key"))
        conn = await asyncpg.connect(host="localhost", port=bw.port, user=user, database="postgres", ssl=context)
        try:
            return await conn.fetchval("SELECT current_user")
        finally:
            await conn.close()

    assert asyncio.run(with_asyncpg("certuser")) == "certuser"
    with pytest.raises(asyncpg.PostgresError, match='certificate authentication failed for user "postgres"'):
        asyncio.run(with_asyncpg("postgres"))
