import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsroom import env
from newsroom.env import ConfigError

BASE_DIR = Path(__file__).resolve().parents[2]


def test_no_database_url_means_the_embedded_sqlite_file(tmp_path):
    config = env.read_database({}, base_dir=tmp_path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == tmp_path / "var" / "newsroom.sqlite3"


def test_a_postgres_database_url_is_understood(tmp_path):
    config = env.read_database(
        {"DATABASE_URL": "postgres://news:secret@db.internal:5433/newsroom"}, base_dir=tmp_path
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 5433, "newsroom")
    assert (config["USER"], config["PASSWORD"]) == ("news", "secret")


def test_a_sqlite_database_url_keeps_the_concurrency_options(tmp_path):
    config = env.read_database({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, base_dir=tmp_path)
    assert config["NAME"] == f"{tmp_path}/x.db"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


@pytest.mark.parametrize(
    "url",
    ["mysql://root@localhost/news", "not a url", "postgres://host:notaport/db", "postgres://host/"],
)
def test_an_unusable_database_url_names_the_variable(url, tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        env.read_database({"DATABASE_URL": url}, base_dir=tmp_path)


def test_secret_key_is_required_when_debug_is_off():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        env.read_secret_key({}, debug=False)


def test_secret_key_has_a_development_default_only_with_debug():
    assert env.read_secret_key({}, debug=True).startswith("django-insecure")
    assert env.read_secret_key({"SECRET_KEY": "s3cret"}, debug=False) == "s3cret"


@pytest.mark.parametrize(
    "raw, expected", [("1", True), ("true", True), ("off", False), ("0", False)]
)
def test_booleans_read_the_usual_words(raw, expected):
    assert env.read_bool({"DEBUG": raw}, "DEBUG", default=None) is expected


def test_a_boolean_that_is_not_one_names_the_variable():
    with pytest.raises(ConfigError, match="EMAIL_USE_TLS"):
        env.read_bool({"EMAIL_USE_TLS": "maybe"}, "EMAIL_USE_TLS", default=False)


def test_site_url_must_be_absolute():
    with pytest.raises(ConfigError, match="SITE_URL"):
        env.read_site_url({"SITE_URL": "example.com"})
    assert env.read_site_url({"SITE_URL": "https://news.example/"}) == "https://news.example"


def test_redis_url_switches_the_cache_to_redis():
    cache = env.read_cache({"REDIS_URL": "redis://127.0.0.1:6379/1"})
    assert cache["BACKEND"] == "newsroom.redis_cache.RedisCache"
    assert env.read_cache({})["BACKEND"].endswith("LocMemCache")


def run_manage(*args, **variables):
    clean = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "newsroom.settings", **variables},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_without_secret_key_in_production_is_one_clear_line():
    result = run_manage("check", DEBUG="0")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "newsroom: configuration error: SECRET_KEY must be set when DEBUG is off"
    )


def test_start_up_with_an_unparsable_database_url_is_one_clear_line():
    result = run_manage("check", DEBUG="0", SECRET_KEY="x" * 50, DATABASE_URL="mysql://nope")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("newsroom: configuration error: DATABASE_URL")


def test_an_https_site_url_turns_on_transport_security():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0)",
        SITE_URL="https://news.example",
        SECRET_KEY="k" * 60,
    )
    assert result.stdout.split() == ["False", "True", "True", "True"], result.stderr


def test_cache_purge_urls_are_separated_by_commas_or_spaces():
    raw = "http://varnish-1:6081/, http://varnish-2:6081 http://10.0.0.3"
    assert env.read_urls({"CACHE_PURGE_URLS": raw}, "CACHE_PURGE_URLS") == [
        "http://varnish-1:6081",
        "http://varnish-2:6081",
        "http://10.0.0.3",
    ]
    assert env.read_urls({}, "CACHE_PURGE_URLS") == []


def test_a_cache_purge_url_that_is_not_http_names_the_variable():
    with pytest.raises(ConfigError, match="CACHE_PURGE_URLS"):
        env.read_urls({"CACHE_PURGE_URLS": "varnish-1:6081"}, "CACHE_PURGE_URLS")
