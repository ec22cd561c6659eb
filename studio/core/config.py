"""Settings and provider presets.

Every setting comes from the environment or, for the same key, from `.streamlit/secrets.toml`
(the environment wins). The studio core reads that file itself so that the CLI and the pages see
the same configuration without importing Streamlit.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from studio.core.task_api import TaskApi, task_api_from, task_api_problem

PRESETS_FILE = Path(__file__).with_name("presets.toml")
DEFAULT_PROVIDER = "dieyuyun"
DEMO_PROVIDER = "demo"
CUSTOM_PROVIDER = "custom"

SETTING_KEYS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "STUDIO_PROVIDER",
    "STUDIO_MODEL",
    "STUDIO_DATA_DIR",
    "STUDIO_DATABASE_URL",
    "STUDIO_STORAGE_URL",
    "STUDIO_TIMEOUT_S",
    "STUDIO_MAX_RETRIES",
    "STUDIO_PASSWORD",
)


class ConfigError(ValueError):
    """A setting has a value the studio cannot use; the message says which and what to change."""


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    base_url: str
    models: tuple[str, ...]
    accepts_response_format: bool
    tasks: TaskApi = TaskApi()  # its asynchronous task API ([providers.KEY.tasks]); the default is sync

    @property
    def host(self) -> str:
        return base_url_host(self.base_url)


@dataclass(frozen=True)
class Settings:
    api_key: str | None = field(repr=False)  # a secret: kept out of repr so it never lands in a log
    provider: Provider
    model: str
    data_dir: Path
    database_url: str
    timeout_s: float = 300.0
    max_retries: int = 2
    password: str | None = field(default=None, repr=False)  # STUDIO_PASSWORD: a shared deployment's sign-in
    storage_url: str | None = None  # STUDIO_STORAGE_URL: a folder or s3://bucket/prefix; None: data_dir
    key_host: str | None = None  # the host the key was configured for: it is never sent to another
    jobs_per_provider: int = 3  # STUDIO_JOBS_PER_PROVIDER: background jobs sent at once to one provider

    @property
    def base_url(self) -> str:
        return self.provider.base_url

    @property
    def request_window_s(self) -> float:
        """The longest one request can run (every attempt timing out), plus a minute to save what it got:
        a request pending longer than this is dead, and a file younger than this may still get its row."""
        return self.timeout_s * (self.max_retries + 1) + 60

    @property
    def has_key(self) -> bool:
        return bool(self.api_key)

    @property
    def key_is_elsewhere(self) -> bool:
        """A key is configured, but for another host than the current provider's."""
        return not self.api_key and self.key_host is not None and self.key_host != self.provider.host

    def missing_key_message(self) -> str:
        if self.key_is_elsewhere:
            return (
                f"The API key you set is for {self.key_host}, so it is not sent to {self.provider.host}. To use this "
                "provider, set STUDIO_PROVIDER (or OPENAI_BASE_URL) and its OPENAI_API_KEY, then restart."
            )
        return (
            "No API key is set. Set OPENAI_API_KEY in the environment or in .streamlit/secrets.toml, then restart; "
            "or try everything now with the demo endpoint."
        )

    def with_provider(self, provider: Provider, model: str | None = None) -> "Settings":
        """The same settings with another provider. The key goes along only to the host it was set for:
        picking another preset in the sidebar must not send one provider's key to another."""
        api_key = self.api_key if self.key_host is None or provider.host == self.key_host else None
        return replace(self, provider=provider, model=model or provider.models[0], api_key=api_key)

    def for_session(self, provider_key: str | None, model: str | None) -> "Settings":
        """The settings after a provider and model were picked in the sidebar (a preset that has since
        left providers.toml falls back to the configured one)."""
        providers = load_providers(self.data_dir)
        if provider_key is None or provider_key == self.provider.key or provider_key not in providers:
            return replace(self, model=model or self.model)
        return self.with_provider(providers[provider_key], model)


def base_url_host(url: str) -> str:
    """The host (and port) of a base URL: what the studio shows and stores instead of the URL. Never a
    user name or password, even from a URL that slipped past `base_url_problem`."""
    return urlsplit(url).netloc.rpartition("@")[2] or url.rpartition("@")[2]


def base_url_problem(url: str, name: str = "OPENAI_BASE_URL") -> str | None:
    """What is wrong with a base URL, without quoting anything that may be a secret; None when it is usable.
    Credentials in the URL are refused rather than supported: the client would send them as Basic auth
    instead of the key, and the URL would be shown and stored wherever the host is."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"{name} is not a valid URL (check its port); use e.g. https://example.com/v1."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return (f"{name} holds a user name or password (user:pass@host); the studio never puts credentials in a URL. "
                "Remove them and set the key in OPENAI_API_KEY.")
    if parts.scheme not in ("http", "https"):
        return f"{name} must start with http:// or https://, e.g. https://example.com/v1."
    if not parts.hostname:
        return f"{name} has no host; use e.g. https://example.com/v1."
    if parts.query or parts.fragment or "?" in url or "#" in url:  # an empty "?" is still sent, and 404s
        return (f"{name} has a query string or fragment (?... or #...); use the plain base URL, e.g. https://example.com/v1, "
                "and set the key in OPENAI_API_KEY.")
    endpoint = re.search(r"/images/(generations|edits|variations)/*$", parts.path)
    if endpoint:  # the client adds the endpoint itself: a URL copied from an API reference 404s every time
        base = parts.path[: endpoint.start()] or "/v1"
        return f"{name} ends with the endpoint ({endpoint[0].rstrip('/')}); give the base URL only, ending at {base}."
    return None


def key_problem(key: str) -> str | None:
    """What makes an API key unusable before it is sent (its surrounding whitespace is already gone).
    The message never quotes the key."""
    if any(ch.isspace() for ch in key):
        return ("The API key is malformed: it has a space or line break inside it. Copy it again from the provider's "
                "page and set OPENAI_API_KEY.")
    if not key.isascii() or not key.isprintable():
        return ("The API key is malformed: it holds a character other than plain ASCII letters, digits and punctuation (often a typographic quote, "
                "a dash or an invisible space picked up while copying). Copy it again and set OPENAI_API_KEY.")
    return None


def clean_key(key: str | None) -> str | None:
    """A key as pasted: a trailing newline or spaces around it are not part of it."""
    key = key.strip() if key else None
    return key or None


def read_toml(path: Path) -> dict:
    """A TOML file a person edits (in the data folder, or .streamlit/secrets.toml): anything that keeps it
    from being read (not UTF-8, not TOML, not readable) is one ConfigError naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a text file (not UTF-8); fix it or move it aside.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}); fix or remove it.") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read ({exc.strerror}); fix its permissions or move it aside.") from None


# The fields a providers.toml entry may set, and the type each must have.
PROVIDER_FIELDS: dict[str, type] = {"label": str, "base_url": str, "models": list, "accepts_response_format": bool, "tasks": dict}


def _provider_entries(path: Path) -> dict[str, dict]:
    """The `[providers.KEY]` tables of a data folder's providers.toml, checked: a wrong shape is one
    ConfigError saying which entry and field, not a traceback at every start."""
    providers = read_toml(path).get("providers", {})
    if not isinstance(providers, dict):
        raise ConfigError(f"{path}: `providers` must be a table of [providers.NAME] sections; see studio/core/presets.toml.")
    for key, entry in providers.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: providers.{key} must be a [providers.{key}] table; see studio/core/presets.toml.")
        for name, value in entry.items():
            kind = PROVIDER_FIELDS.get(name)
            if kind is not None and not isinstance(value, kind):
                said = {str: "text in quotes", list: "a list of model names", bool: "true or false", dict: "a table"}[kind]
                raise ConfigError(f"{path}: providers.{key}.{name} must be {said}.")
        models = entry.get("models", [])
        if not all(isinstance(m, str) and m.strip() for m in models):
            raise ConfigError(f"{path}: providers.{key}.models must be a list of model names, e.g. [\"gpt-image-2\"].")
    return providers


def load_providers(data_dir: Path | None = None) -> dict[str, Provider]:
    """The shipped presets, with entries from `<data_dir>/providers.toml` layered over them. Every page run
    asks: the files are parsed again only when one of them changed (a broken file is said every time)."""
    own = data_dir / "providers.toml" if data_dir is not None else None
    return dict(_providers(data_dir, file_signature(PRESETS_FILE), file_signature(own) if own else None))


def file_signature(path: Path) -> tuple[int, int] | None:
    """What changes when a person edits the file (None: there is no such file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=32)
def _providers(data_dir: Path | None, presets: tuple[int, int] | None, own: tuple[int, int] | None) -> dict[str, Provider]:
    raw = tomllib.loads(PRESETS_FILE.read_text())["providers"]
    if data_dir is not None and (data_dir / "providers.toml").is_file():
        for key, entry in _provider_entries(data_dir / "providers.toml").items():
            raw[key] = {**raw.get(key, {}), **entry}
    for key, entry in raw.items():
        problem = base_url_problem(entry.get("base_url", ""), f"The base_url of provider {key!r}") if entry.get("base_url") else None
        if problem:
            raise ConfigError(problem)
        problem = task_api_problem(entry["tasks"], f"providers.{key}.tasks") if "tasks" in entry else None
        if problem:
            raise ConfigError(problem)
    return {
        key: Provider(
            key=key,
            label=entry.get("label", key),
            base_url=entry.get("base_url", ""),
            models=tuple(entry.get("models", ())) or ("gpt-image-2",),
            accepts_response_format=bool(entry.get("accepts_response_format", False)),
            tasks=task_api_from(entry.get("tasks")),
        )
        for key, entry in raw.items()
    }


def read_secrets(path: Path) -> dict[str, str]:
    return dict(_secrets(path.resolve(), file_signature(path)))


@functools.lru_cache(maxsize=8)
def _secrets(path: Path, signature: tuple[int, int] | None) -> dict[str, str]:
    if signature is None or not path.is_file():
        return {}
    data = read_toml(path)
    return {k: str(v) for k, v in data.items() if k in SETTING_KEYS}


def load_settings(
    env: Mapping[str, str] | None = None, secrets_path: Path | None = None
) -> Settings:
    env = os.environ if env is None else env
    secrets = read_secrets(secrets_path or Path(".streamlit/secrets.toml"))

    def get(key: str, default: str | None = None) -> str | None:
        value = env.get(key) or secrets.get(key)
        return value if value not in (None, "") else default

    data_dir = Path(get("STUDIO_DATA_DIR", "./data")).expanduser().resolve()
    providers = load_providers(data_dir)
    base_url = get("OPENAI_BASE_URL")
    provider_key = get("STUDIO_PROVIDER") or (CUSTOM_PROVIDER if base_url else DEFAULT_PROVIDER)
    if provider_key not in providers:
        raise ConfigError(
            f"STUDIO_PROVIDER={provider_key!r} is not a known provider; use one of {', '.join(providers)}."
        )
    provider = providers[provider_key]
    if base_url:
        base_url = base_url.strip()
        problem = base_url_problem(base_url)
        if problem:
            raise ConfigError(problem)
    if base_url and provider_key != DEMO_PROVIDER:
        provider = replace(provider, base_url=base_url.rstrip("/"))
    if provider_key == CUSTOM_PROVIDER and not provider.base_url:
        raise ConfigError("The custom provider needs OPENAI_BASE_URL, e.g. https://example.com/v1.")

    timeout_s = _number(get("STUDIO_TIMEOUT_S", "300"), "STUDIO_TIMEOUT_S", float, 1, 3600)
    max_retries = _number(get("STUDIO_MAX_RETRIES", "2"), "STUDIO_MAX_RETRIES", int, 0, 10)
    api_key = clean_key(get("OPENAI_API_KEY"))
    return Settings(
        api_key=api_key,
        provider=provider,
        model=get("STUDIO_MODEL") or provider.models[0],
        data_dir=data_dir,
        database_url=get("STUDIO_DATABASE_URL") or f"sqlite:///{data_dir / 'studio.db'}",
        timeout_s=float(timeout_s),
        max_retries=int(max_retries),
        # A line break cannot be typed into the password box: one from an env file or a secret mount is not
        # part of the password (spaces, which can be typed, are kept).
        password=(get("STUDIO_PASSWORD") or "").strip("\r\n") or None,
        storage_url=get("STUDIO_STORAGE_URL"),
        key_host=provider.host if api_key else None,
        jobs_per_provider=int(_number(get("STUDIO_JOBS_PER_PROVIDER", "3"), "STUDIO_JOBS_PER_PROVIDER", int, 1, 64)),
    )


def _number(raw: str | None, name: str, kind: type, low: float, high: float) -> float | int:
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={raw!r} is not a number; set it to a value from {low} to {high}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range; set it to a value from {low} to {high}.")
    return value
