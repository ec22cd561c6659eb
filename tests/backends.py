"""Real servers for the backend-parametrized tests: PostgreSQL from Debian's package and an S3-compatible
server (npm's s3rver, file-backed, real HTTP), each started once per test session on 127.0.0.1.

Each test gets a fresh database copied from a migrated template (CREATE DATABASE … TEMPLATE, a file copy
of a few MB) and a fresh key prefix in one bucket, so tests stay isolated and fast.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]

S3RVER = ROOT / "tools" / "s3rver" / "node_modules" / ".bin" / "s3rver"
S3_KEY = "S3RVER"  # s3rver accepts only this key pair; it guards nothing
S3_BUCKET = "studio-test"
_names = itertools.count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start: {log.read_text() if log.exists() else ''}")
            time.sleep(0.05)


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (Debian's package).")
    return Path(found[-1]).parent


class PostgresServer:
    """A throwaway cluster in a temp dir. initdb and pg_ctl refuse to run as root, so as root they run
    as the `postgres` user the Debian package creates."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="studio-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        self._run("initdb", "-D", f"{self.root}/data", "-U", "app", "--auth=trust", "-E", "UTF8", "--no-locale")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        self._run("pg_ctl", "-D", f"{self.root}/data", "-l", f"{self.root}/log", "-o", options, "-w", "start")
        self.template = "studio_template"
        self._template_ready = False

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://app@127.0.0.1:{self.port}/{name}"

    def sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=app dbname=postgres", autocommit=True) as conn:
            conn.execute(statement)

    def create_database(self, migrated: bool = True) -> str:
        """A new empty database, or (migrated) a copy of one the studio's migrations already ran on."""
        name = f"studio_{os.getpid()}_{next(_names)}"
        if migrated:
            self._ensure_template()
            self.sql(f"CREATE DATABASE {name} TEMPLATE {self.template} STRATEGY FILE_COPY")
        else:
            self.sql(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        from studio.db.engine import get_engine

        get_engine(url).dispose()
        self.sql(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def _ensure_template(self) -> None:
        if self._template_ready:
            return
        from studio.db.engine import get_engine, migrate

        self.sql(f"CREATE DATABASE {self.template}")
        url = self.url(self.template)
        migrate(url)
        get_engine(url).dispose()  # a template must have no connections when it is copied
        self._template_ready = True

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", f"{self.root}/data", "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class S3Server:
    """s3rver on 127.0.0.1 with a file-backed store in a temp dir, and one bucket for the tests."""

    def __init__(self) -> None:
        if not S3RVER.exists():
            raise RuntimeError(f"{S3RVER} is missing: run `npm ci --prefix tools/s3rver` (scripts/test.sh does).")
        self.root = Path(tempfile.mkdtemp(prefix="studio-s3-"))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        log = self.root / "log"
        self._log = open(log, "w")
        self.process = subprocess.Popen(
            [str(S3RVER), "-d", str(self.root / "store"), "-a", "127.0.0.1", "-p", str(self.port), "-s"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        (self.root / "store").mkdir()
        wait_for_port(self.port, self.process, log)
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.client().create_bucket(Bucket=S3_BUCKET)

    def client(self):  # type: ignore[no-untyped-def]
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=S3_KEY,
                            aws_secret_access_key=S3_KEY, region_name="us-east-1")

    def storage_url(self) -> str:
        return f"s3://{S3_BUCKET}/t{os.getpid()}-{next(_names)}"

    def keys(self, storage_url: str) -> list[str]:
        prefix = storage_url.split("/", 3)[3] + "/"
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=prefix)
        return sorted(entry["Key"][len(prefix):] for page in pages for entry in page.get("Contents", []))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()


def start_s3() -> Iterator[S3Server]:
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()
