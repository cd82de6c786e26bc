"""The article form's Tags box: written as taggit writes it, read back as it was."""

import re

import pytest

from tests.articles.admin_helpers import change_url
from tests.factories import ArticleFactory, EditorFactory, ImageFactory
from tests.rendered_form import as_post_data, rendered_form

pytestmark = pytest.mark.django_db

AWKWARD = ["Gaza, Strip", "São Paulo", "ports", "Pacific Islands", "Côte d'Ivoire"]


@pytest.fixture
def editor_client(client):
    client.force_login(EditorFactory())
    return client


def published_article():
    return ArticleFactory(published=True, lead_image=ImageFactory())


def tags_box(client, article):
    page = client.get(change_url(article)).content.decode()
    return dict(rendered_form(page, form_id="article_form"))["tags"], page


def save_as_rendered(client, article, **changes):
    page = client.get(change_url(article)).content.decode()
    fields = [
        (name, changes.get(name, value))
        for name, value in rendered_form(page, form_id="article_form")
    ]
    response = client.post(change_url(article), as_post_data(fields, button="_save"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    article.refresh_from_db()


def test_tags_box_writes_names_the_way_taggit_reads_them(editor_client):
    article = published_article()
    article.tags.add(*AWKWARD)
    value, _ = tags_box(editor_client, article)
    assert value == '"Côte d\'Ivoire", "Gaza, Strip", "Pacific Islands", "São Paulo", ports'


def test_tags_box_never_shows_a_python_repr(editor_client):
    article = published_article()
    article.tags.add("ports")
    value, _ = tags_box(editor_client, article)
    assert value == "ports"
    assert not re.search(r"<Tag: ", value)


def test_a_single_tag_with_a_space_stays_one_tag(editor_client):
    article = published_article()
    article.tags.add("São Paulo")
    save_as_rendered(editor_client, article)
    assert list(article.tags.names()) == ["São Paulo"]


def test_saving_twice_keeps_every_awkward_tag_whole(editor_client):
    article = published_article()
    article.tags.add(*AWKWARD)
    save_as_rendered(editor_client, article)
    save_as_rendered(editor_client, article, title="A new title")
    assert sorted(article.tags.names()) == sorted(AWKWARD)
    assert article.title == "A new title"


def test_an_editor_adds_a_quoted_tag_to_the_box(editor_client):
    article = published_article()
    article.tags.add("ports")
    save_as_rendered(editor_client, article, tags='ports, "Gaza, Strip", São Paulo')
    assert sorted(article.tags.names()) == ["Gaza, Strip", "São Paulo", "ports"]


def test_tags_box_keeps_its_suggestions(editor_client):
    article = published_article()
    _, page = tags_box(editor_client, article)
    box = re.search(r'<input[^>]*name="tags"[^>]*>', page).group(0)
    assert 'list="id_tags-suggestions"' in box
    assert "data-autocomplete-url=" in box
    assert '<datalist id="id_tags-suggestions"></datalist>' in page
    assert "js/admin/tag-autocomplete.js" in page
