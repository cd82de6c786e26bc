"""`make run PORT=8123`: the site is served there and its absolute links point there."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories import ArticleFactory, ImageFactory

ROOT = Path(__file__).resolve().parents[2]
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned(*arguments, env=None):
    """The commands `make run` would run, without running them."""
    result = subprocess.run(
        ["make", "-n", "run", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return result.stdout


def without_site_url():
    import os

    return {name: value for name, value in os.environ.items() if name != "SITE_URL"}


@needs_make
def test_make_run_on_another_port_serves_and_links_there():
    commands = planned("PORT=8123", env=without_site_url())
    manage = [line for line in commands.splitlines() if "manage.py" in line]
    assert manage, commands
    for line in manage:
        assert "SITE_URL='http://127.0.0.1:8123'" in line, line
    assert re.search(r"manage\.py runserver 127\.0\.0\.1:8123$", commands, re.MULTILINE)
    assert "The admin: http://127.0.0.1:8123/" in commands


@needs_make
def test_make_run_keeps_a_site_url_that_is_set():
    env = {**without_site_url(), "SITE_URL": "http://news.local:9000"}
    commands = planned("PORT=8123", env=env)
    assert "SITE_URL='http://news.local:9000' .venv/bin/python manage.py runserver" in commands
    assert "8123'" not in commands.replace("127.0.0.1:8123", "")


@pytest.mark.django_db
def test_absolute_links_follow_site_url_with_its_port(client, settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    article = ArticleFactory(published=True, lead_image=ImageFactory())
    article.tags.add("ports")
    page = client.get(article.get_absolute_url()).content.decode()
    assert f'<link rel="canonical" href="http://127.0.0.1:8123{article.get_absolute_url()}"' in page
    assert "url=http%3A//127.0.0.1%3A8123/" in page  # the share links
    for path in ("/feed/", "/feed/atom/", "/sitemap.xml", "/robots.txt"):
        body = client.get(path).content.decode()
        assert "http://127.0.0.1:8123/" in body, path
        assert "127.0.0.1:8000" not in body and "testserver" not in body, path


@pytest.mark.django_db
def test_demo_accounts_print_the_full_admin_address(settings):
    import io

    from django.core.management import call_command

    settings.SITE_URL = "http://127.0.0.1:8123"
    out = io.StringIO()
    call_command("ensure_demo_editor", stdout=out)
    assert "log in at http://127.0.0.1:8123/admin/ as 'editor'" in out.getvalue()
