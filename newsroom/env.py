"""Reading configuration from the environment.

Every variable is optional and has an embedded default; a value that is present but
wrong stops start-up with a ConfigError naming the variable, so an operator sees one
clear line instead of a traceback in the middle of a request.
"""

import re
import zoneinfo
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A configuration variable is missing or cannot be understood."""


def read_bool(environ, name, default):
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off (got {raw!r})")


def read_int(environ, name, default):
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number (got {raw!r})") from None


def read_list(environ, name, default):
    raw = environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def read_language_code(environ, *, default):
    """A language tag such as "en-gb" or "fr": lower case, as Django expects it."""
    raw = environ.get("LANGUAGE_CODE", "").strip() or default
    code = raw.lower().replace("_", "-")
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", code):
        raise ConfigError(f"LANGUAGE_CODE must be a language tag like en-gb or fr (got {raw!r})")
    return code


def read_time_zone(environ, default="UTC"):
    """The newsroom's IANA time zone ("Europe/London"): times are stored in UTC and shown in it."""
    raw = environ.get("TIME_ZONE", "").strip() or default
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"TIME_ZONE must be an IANA time zone name such as Europe/London (got {raw!r})"
        ) from None
    return raw


def read_site_url(environ, default="http://127.0.0.1:8000"):
    raw = environ.get("SITE_URL", "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"SITE_URL must be an absolute http:// or https:// URL (got {raw!r})")
    return raw.rstrip("/")


def read_secret_key(environ, *, debug):
    key = environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if debug:
        # Only ever used on a developer's own machine: DEBUG is on.
        return "django-insecure-newsroom-development-key-never-use-in-production"
    raise ConfigError("SECRET_KEY must be set when DEBUG is off")


def read_database(environ, *, base_dir):
    raw = environ.get("DATABASE_URL", "").strip()
    if not raw:
        # The embedded default: a file under var/, made on first use.
        (base_dir / "var").mkdir(exist_ok=True)
        return sqlite_database(base_dir / "var" / "newsroom.sqlite3")
    scheme = raw.split(":", 1)[0].lower()
    if scheme not in ("postgres", "postgresql", "pgsql", "sqlite"):
        raise ConfigError(
            f"DATABASE_URL must start with postgres:// or sqlite:// (got scheme {scheme!r})"
        )
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except Exception as error:
        raise ConfigError(f"DATABASE_URL cannot be parsed: {error}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return sqlite_database(config["NAME"])
    if not config.get("NAME"):
        raise ConfigError("DATABASE_URL must name a database (postgres://user@host:port/NAME)")
    return config


def sqlite_database(path):
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # WAL lets the web process read while the task worker writes.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


def read_cache(environ):
    redis_url = environ.get("REDIS_URL", "").strip()
    if not redis_url:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "newsroom",
        }
    if urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"REDIS_URL must start with redis://, rediss:// or unix:// (got {redis_url!r})"
        )
    return {
        "BACKEND": "newsroom.redis_cache.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": "newsroom",
        # A Redis that stops answering costs a request half a second, not a hang.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


def read_urls(environ, name):
    """Absolute http(s) URLs separated by commas or spaces; none when unset."""
    urls = re.split(r"[\s,]+", environ.get(name, "").strip())
    urls = [url.rstrip("/") for url in urls if url]
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{name} must list http:// or https:// URLs (got {url!r})")
    return urls
