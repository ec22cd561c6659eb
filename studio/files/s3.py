"""Image files in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, s3rver …) through boto3.

Endpoint, credentials and region come from the usual AWS variables, which boto3 reads itself
(`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`, or a role).
Keys are `<prefix>/<relative path>`, the same relative paths a local folder uses.

Browsers get images by presigned GET URLs straight from the bucket, so an app server never holds more
than the one object a user downloads or edits. `STUDIO_S3_PUBLIC_ENDPOINT` signs them for another
address when browsers reach the bucket by a different name than the app servers do.
"""

from __future__ import annotations

import os
import threading
import time
from functools import cached_property
from typing import Any, BinaryIO, Iterator
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from studio.core.errors import StudioError
from studio.files.content import IMAGES_FOLDER, StoredFile, content_path

URL_LIFETIME_S = 3600
URL_REUSE_S = 1800  # a URL is reused this long, so a rerun does not make the browser fetch the image again
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class S3Object:
    """One object, with the Path methods the studio uses on a stored file; str() is its s3:// URL."""

    def __init__(self, storage: "S3Storage", path: str):
        self.storage = storage
        self.path = path
        self.name = path.rsplit("/", 1)[-1]
        self.suffix = "." + self.name.rsplit(".", 1)[-1] if "." in self.name else ""
        self.stem = self.name.removesuffix(self.suffix)

    def __str__(self) -> str:
        return f"s3://{self.storage.bucket}/{self.storage.key(self.path)}"

    def __repr__(self) -> str:
        return f"S3Object({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, S3Object) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))

    def read_bytes(self) -> bytes:
        return self.storage.read(self.path)

    def open(self, mode: str = "rb") -> BinaryIO:
        return self.storage.open(self.path)

    def is_file(self) -> bool:
        return self.storage.exists(self.path)

    exists = is_file


class S3Storage:
    remote = True

    def __init__(self, bucket: str, prefix: str = ""):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self._urls: dict[tuple[str, str | None], tuple[float, str]] = {}
        self._urls_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> "S3Storage":
        parts = urlsplit(url)
        if not parts.netloc:
            raise StudioError(f"STUDIO_STORAGE_URL={url!r} names no bucket; use s3://bucket/prefix.", "bad_storage_url")
        return cls(parts.netloc, parts.path)

    def _client(self, endpoint_url: str | None = None) -> Any:
        # Path-style addressing for S3-compatible servers (MinIO, s3rver …), which rarely have
        # per-bucket DNS names; checksums only when required, which every such server understands.
        endpoint = endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        config = Config(
            s3={"addressing_style": "path" if endpoint else "auto"},
            max_pool_connections=32,
            retries={"max_attempts": 3, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=5,
            read_timeout=60,
        )
        return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)

    @cached_property
    def client(self) -> Any:
        return self._client()  # boto3 clients are thread-safe; one per storage

    @cached_property
    def public_client(self) -> Any:
        public = os.environ.get("STUDIO_S3_PUBLIC_ENDPOINT")
        return self._client(public) if public else self.client

    def key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def absolute(self, path: str) -> S3Object:
        return S3Object(self, path)

    def put(self, data: bytes, extension: str, folder: str = IMAGES_FOLDER) -> StoredFile:
        relative, digest = content_path(data, extension, folder)
        created = not self.exists(relative)
        if created:
            self.put_file(relative, data)
        return StoredFile(relative, digest, len(data), created)

    def put_file(self, relative: str, data: bytes) -> None:
        content_type = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
                        "svg": "image/svg+xml"}
        extension = relative.rsplit(".", 1)[-1].lower()
        # An SVG is a document: opened on its own (not in an <img>) it is downloaded, never rendered as a page.
        extra = {"ContentDisposition": "attachment"} if extension == "svg" else {}
        with self._errors("save the image in"):
            self.client.put_object(
                Bucket=self.bucket, Key=self.key(relative), Body=data,
                ContentType=content_type.get(extension, "application/octet-stream"), **extra,
            )

    def read(self, path: str) -> bytes:
        with self.open(path) as body:
            return body.read()

    def open(self, path: str) -> BinaryIO:
        """The object's body as a stream: read it in chunks to keep memory flat."""
        try:
            with self._errors("read from"):
                return self.client.get_object(Bucket=self.bucket, Key=self.key(path))["Body"]
        except ClientError as exc:  # pragma: no cover - _errors re-raises only missing objects
            raise FileNotFoundError(str(exc)) from None

    def size(self, path: str) -> int | None:
        try:
            with self._errors("look in"):
                return int(self.client.head_object(Bucket=self.bucket, Key=self.key(path))["ContentLength"])
        except FileNotFoundError:
            return None

    def exists(self, path: str) -> bool:
        return self.size(path) is not None

    def delete(self, path: str) -> None:
        with self._errors("delete from"):
            self.client.delete_object(Bucket=self.bucket, Key=self.key(path))

    def files(self, folder: str) -> Iterator[str]:
        yield from (relative for relative, _ in self._entries(folder))

    def listing(self, folder: str) -> dict[str, float]:
        """Every object under `folder` with its LastModified: the listing carries it, no request per object."""
        return dict(self._entries(folder))

    def _entries(self, folder: str) -> Iterator[tuple[str, float]]:
        start = len(self.key(""))
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors("list"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key(folder.rstrip("/") + "/")):
                for entry in page.get("Contents", []):
                    yield entry["Key"][start:], entry["LastModified"].timestamp()

    def source(self, path: str, download_name: str | None = None) -> str:
        """A presigned GET URL the browser loads straight from the bucket (valid ≥ 30 minutes).

        Reused for half an hour so a Streamlit rerun hands the browser the same URL and its cache holds."""
        now = time.time()
        with self._urls_lock:
            made = self._urls.get((path, download_name))
            if made and now - made[0] < URL_REUSE_S:
                return made[1]
        params = {"Bucket": self.bucket, "Key": self.key(path)}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        url = self.public_client.generate_presigned_url("get_object", Params=params, ExpiresIn=URL_LIFETIME_S)
        with self._urls_lock:
            if len(self._urls) > 50_000:  # bounded: a long-running server sees every image in time
                self._urls.clear()
            self._urls[(path, download_name)] = (now, url)
        return url

    def _errors(self, doing: str) -> "_S3Errors":
        return _S3Errors(self, doing)


class _S3Errors:
    """Missing objects become FileNotFoundError (as for a local file); any other failure a StudioError
    that names the bucket and what to check."""

    def __init__(self, storage: S3Storage, doing: str):
        self.storage = storage
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, _tb: Any) -> bool:
        if exc is None or isinstance(exc, (StudioError, FileNotFoundError)):
            return False
        if isinstance(exc, ClientError):
            if _missing(exc):
                raise FileNotFoundError(f"{self.storage.url}: object not found") from None
            code = exc.response.get("Error", {}).get("Code", "error")
            raise StudioError(
                f"Could not {self.doing} object storage {self.storage.url} ({code}); check the bucket, "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
                "storage_failed",
            ) from None
        if isinstance(exc, BotoCoreError):
            raise StudioError(
                f"Could not {self.doing} object storage {self.storage.url} ({type(exc).__name__}); check AWS_ENDPOINT_URL "
                "and that the storage server is up.",
                "storage_failed",
            ) from None
        return False
