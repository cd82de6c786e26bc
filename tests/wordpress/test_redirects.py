"""Old WordPress addresses answer 301 to the imported article, through the test client."""

import pytest

from tests.wordpress.conftest import item, wxr
from wordpress.models import ImportedItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    return {
        wp_id: ImportedItem.objects.get(kind="post", wp_id=wp_id).article.get_absolute_url()
        for wp_id in ("100", "101", "105")
    }


def assert_moved(client, url, target):
    response = client.get(url)
    assert response.status_code == 301, url
    assert response["Location"] == target, url


@pytest.mark.parametrize(
    "url",
    [
        "/?p=100",
        "/index.php?p=100",
        "/2019/03/01/first-post",
        "/2019/03/first-post/",
        "/first-post/",
        "/category/politics/first-post/",
        "/news/politics/first-post/",
        "/category/news/politics/first-post/",
        "/FIRST-POST/",
    ],
)
def test_every_wordpress_url_shape_of_a_post_answers_301(client, imported, url):
    assert_moved(client, url, imported["100"])


def test_custom_permalink_structure_is_read_from_the_export_links(client, imported):
    assert_moved(client, "/culture/block-post/", imported["101"])
    assert_moved(client, "/2020/05/block-post/", imported["101"])


def test_a_date_permalink_like_ours_is_the_article_itself(client, imported):
    # WordPress's /%year%/%monthnum%/%day%/%postname%/ is the site's own article URL.
    assert imported["100"] == "/2019/03/01/first-post/"
    response = client.get("/2019/03/01/first-post/")
    assert response.status_code == 200 and "Protests fill Minsk" in response.content.decode()


def test_percent_encoded_unicode_permalink_answers(client, imported):
    assert_moved(
        client,
        "/2019/05/05/%D0%BA%D0%B8%D1%80%D0%B8%D0%BB%D0%BB%D0%B8%D1%86%D0%B0/",
        imported["105"],
    )


def test_attachment_pages_lead_to_their_post(client, imported):
    assert_moved(client, "/?attachment_id=10", imported["100"])
    assert_moved(client, "/2019/03/01/first-post/crowds-in-minsk/", imported["100"])
    assert_moved(client, "/?p=12", imported["100"])  # the featured image of post 100


def test_an_old_file_url_leads_to_the_library_file(client, imported):
    image = ImportedItem.objects.get(kind="attachment", wp_id="10").image
    assert_moved(client, "/wp-content/uploads/2019/03/crowds.jpg", image.file.url)
    assert_moved(client, "/wp-content/uploads/2019/03/crowds-300x200.jpg", image.file.url)


def test_the_redirect_target_answers(client, imported):
    response = client.get("/?p=100", follow=True)
    assert response.status_code == 200
    assert "Protests fill Minsk" in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/?p=999999", "/?p=abc", "/?page_id=200", "/2019/03/01/never-was/", "/no-such-slug/"]
)
def test_unknown_old_urls_are_404(client, imported, url):
    assert client.get(url).status_code == 404


def test_unpublished_posts_do_not_redirect(client, imported):
    for url in ("/?p=102", "/?p=103", "/?p=107", "/members-only/", "/coming-next-week/"):
        assert client.get(url).status_code == 404, url


def test_site_urls_are_not_taken_over(client, imported):
    assert client.get("/").status_code == 200
    assert client.get("/?page=2").status_code in (200, 404)
    assert client.get("/?page=2").get("Location") is None


def test_home_page_with_no_wordpress_query_costs_the_redirects_no_query(
    client, imported, django_assert_num_queries
):
    client.get("/")  # cached now
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200


def test_a_404_pays_one_lookup_for_legacy_urls(client, imported, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get("/definitely/not/here/")
    legacy = [q for q in queries.captured_queries if "wordpress_" in q["sql"]]
    assert len(legacy) == 1


def test_a_redirect_follows_a_later_slug_change(client, run_import, export_file):
    run_import(export_file(wxr(item(wp_id=1, slug="old-name"))))
    article = ImportedItem.objects.get(wp_id="1").article
    article.slug = "new-name"
    article.save()
    assert_moved(client, "/?p=1", article.get_absolute_url())
    assert "new-name" in client.get("/old-name/")["Location"]


def test_post_requests_are_not_redirected(client, imported):
    assert client.post("/?p=100").status_code != 301


def test_a_failing_lookup_leaves_the_sites_own_answer(client, imported, monkeypatch):
    from django.db import OperationalError

    from wordpress import redirects

    def down(*args):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(redirects, "target_for_path", down)
    monkeypatch.setattr(redirects, "target_for_id", down)
    assert client.get("/no-such-slug/").status_code == 404
    assert client.get("/?p=100").status_code == 200  # the home page answers instead


def test_a_date_permalink_in_the_old_sites_zone_leads_to_the_article(
    client, run_import, export_file
):
    post = item(
        wp_id=1, slug="late-night", date="2021-06-02 01:30:00", date_gmt="2021-06-01 23:30:00"
    )
    run_import(export_file(wxr(post)))
    article = ImportedItem.objects.get(wp_id="1").article
    assert article.get_absolute_url() == "/2021/06/01/late-night/"
    assert_moved(client, "/2021/06/02/late-night/", "/2021/06/01/late-night/")


def test_the_sites_own_pages_pay_no_legacy_lookup_on_404(
    client, imported, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/section/no-such-section/").status_code == 404
    assert not [q for q in queries.captured_queries if "wordpress_" in q["sql"]]
