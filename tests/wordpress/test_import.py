"""The import_wordpress command on the fixture site and on small exports built per rule."""

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError
from django.utils import timezone
from taggit.models import Tag

from articles.models import Article, Author, Byline, Image, Section
from tests.wordpress.conftest import attachment, item, jpeg, wxr
from wordpress.models import ImportedItem, LegacyURL

pytestmark = pytest.mark.django_db


def article_of(wp_id):
    return ImportedItem.objects.get(kind="post", wp_id=str(wp_id)).article


def snapshot():
    """Everything the import writes, to compare two runs."""
    return {
        "articles": list(
            Article.objects.order_by("pk").values_list(
                "pk", "title", "slug", "body", "status", "publish_at", "version", "section_id",
                "lead_image_id", "dek",
            )
        ),
        "images": list(Image.objects.order_by("pk").values_list("pk", "file", "credit", "alt_text")),
        "authors": list(Author.objects.order_by("pk").values_list("pk", "name", "slug")),
        "bylines": list(Byline.objects.order_by("pk").values_list("article_id", "author_id", "position")),
        "sections": list(Section.objects.order_by("pk").values_list("pk", "slug")),
        "tags": list(Tag.objects.order_by("pk").values_list("pk", "name", "slug")),
        "items": list(ImportedItem.objects.order_by("pk").values_list("pk", "fingerprint", "updated_at")),
        "urls": list(LegacyURL.objects.order_by("pk").values_list("pk", "path", "item_id")),
    }  # fmt: skip


# The fixture site ---------------------------------------------------------------------


def test_classic_post_becomes_a_published_article_with_its_fields(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    article = article_of(100)
    assert article.title == "Protests fill Minsk for a third weekend"
    assert article.slug == "first-post"
    assert article.dek == "The biggest protest since 2010."
    assert article.status == Article.Status.PUBLISHED
    assert article.publish_at == datetime(2019, 3, 1, 9, 0, tzinfo=UTC)
    assert article.first_published_at == article.publish_at
    assert article.is_public


def test_wpautop_restores_paragraphs_and_line_breaks_of_a_classic_post(
    run_import, site_export, uploads
):
    run_import(site_export, media_dir=str(uploads))
    body = article_of(100).body
    assert "<p>Tens of thousands marched on Sunday.</p>" in body
    assert "<p>The police watched.<br>\nNobody was arrested.</p>" in body
    assert "<ul>\n<li>One</li>\n<li>Two</li>\n</ul>" in body
    assert "<p><ul>" not in body and "<p><figure" not in body


def test_caption_shortcode_becomes_a_library_figure_with_the_credit_on_the_image(
    run_import, site_export, uploads
):
    run_import(site_export, media_dir=str(uploads))
    image = ImportedItem.objects.get(kind="attachment", wp_id="10").image
    body = article_of(100).body
    assert (
        f'<figure data-image-id="{image.pk}"><img src="{image.file.url}" '
        f'alt="Thousands of people fill a square" data-image-id="{image.pk}">'
        "<figcaption>Crowds in Minsk on Sunday.</figcaption></figure>"
    ) in body
    assert image.credit == "Vasily Fedosenko/Reuters"
    assert image.caption == "Crowds in Minsk on Sunday."
    assert image.alt_text == "Thousands of people fill a square"
    assert "[caption" not in body and "gazette.example.com/wp-content" not in body


def test_iptc_in_the_file_gives_the_credit_the_export_lacks(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    image = ImportedItem.objects.get(kind="attachment", wp_id="12").image
    assert image.credit == "Ann Agent/AFP"


def test_featured_image_becomes_the_lead_image(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    lead = ImportedItem.objects.get(kind="attachment", wp_id="12").image
    assert article_of(100).lead_image == lead


def test_gallery_becomes_figures_and_embeds_become_plain_links(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    body = article_of(100).body
    agency = ImportedItem.objects.get(kind="attachment", wp_id="12").image
    assert f'<figure data-image-id="{agency.pk}">' in body
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ"' in body
    assert "<iframe" not in body and "<script" not in body


def test_unknown_shortcode_is_kept_as_text_and_counted(run_import, site_export, uploads):
    result = run_import(site_export, media_dir=str(uploads))
    assert '[unknown_widget foo="bar"]' in article_of(100).body
    assert "[unknown_widget] 1" in result.stdout
    assert "unknown shortcode kept as text" in result.problems_of(100)


def test_links_to_the_old_site_become_paths_the_redirects_answer(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    assert 'href="/2019/03/02/second-post/"' in article_of(100).body


def test_block_post_loses_its_block_comments_and_keeps_its_content(
    run_import, site_export, uploads
):
    run_import(site_export, media_dir=str(uploads))
    body = article_of(101).body
    assert "wp:" not in body and "<!--" not in body
    assert "<p>An opening paragraph with <strong>bold</strong> words.</p>" in body
    assert 'href="https://twitter.com/example/status/123"' in body
    assert 'href="https://vimeo.com/76979871"' in body
    assert body.endswith("<p>The end.</p>")


def test_block_image_caption_gives_its_trailing_agency_as_credit(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    assert "<figcaption>The square at noon</figcaption>" in article_of(101).body


def test_missing_media_is_reported_and_never_left_as_a_broken_image(
    run_import, site_export, uploads
):
    result = run_import(site_export, media_dir=str(uploads))
    article = article_of(101)
    assert "lost" not in article.body and "<img" in article.body  # only the library image
    assert article.lead_image is None
    assert "image missing" in result.problems_of(11)
    assert "featured image missing" in result.problems_of(101)
    assert "image dropped" in result.problems_of(101)
    assert ImportedItem.objects.get(kind="attachment", wp_id="11").image is None


def test_co_authors_plus_terms_become_ordered_bylines(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    article = article_of(101)
    assert [author.name for author in article.ordered_authors] == ["Grace Guest", "Jane Doe"]
    guest = Author.objects.get(slug="guest-writer")
    assert ImportedItem.objects.get(kind="author", author=guest).email == (
        "grace@elsewhere.example.org"
    )


def test_authors_come_from_wp_author_with_slug_from_login_and_email_kept_private(
    run_import, site_export, uploads, client
):
    run_import(site_export, media_dir=str(uploads))
    jane = Author.objects.get(slug="jdoe")
    assert jane.name == "Jane Doe"
    assert ImportedItem.objects.get(kind="author", wp_id="jdoe").email == "jane@gazette.example.com"
    page = client.get(jane.get_absolute_url())
    assert page.status_code == 200 and b"jane@gazette.example.com" not in page.content


def test_nested_category_maps_to_its_top_level_section_and_the_child_becomes_a_tag(
    run_import, site_export, uploads
):
    run_import(site_export, media_dir=str(uploads))
    article = article_of(100)
    assert article.section.slug == "news" and article.section.name == "News"
    assert set(article.tags.names()) == {"Climate", "Paris, France", "Москва", "Politics"}
    assert article_of(101).section.name == "Culture & Arts"


def test_tags_keep_commas_and_unicode_and_get_latin_slugs(run_import, site_export, uploads, client):
    run_import(site_export, media_dir=str(uploads))
    moscow = Tag.objects.get(name="Москва")
    assert moscow.slug == "moskva"
    assert Tag.objects.get(name="Paris, France").slug == "paris-france"
    assert client.get("/tag/moskva/").status_code == 200


def test_statuses_map_and_private_or_password_posts_are_never_public(
    run_import, site_export, uploads, client
):
    run_import(site_export, media_dir=str(uploads))
    future = article_of(102)
    assert future.status == Article.Status.SCHEDULED
    assert future.publish_at == datetime(2099, 1, 1, 9, 0, tzinfo=UTC)
    assert not future.is_public
    for wp_id in (103, 104):
        article = article_of(wp_id)
        assert article.status == Article.Status.DRAFT and not article.is_public
    assert article_of(107).status == Article.Status.DRAFT
    assert article_of(107).publish_at is None  # WordPress's floating draft date
    assert article_of(108).status == Article.Status.REVIEW
    listed = client.get("/").content.decode()
    for title in ("Members only", "Password protected", "Coming next week", "Half a thought"):
        assert title not in listed
    assert client.get("/?p=103").status_code == 404
    assert client.get("/2019/04/02/password-protected/").status_code == 404


def test_sticky_post_is_noted(run_import, site_export, uploads):
    result = run_import(site_export, media_dir=str(uploads))
    assert ImportedItem.objects.get(kind="post", wp_id="100").is_sticky
    assert "sticky posts (noted in the import map): 1" in result.stdout


def test_hostile_html_is_sanitised_by_the_site_sanitiser(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    article = article_of(105)
    body = article.body.lower()
    for bad in ("<script", "onerror", "onclick", "onmouseover", "javascript:", "<style", "tracker"):
        assert bad not in body
    assert "<p>Привет, мир.</p>" in article.body
    assert article.title == "Кириллица — naïve café ☕ & “quotes”"
    assert article.slug == "kirillitsa"


def test_malformed_post_is_skipped_and_reported_and_the_rest_go_in(
    run_import, site_export, uploads
):
    result = run_import(site_export, media_dir=str(uploads))
    assert "item skipped: malformed XML" in result.problems_of(106)
    assert not ImportedItem.objects.filter(wp_id="106").exists()
    assert ImportedItem.objects.filter(kind="post").count() == 8


def test_pages_menus_and_guest_author_records_are_skipped_with_counts(
    run_import, site_export, uploads
):
    result = run_import(site_export, media_dir=str(uploads))
    assert "pages skipped: 1" in result.stdout
    assert "skipped: nav_menu_item: 1" in result.stdout
    assert not Article.objects.filter(title="About us").exists()


def test_report_counts_and_problems_csv_carry_the_wordpress_ids(run_import, site_export, uploads):
    result = run_import(site_export, media_dir=str(uploads))
    assert "posts imported: 8" in result.stdout
    assert "images imported: 2" in result.stdout
    assert "authors created: 3" in result.stdout
    assert "problems, listed with their WordPress IDs in" in result.stdout
    assert {row["wordpress_id"] for row in result.problems} >= {"11", "100", "101", "105", "106"}


# Running again --------------------------------------------------------------------------


def test_a_second_run_changes_nothing_and_creates_no_duplicates(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    before = snapshot()
    result = run_import(site_export, media_dir=str(uploads))
    assert snapshot() == before
    assert "posts unchanged: 8" in result.stdout


def test_update_refreshes_a_post_changed_in_the_export(run_import, export_file, uploads):
    first = export_file(wxr(item(wp_id=1, title="Old title", content="Old text.")))
    run_import(first)
    article = article_of(1)
    changed = export_file(wxr(item(wp_id=1, title="New title", content="New text.")))
    result = run_import(changed)
    article.refresh_from_db()
    assert article.title == "Old title"
    assert "posts changed in the export (use --update): 1" in result.stdout
    run_import(changed, update=True)
    article.refresh_from_db()
    assert article.title == "New title" and "New text." in article.body
    assert Article.objects.count() == 1


def test_update_does_not_overwrite_an_article_edited_here_since(run_import, export_file):
    run_import(export_file(wxr(item(wp_id=1, title="Old title"))))
    article = article_of(1)
    article.title = "Edited by our desk"
    article.save()
    result = run_import(export_file(wxr(item(wp_id=1, title="New title"))), update=True)
    article.refresh_from_db()
    assert article.title == "Edited by our desk"
    assert "not updated: edited here since import" in result.problems_of(1)


def test_update_retries_media_that_was_missing(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    (uploads / "2020/05").mkdir(parents=True)
    (uploads / "2020/05/lost.jpg").write_bytes(jpeg())
    run_import(site_export, media_dir=str(uploads))
    assert article_of(101).lead_image is None  # a plain second run changes nothing
    run_import(site_export, media_dir=str(uploads), update=True)
    found = ImportedItem.objects.get(kind="attachment", wp_id="11").image
    assert found is not None and article_of(101).lead_image == found


def test_dry_run_writes_nothing_and_still_reports(run_import, site_export, uploads, settings):
    result = run_import(site_export, media_dir=str(uploads), dry_run=True)
    assert Article.objects.count() == 0 and Image.objects.count() == 0
    assert ImportedItem.objects.count() == LegacyURL.objects.count() == Author.objects.count() == 0
    assert not (settings.MEDIA_ROOT / "images").exists()
    assert "dry run: nothing was stored" in result.stdout
    assert "posts imported: 8" in result.stdout
    assert "image missing" in result.problems_of(11)


def test_an_interrupted_run_resumes_without_duplicates(run_import, export_file, monkeypatch):
    from wordpress import importer

    posts = [item(wp_id=n, title=f"Post {n}") for n in range(1, 6)]
    path = export_file(wxr(*posts))
    real = importer.WordPressImporter.import_post
    seen = []

    def crash_on_the_fourth(self, item, site):
        seen.append(item.wp_id)
        if len(seen) == 4:
            raise KeyboardInterrupt
        return real(self, item, site)

    monkeypatch.setattr(importer.WordPressImporter, "import_post", crash_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        run_import(path)
    assert Article.objects.count() == 3
    monkeypatch.setattr(importer.WordPressImporter, "import_post", real)
    result = run_import(path)
    assert sorted(Article.objects.values_list("title", flat=True)) == [
        f"Post {n}" for n in range(1, 6)
    ]
    assert "posts imported: 2" in result.stdout and "posts unchanged: 3" in result.stdout


# Single rules ---------------------------------------------------------------------------


def test_one_failing_post_is_rolled_back_whole_and_reported(run_import, export_file, monkeypatch):
    from wordpress import importer

    real = importer.WordPressImporter._bylines

    def fail_for_post_2(self, article, item, site, *, replace):
        real(self, article, item, site, replace=replace)
        if item.wp_id == "2":
            raise RuntimeError("database said no")

    monkeypatch.setattr(importer.WordPressImporter, "_bylines", fail_for_post_2)
    result = run_import(export_file(wxr(*(item(wp_id=n, title=f"Post {n}") for n in (1, 2, 3)))))
    assert sorted(Article.objects.values_list("title", flat=True)) == ["Post 1", "Post 3"]
    assert not Byline.objects.filter(article__title="Post 2").exists()
    assert "not imported: error" in result.problems_of(2)


def test_post_date_in_the_sites_zone_is_used_when_gmt_is_missing(run_import, export_file):
    export = wxr(
        item(wp_id=1, date="2021-06-01 12:00:00", date_gmt="2021-06-01 10:00:00"),
        item(wp_id=2, date="2021-06-03 12:00:00", date_gmt="0000-00-00 00:00:00"),
    )
    run_import(export_file(export))
    assert article_of(2).publish_at == datetime(2021, 6, 3, 10, 0, tzinfo=UTC)


def test_wxr_1_1_and_1_0_namespaces_are_read(run_import, export_file):
    for n, version in enumerate(("1.1", "1.0"), start=1):
        run_import(export_file(wxr(item(wp_id=n, title=f"From {version}"), version=version)))
        assert article_of(n).title == f"From {version}"


def test_latin1_declared_export_and_stray_bytes_are_read(run_import, export_file):
    text = wxr(
        item(wp_id=1, title="Café crème", content="Déjà vu"),
        declaration='<?xml version="1.0" encoding="ISO-8859-1" ?>',
    )
    run_import(export_file(text.encode("latin-1")))
    assert article_of(1).title == "Café crème"
    utf8_with_cp1252 = wxr(item(wp_id=2, title="It\u2019s fine", content="x")).encode()
    utf8_with_cp1252 = utf8_with_cp1252.replace("\u2019".encode(), b"\x92").replace(
        b"x]]", b"x\x0b]]"
    )
    run_import(export_file(utf8_with_cp1252))
    assert article_of(2).title == "It\u2019s fine"


def test_a_post_quoting_item_tags_in_cdata_is_one_post(run_import, export_file):
    content = "How RSS works: <code>&lt;item&gt;</code> and raw </item><item> in CDATA."
    run_import(export_file(wxr(item(wp_id=1, content=content), item(wp_id=2))))
    assert "raw" in article_of(1).body and article_of(2) is not None


def test_missing_optional_elements_do_not_stop_a_post(run_import, export_file):
    bare = (
        "<item><title>Bare</title><wp:post_id>9</wp:post_id>"
        "<wp:post_type>post</wp:post_type><wp:status>publish</wp:status></item>"
    )
    result = run_import(export_file(wxr(bare, header="")))
    article = article_of(9)
    assert article.title == "Bare" and article.status == Article.Status.PUBLISHED
    assert article.section.slug == "uncategorized"
    assert "no author" in result.problems_of(9)


def test_xxe_export_is_refused_and_reads_no_file(run_import, export_file, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    text = wxr(item(wp_id=1, title="&xxe;")).replace(
        "?>\n", f'?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>\n', 1
    )
    result = run_import(export_file(text))
    assert Article.objects.count() == 0
    assert any(row["problem"] == "file refused" for row in result.problems)
    assert "TOP-SECRET" not in result.stdout + str(result.problems)


def test_billion_laughs_is_refused(run_import, export_file):
    bomb = (
        '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(8))
        + "]>\n"
    )
    text = wxr(item(wp_id=1, title="&i;")).replace("?>\n", "?>\n" + bomb, 1)
    result = run_import(export_file(text))
    assert Article.objects.count() == 0
    assert any(row["problem"] == "file refused" for row in result.problems)


def test_an_entity_in_one_item_costs_only_that_item(run_import, export_file):
    bad = item(wp_id=1).replace("<title>", "<title>&undefined;", 1)
    result = run_import(export_file(wxr(bad, item(wp_id=2))))
    assert "item skipped: malformed XML" in result.problems_of(1)
    assert article_of(2) is not None


def test_several_exports_in_one_run(run_import, export_file):
    one = export_file(wxr(item(wp_id=1, title="One")))
    two = export_file(wxr(item(wp_id=1, title="Two"), base="https://other.example.org"))
    run_import(one, two)
    assert sorted(Article.objects.values_list("title", flat=True)) == ["One", "Two"]


def test_inline_image_not_listed_as_attachment_is_found_in_the_media_dir(
    run_import, export_file, uploads
):
    content = (
        'Text.\n\n<img src="https://gazette.example.com/wp-content/uploads/2019/03/'
        'crowds-1024x683.jpg" alt="The crowd">\n\nMore.'
    )
    run_import(export_file(wxr(item(wp_id=1, content=content))), media_dir=str(uploads))
    image = Image.objects.get()
    assert image.alt_text == ""  # the file had none; the figure carries the alt text
    assert f'<figure data-image-id="{image.pk}"><img src="{image.file.url}" alt="The crowd"' in (
        article_of(1).body
    )


def test_files_are_downloaded_from_media_base_url(run_import, export_file, uploads, media_server):
    export = wxr(
        attachment(wp_id=5, path="2019/03/crowds.jpg", alt="Crowd", caption="A crowd. Photo: AP"),
        item(wp_id=1, meta={"_thumbnail_id": "5"}),
    )
    run_import(export_file(export), media_base_url=media_server + "/")
    image = article_of(1).lead_image
    assert image is not None and image.credit == "AP" and image.alt_text == "Crowd"


def test_files_are_downloaded_from_the_export_urls(run_import, export_file, uploads, media_server):
    base = media_server.removesuffix("/wp-content/uploads")
    export = wxr(attachment(wp_id=5, path="2019/03/agency.jpg", base=base), item(wp_id=1))
    run_import(export_file(export))
    assert ImportedItem.objects.get(kind="attachment", wp_id="5").image.credit == "Ann Agent/AFP"


def test_a_file_that_is_not_a_picture_is_refused_and_reported(run_import, export_file, uploads):
    (uploads / "2019/03/fake.jpg").write_bytes(b"<?php system($_GET['c']); ?>")
    export = wxr(attachment(wp_id=5, path="2019/03/fake.jpg"))
    result = run_import(export_file(export), media_dir=str(uploads))
    assert Image.objects.count() == 0
    assert "image refused" in result.problems_of(5)


def test_a_path_escaping_the_media_dir_is_not_read(run_import, export_file, uploads, tmp_path):
    (tmp_path / "outside.jpg").write_bytes(jpeg())
    result = run_import(
        export_file(wxr(attachment(wp_id=5, path="../outside.jpg"))), media_dir=str(uploads)
    )
    assert Image.objects.count() == 0 and "image missing" in result.problems_of(5)


def test_renditions_are_left_to_the_worker(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    assert not Image.objects.filter(renditions__isnull=False).exists()


def test_unknown_file_is_a_clear_error(run_import, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        run_import(tmp_path / "nope.xml")


def test_not_an_export_is_refused_with_a_reason(run_import, export_file):
    result = run_import(export_file("<html><body>hello</body></html>"))
    assert [row["problem"] for row in result.problems] == ["file refused"]


def test_yoast_primary_category_chooses_the_section(run_import, export_file):
    header = (
        "<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>news</wp:category_nicename>"
        "<wp:category_parent></wp:category_parent><wp:cat_name>News</wp:cat_name></wp:category>"
        "<wp:category><wp:term_id>8</wp:term_id><wp:category_nicename>sport</wp:category_nicename>"
        "<wp:category_parent></wp:category_parent><wp:cat_name>Sport</wp:cat_name></wp:category>"
    )
    post = item(
        wp_id=1,
        terms=[("category", "news", "News"), ("category", "sport", "Sport")],
        meta={"_yoast_wpseo_primary_category": "8", "_yoast_wpseo_metadesc": "Match report."},
    )
    run_import(export_file(wxr(post, header=header)))
    article = article_of(1)
    assert article.section.slug == "sport"
    assert list(article.tags.names()) == ["News"]
    assert article.seo_description == "Match report."


def test_imported_timestamps_use_the_publish_time_not_now(run_import, site_export, uploads):
    run_import(site_export, media_dir=str(uploads))
    assert article_of(100).publish_at < timezone.now()


def test_a_rolled_back_post_does_not_leave_its_new_tags_and_authors_behind_for_the_next(
    run_import, export_file, monkeypatch
):
    from wordpress import importer

    real = importer.WordPressImporter._legacy_urls

    def fail_for_post_1(self, record, paths, site):
        if record.wp_id == "1":
            raise RuntimeError("disk full")
        return real(self, record, paths, site)

    monkeypatch.setattr(importer.WordPressImporter, "_legacy_urls", fail_for_post_1)
    shared = {"terms": [("post_tag", "fresh", "Fresh"), ("category", "new-section", "New")]}
    export = wxr(
        item(wp_id=1, creator="newcomer", **shared), item(wp_id=2, creator="newcomer", **shared)
    )
    result = run_import(export_file(export))
    assert "not imported: error" in result.problems_of(1)
    article = article_of(2)
    assert list(article.tags.names()) == ["Fresh"]
    assert article.section.slug == "new-section"
    assert [author.slug for author in article.ordered_authors] == ["newcomer"]


def test_a_slug_already_used_here_gets_a_suffix_and_the_old_url_still_leads_to_the_import(
    run_import, export_file, client
):
    from articles.models import OldSlug
    from tests.factories import ArticleFactory

    ours = ArticleFactory(slug="election-night")
    OldSlug.objects.create(article=ours, slug="election-night-2")
    run_import(export_file(wxr(item(wp_id=1, slug="election-night", title="Election night"))))
    imported = article_of(1)
    assert imported.slug == "election-night-3"
    assert client.get("/election-night/")["Location"] == imported.get_absolute_url()
    assert Article.objects.get(pk=ours.pk).slug == "election-night"


def test_an_old_absolute_attached_file_path_is_found_under_the_media_dir(
    run_import, export_file, uploads
):
    old = attachment(wp_id=5, path="2019/03/crowds.jpg").replace(
        "<![CDATA[2019/03/crowds.jpg]]></wp:meta_value>",
        "<![CDATA[/home/site/public_html/wp-content/uploads/2019/03/crowds.jpg]]></wp:meta_value>",
    )
    assert "/home/site/public_html" in old
    run_import(export_file(wxr(old)), media_dir=str(uploads))
    assert ImportedItem.objects.get(kind="attachment", wp_id="5").image is not None
