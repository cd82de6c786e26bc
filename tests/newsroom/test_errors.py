import pytest
from django.db import connection
from django.test import RequestFactory

from newsroom import views


@pytest.mark.django_db
def test_404_is_branded_and_offers_search(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'role="search"' in page and "The Newsroom" in page


def test_500_page_renders_without_the_database(monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("the 500 page touched the database")

    monkeypatch.setattr(connection, "cursor", no_database)
    response = views.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and "The Newsroom" in page


def test_503_page_is_branded():
    from django.template import loader

    page = loader.get_template("503.html").render({"site_name": "The Newsroom"})
    assert "The Newsroom" in page and "right back" in page
