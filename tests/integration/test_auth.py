"""Client and server authentication with SCRAM-SHA-256, against a real PostgreSQL 15.

PostgreSQL's pg_hba (harness.py) asks scram-sha-256 of scramuser, md5 of md5user and a
cleartext password of pwuser; the other roles are trusted.
"""

import asyncio
import os
import pwd
import subprocess

import asyncpg
import psycopg
import pytest

from harness import PG_BIN


def scram_secret(postgres, role="scramuser"):
    return postgres.sql(f"SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'")


def login_error(bw, user, password):
    with pytest.raises(psycopg.OperationalError) as error:
        psycopg.connect(bw.dsn(user=user, password=password)).close()
    return error.value


def sqlstate_of(bw, user, password):
    """The SQLSTATE of a failed login, read with asyncpg (psycopg hides it for login errors)."""

    async def attempt():
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user=user, password=password,
                                         database="postgres")
            await conn.close()
        except asyncpg.PostgresError as error:
            return error.sqlstate
        return None

    return asyncio.run(attempt())


def current_user_with_every_client(bw, user, password):
    with psycopg.connect(bw.dsn(user=user, password=password)) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == user
    out = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-d", bw.dsn(user=user), "-c", "SELECT current_user"],
                         capture_output=True, text=True, env={**os.environ, "PGPASSWORD": password}, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == user

    async def with_asyncpg():
        conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user=user, password=password,
                                     database="postgres")
        try:
            return await conn.fetchval("SELECT current_user")
        finally:
            await conn.close()

    assert asyncio.run(with_asyncpg()) == user


def test_Scram_PassThrough_WithTheStoredSecretAndNoPassword(make_breakwater, postgres):
    """auth_file holds PostgreSQL's own SCRAM secret; pg_hba demands SCRAM; no password anywhere."""
    bw = make_breakwater(settings={"auth_type": "scram-sha-256"}, users={"scramuser": scram_secret(postgres)})
    current_user_with_every_client(bw, "scramuser", "scramsecret")
    assert "scramsecret" not in bw.log()


def test_Scram_WithAPlainPasswordInAuthFile(make_breakwater, postgres):
    bw = make_breakwater(settings={"auth_type": "scram-sha-256"}, users={"scramuser": "scramsecret"})
    current_user_with_every_client(bw, "scramuser", "scramsecret")


def test_Scram_WrongPasswordAndUnknownUserLookTheSame(make_breakwater, postgres):
    bw = make_breakwater(settings={"auth_type": "scram-sha-256"}, users={"scramuser": scram_secret(postgres)})
    wrong = login_error(bw, "scramuser", "nope")
    assert 'password authentication failed for user "scramuser"' in str(wrong)
    unknown = login_error(bw, "nobody", "nope")
    assert 'password authentication failed for user "nobody"' in str(unknown)
    assert sqlstate_of(bw, "scramuser", "nope") == "28P01"
    assert sqlstate_of(bw, "nobody", "nope") == "28P01"
    assert "nope" not in bw.log()


def test_Scram_Md5SecretCannotAnswerScram(make_breakwater, postgres):
    md5 = postgres.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'md5user'")
    bw = make_breakwater(settings={"auth_type": "scram-sha-256"}, users={"md5user": md5})
    assert sqlstate_of(bw, "md5user", "md5secret") == "28P01"


def test_Md5AuthType_UsesScramForAScramSecret(make_breakwater, postgres):
    bw = make_breakwater(settings={"auth_type": "md5"}, users={"scramuser": scram_secret(postgres)})
    current_user_with_every_client(bw, "scramuser", "scramsecret")
    assert sqlstate_of(bw, "scramuser", "wrong") == "28P01"


def test_PlainAuthType_ChecksACleartextPasswordAgainstAScramSecret(make_breakwater, postgres):
    bw = make_breakwater(settings={"auth_type": "plain"}, users={"scramuser": scram_secret(postgres)})
    with psycopg.connect(bw.dsn(user="scramuser", password="scramsecret"), sslmode="disable") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert sqlstate_of(bw, "scramuser", "wrong") == "28P01"


def test_ServerScram_WithPasswordFromDatabaseEntry(make_breakwater, postgres):
    """The client is trusted; the pooler logs in to PostgreSQL with SCRAM and the entry's password."""
    bw = make_breakwater(databases={"scramdb": f"host=127.0.0.1 port={postgres.port} dbname=postgres "
                                              "user=scramuser password=scramsecret"})
    with psycopg.connect(bw.dsn("scramdb")) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "scramuser"


def test_ServerScram_WithoutPasswordOrKeys_FailsClearly(make_breakwater, postgres):
    bw = make_breakwater(users={"scramuser": ""})
    error = login_error(bw, "scramuser", "")
    assert "pgbouncer cannot connect to server" in str(error)
    assert "neither a plain password nor the keys" in bw.log()


def hba_breakwater(make_breakwater, postgres, tmp_path, rules, **kwargs):
    hba = tmp_path / "hba.conf"
    hba.write_text(rules)
    pg = f"host=127.0.0.1 port={postgres.port}"
    return make_breakwater(settings={"auth_type": "hba", "auth_hba_file": str(hba)},
                           databases={"other": f"{pg} dbname=postgres"}, **kwargs)


HBA_RULES = (
    "local all all peer\n"
    "host  bench all 127.0.0.1/32 reject\n"
    "host  all md5user 127.0.0.1/32 md5\n"
    "host  all scramuser 127.0.0.0 255.0.0.0 scram-sha-256\n"
    "host  postgres,bench all 127.0.0.1/32 trust\n"
)


def test_Hba_RulesPickTheMethodByDatabaseUserAndAddress(make_breakwater, postgres, tmp_path):
    bw = hba_breakwater(make_breakwater, postgres, tmp_path, HBA_RULES,
                        users={"scramuser": scram_secret(postgres)})
    with psycopg.connect(bw.dsn("postgres")) as conn:  # trust
        assert conn.execute("SELECT 1").fetchone() == (1,)
    state, message = sqlstate_and_message(bw, "bench", "postgres", None)
    assert state == "28000" and "pg_hba.conf rejects connection" in message
    state, message = sqlstate_and_message(bw, "other", "postgres", None)
    assert state == "28000" and "no pg_hba.conf entry for host \"127.0.0.1\"" in message
    with psycopg.connect(bw.dsn(user="md5user", password="md5secret")) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "md5user"
    assert sqlstate_and_message(bw, "postgres", "md5user", "wrong")[0] == "28P01"
    current_user_with_every_client(bw, "scramuser", "scramsecret")


def test_Hba_PeerOnTheUnixSocket(make_breakwater, postgres, tmp_path):
    me = pwd.getpwuid(os.getuid()).pw_name
    postgres.ensure_role(me)
    bw = hba_breakwater(make_breakwater, postgres, tmp_path, HBA_RULES)
    with psycopg.connect(host=bw.dir, port=bw.port, dbname="postgres", user=me) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == me
    other = "md5user" if me != "md5user" else "scramuser"
    with pytest.raises(psycopg.OperationalError) as error:
        psycopg.connect(host=bw.dir, port=bw.port, dbname="postgres", user=other).close()
    assert f'peer authentication failed for user "{other}"' in str(error.value)


def test_Hba_BadFileStopsStartUpWithFileAndLine(make_breakwater, postgres, tmp_path):
    bw = hba_breakwater(make_breakwater, postgres, tmp_path, "host all all all trust\nhost all all all ident\n",
                        start=False)
    bw.start(wait=False)
    assert bw.proc.wait(timeout=10) == 1
    assert f"{tmp_path}/hba.conf:2: unsupported authentication method \"ident\"" in open(bw.output_path).read()


def sqlstate_and_message(bw, database, user, password):
    async def attempt():
        try:
            conn = await asyncpg.connect(host="127.0.0.1", port=bw.port, user=user, password=password,
                                         database=database, ssl=False)
            await conn.close()
        except asyncpg.PostgresError as error:
            return error.sqlstate, str(error)
        return None, "connected"

    return asyncio.run(attempt())


@pytest.fixture
def lookup_roles(postgres):
    """Roles auth_file does not list: only auth_query can find their secrets."""
    postgres.ensure_role("authuser")
    postgres.sql("ALTER ROLE authuser SUPERUSER")
    if postgres.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'lookupmd5'") == "0":
        postgres.sql("SET password_encryption = 'md5'; CREATE ROLE lookupmd5 LOGIN PASSWORD 'md5lookup';")
        postgres.sql("SET password_encryption = 'scram-sha-256'; "
                     "CREATE ROLE lookupscram LOGIN PASSWORD 'scramlookup';")


def test_AuthQuery_FindsAnMd5SecretAndLogsInWithIt(make_breakwater, postgres, lookup_roles):
    bw = make_breakwater(settings={"auth_type": "md5", "auth_user": "authuser", "auth_dbname": "postgres"})
    with psycopg.connect(bw.dsn("bench", user="lookupmd5", password="md5lookup")) as conn:
        assert conn.execute("SELECT current_user, current_database()").fetchone() == ("lookupmd5", "bench")
    assert sqlstate_and_message(bw, "postgres", "lookupmd5", "wrong")[0] == "28P01"
    state, message = sqlstate_and_message(bw, "postgres", "nosuchrole", "x")
    assert state == "28P01" and 'password authentication failed for user "nosuchrole"' in message


def test_AuthQuery_ScramSecretPassesThrough(make_breakwater, postgres, lookup_roles):
    bw = make_breakwater(settings={"auth_type": "scram-sha-256", "auth_user": "authuser"})
    current_user_with_every_client(bw, "lookupscram", "scramlookup")
    assert sqlstate_and_message(bw, "postgres", "lookupscram", "wrong")[0] == "28P01"


def test_AuthQuery_PerDatabaseQueryThroughASecurityDefinerFunction(make_breakwater, postgres, lookup_roles):
    postgres.sql("CREATE OR REPLACE FUNCTION public.user_lookup(i_username text, OUT uname text, OUT phash text) "
                 "RETURNS record AS $$ SELECT rolname::text, rolpassword FROM pg_authid "
                 "WHERE rolname = i_username AND rolcanlogin $$ LANGUAGE sql SECURITY DEFINER")
    postgres.ensure_role("lookupagent")
    postgres.sql("REVOKE ALL ON FUNCTION public.user_lookup(text) FROM public; "
                 "GRANT EXECUTE ON FUNCTION public.user_lookup(text) TO lookupagent")
    pg = f"host=127.0.0.1 port={postgres.port} dbname=postgres"
    bw = make_breakwater(settings={"auth_type": "md5"},
                         databases={"app": f"{pg} auth_user=lookupagent "
                                           "auth_query='SELECT uname, phash FROM public.user_lookup($1)'"})
    with psycopg.connect(bw.dsn("app", user="lookupmd5", password="md5lookup")) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "lookupmd5"
