"""Real services for the tests: Temporal dev server, SeaweedFS S3, a fresh PostgreSQL database."""

import json
import os
import socket
import subprocess
import uuid
from pathlib import Path

import psycopg

from temporal.dev_server import venv_binary, wait_for_port

PG_ADMIN_URL = os.environ.get("STUDIO_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
S3_ACCESS, S3_SECRET = "studio-test", "studio-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_pair(offset: int = 10_000) -> int:
    """A free port whose +offset twin is free too (SeaweedFS puts gRPC at http port + 10000)."""
    import random

    while True:
        port = random.randint(20_000, 29_999)
        try:
            for p in (port, port + offset):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue


def create_pg_database(admin_url: str) -> tuple[str, str]:
    """A new, empty database on the server: (sqlalchemy url, name)."""
    name = f"studio_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", name


def drop_pg_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_seaweedfs(workdir: Path) -> tuple[subprocess.Popen, str]:
    """SeaweedFS in single-process mode with SigV4 credentials; returns (process, endpoint)."""
    weed = venv_binary("weed")
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "s3.json"
    identity = {"name": "test", "credentials": [{"accessKey": S3_ACCESS, "secretKey": S3_SECRET}]}
    identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(json.dumps({"identities": [identity]}))
    s3_port, master, volume, filer = (free_port_pair() for _ in range(4))
    cmd = [
        weed, "mini", f"-dir={workdir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-s3.port={s3_port}", f"-master.port={master}", f"-volume.port={volume}", f"-filer.port={filer}",
        f"-s3.config={config}",
    ]  # fmt: skip
    log = (workdir / "weed.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    wait_for_port("127.0.0.1", s3_port, timeout=60)
    return proc, f"http://127.0.0.1:{s3_port}"


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def pg_server_answers(url: str = PG_ADMIN_URL) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def start_throwaway_postgres(workdir: Path) -> tuple[list[str], str]:
    """A private PostgreSQL cluster (trust auth, loopback only): (stop command, admin url).

    initdb refuses to run as root, so as root the cluster belongs to the ``postgres`` user.
    """
    import glob
    import pwd

    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    initdb, pg_ctl = f"{bins[-1]}/initdb", f"{bins[-1]}/pg_ctl"
    run_as: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        workdir.mkdir(parents=True, exist_ok=True)
        os.chown(workdir, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "pgdata", free_port()
    subprocess.run([*run_as, initdb, "-A", "trust", "-U", "postgres", "-D", str(data)], check=True, capture_output=True)
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "pg.log"), "-w", "start"],
                   check=True, capture_output=True)  # fmt: skip
    return [
        *run_as,
        pg_ctl,
        "-D",
        str(data),
        "-m",
        "fast",
        "-w",
        "stop",
    ], f"postgresql://postgres@127.0.0.1:{port}/postgres"
