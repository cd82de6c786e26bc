import pytest
from reversion.models import Version
from taggit.models import Tag, TaggedItem

from articles import services
from articles.admin.revisions import readable_text, word_diff
from articles.models import Article
from tests.articles.admin_helpers import article_form_data, change_url
from tests.factories import ArticleFactory, EditorFactory
from tests.rendered_form import as_post_data, rendered_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = EditorFactory(first_name="Ada", last_name="Editor")
    client.force_login(user)
    return user


def edit(client, article, **changes):
    article.refresh_from_db()
    response = client.post(change_url(article), article_form_data(article, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    article.refresh_from_db()
    return article


def submit_rendered(client, url):
    """Open a page with the article form and press Save on what it shows."""
    page = client.get(url).content.decode()
    fields = rendered_form(page, form_id="article_form")
    return client.post(url, as_post_data(fields, button="_save"))


def test_every_admin_save_keeps_a_revision_with_its_author(client, editor):
    article = ArticleFactory(title="First")
    edit(client, article, title="Second")
    edit(client, article, title="Third")
    versions = Version.objects.get_for_object(article)
    assert versions.count() == 2
    assert {v.revision.user for v in versions} == {editor}


def test_history_lists_what_changed(client, editor):
    article = edit(client, ArticleFactory(title="First"), title="Second")
    edit(client, article, dek="A new dek")
    page = client.get(f"/admin/articles/article/{article.pk}/history/").content.decode()
    assert "Ada Editor" in page
    assert "Dek" in page and "changes" in page and "restore" in page


def test_diff_shows_removed_and_added_words(client, editor):
    article = edit(client, ArticleFactory(body="<p>The vote was on Monday.</p>"), title="Start")
    edit(client, article, body="<p>The vote was on Tuesday.</p>")
    version = Version.objects.get_for_object(article).first()
    page = client.get(
        f"/admin/articles/article/{article.pk}/history/{version.pk}/changes/"
    ).content.decode()
    assert "<del>Monday.</del>" in page
    assert "<ins>Tuesday.</ins>" in page


def test_restoring_an_old_revision_brings_back_its_text(client, editor):
    article = edit(client, ArticleFactory(title="Original title"), dek="Original dek")
    original = Version.objects.get_for_object(article).first()
    article = edit(client, article, title="Rewritten title", dek="Rewritten dek")
    url = f"/admin/articles/article/{article.pk}/history/{original.pk}/"
    form_page = client.get(url)
    assert "Original title" in form_page.content.decode()
    data = article_form_data(article, title="Original title", dek="Original dek")
    response = client.post(url, data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.title, article.dek) == ("Original title", "Original dek")
    assert article.version > original.field_dict["version"]


def test_restoring_is_refused_when_someone_saved_meanwhile(client, editor):
    article = edit(client, ArticleFactory(title="Original title"), dek="x")
    original = Version.objects.get_for_object(article).first()
    stale = article_form_data(article, title="Original title")
    Article.objects.get(pk=article.pk).save()  # someone else saves
    response = client.post(f"/admin/articles/article/{article.pk}/history/{original.pk}/", stale)
    assert response.status_code == 200
    assert "changed this article" in response.content.decode()


def test_readable_text_keeps_paragraphs_and_drops_markup():
    assert (
        readable_text("<p>One &amp; two</p><h2>Head</h2><ul><li>Item</li></ul>")
        == "One & two\nHead\nItem"
    )


def test_word_diff_marks_changes():
    assert word_diff("a b c", "a x c") == [
        ("equal", "a"),
        ("delete", "b"),
        ("insert", "x"),
        ("equal", "c"),
    ]


# --- Tags are part of a revision ---------------------------------------------------------


def test_restoring_a_revision_brings_back_its_tags(client, editor):
    article = ArticleFactory(title="Tagged")
    article.tags.add("ports", "Gaza, Strip")
    article = edit(client, article, dek="First dek")
    tagged = Version.objects.get_for_object(article).first()
    article = edit(client, article, tags='"São Paulo"')
    assert list(article.tags.names()) == ["São Paulo"]
    url = f"/admin/articles/article/{article.pk}/history/{tagged.pk}/"
    response = submit_rendered(client, url)
    assert response.status_code == 302
    assert sorted(article.tags.names()) == ["Gaza, Strip", "ports"]


def test_opening_a_revision_changes_nothing_until_saved(client, editor):
    article = ArticleFactory(title="Tagged")
    article.tags.add("ports")
    article = edit(client, article, dek="First dek")
    tagged = Version.objects.get_for_object(article).first()
    article = edit(client, article, tags="harbours")
    page = client.get(f"/admin/articles/article/{article.pk}/history/{tagged.pk}/")
    assert dict(rendered_form(page.content.decode(), form_id="article_form"))["tags"] == "ports"
    assert list(article.tags.names()) == ["harbours"]


def test_a_revision_saved_before_tags_were_kept_offers_the_current_tags(client, editor):
    article = edit(client, ArticleFactory(title="Old"), dek="An old dek")
    old = Version.objects.get_for_object(article).first()
    old.revision.version_set.get_for_model(TaggedItem).delete()  # as revisions were before
    article.tags.add("ports", "São Paulo")
    response = submit_rendered(client, f"/admin/articles/article/{article.pk}/history/{old.pk}/")
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.dek == "An old dek"
    assert sorted(article.tags.names()) == sorted(["ports", "São Paulo"])


def test_restoring_works_when_a_tag_of_the_revision_was_merged_away(client, editor):
    article = ArticleFactory(title="Tagged")
    article.tags.add("port", "trade")
    article = edit(client, article, dek="First dek")
    tagged = Version.objects.get_for_object(article).first()
    port, ports = Tag.objects.get(name="port"), Tag.objects.create(name="ports", slug="ports")
    services.merge_tags(tags=[port, ports], into=ports)
    url = f"/admin/articles/article/{article.pk}/history/{tagged.pk}/"
    assert "merged or deleted since" in client.get(url).content.decode()
    response = submit_rendered(client, url)
    assert response.status_code == 302
    assert list(article.tags.names()) == ["trade"]


def test_history_and_diff_show_tag_changes(client, editor):
    article = ArticleFactory(title="Tagged")
    article.tags.add("ports", "trade")
    article = edit(client, article, dek="First dek")
    article = edit(client, article, tags='ports, "Gaza, Strip"')
    history = client.get(f"/admin/articles/article/{article.pk}/history/").content.decode()
    assert "tags" in history
    newest = Version.objects.get_for_object(article).first()
    page = client.get(
        f"/admin/articles/article/{article.pk}/history/{newest.pk}/changes/"
    ).content.decode()
    assert "<del>trade</del>" in page
    assert "<ins>Gaza, Strip</ins>" in page
