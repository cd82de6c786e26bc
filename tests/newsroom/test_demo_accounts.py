import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from articles import services

pytestmark = pytest.mark.django_db


def ensure_demo_accounts():
    out = io.StringIO()
    call_command("ensure_demo_editor", stdout=out)
    return out.getvalue(), {user.username: user for user in get_user_model().objects.all()}


def log_in(client, username):
    """Through the admin's login form, as a person does (axes needs the request)."""
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": "newsroom-demo"}
    )
    assert response.status_code == 302 and response["Location"] == "/admin/", username


def groups(user):
    return sorted(user.groups.values_list("name", flat=True))


def test_demo_editor_is_an_editor_and_newsletter_editor_not_a_superuser():
    _, users = ensure_demo_accounts()
    editor = users["editor"]
    assert editor.is_staff and not editor.is_superuser
    assert groups(editor) == ["Editor", "Newsletter editor"]
    assert services.can_publish(editor)
    assert editor.has_perm("newsletter.send_issue")
    assert not editor.has_perm("auth.change_user")


def test_demo_writer_is_a_contributor():
    _, users = ensure_demo_accounts()
    writer = users["writer"]
    assert writer.is_staff and not writer.is_superuser
    assert groups(writer) == ["Contributor"]
    assert not services.can_publish(writer)


def test_demo_admin_is_a_separate_superuser():
    _, users = ensure_demo_accounts()
    assert users["admin"].is_superuser and users["admin"].is_staff


def test_demo_accounts_log_in_with_the_printed_password(client):
    output, _ = ensure_demo_accounts()
    for username in ("editor", "writer", "admin"):
        assert f"as '{username}' with password 'newsroom-demo'" in output
        log_in(client, username)
        assert client.get("/admin/").status_code == 200
        client.logout()


def test_demo_editor_sees_what_a_real_editor_sees(client):
    ensure_demo_accounts()
    log_in(client, "editor")
    assert client.get("/admin/articles/article/").status_code == 200
    assert client.get("/admin/newsletter/issue/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403


def test_running_again_puts_an_old_superuser_editor_right_and_keeps_passwords():
    get_user_model().objects.create_superuser("editor", "editor@example.com", "my own secret")
    output, users = ensure_demo_accounts()
    assert not users["editor"].is_superuser
    assert users["editor"].check_password("my own secret")
    assert "as 'editor' with password '(changed)'" in output
    _, users = ensure_demo_accounts()
    assert get_user_model().objects.count() == 3
    assert groups(users["editor"]) == ["Editor", "Newsletter editor"]
