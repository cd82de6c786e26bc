import re
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article, OldSlug
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    EditorFactory,
    ImageFactory,
    NoteFactory,
    RenditionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db


def html_of(response):
    return response.content.decode()


def test_latest_lists_public_articles_newest_first(client):
    older = ArticleFactory(published=True, title="Older story")
    newer = ArticleFactory(published=True, title="Newer story")
    newer.publish_at = timezone.now() - timedelta(minutes=5)
    newer.save()
    page = html_of(client.get("/"))
    assert page.index("Newer story") < page.index("Older story")
    assert older.get_absolute_url() in page


def test_latest_hides_drafts_reviews_and_future_scheduled(client):
    ArticleFactory(title="Draft story")
    ArticleFactory(title="In review story", status=Article.Status.REVIEW)
    ArticleFactory(
        title="Tomorrow's story",
        status=Article.Status.SCHEDULED,
        publish_at=timezone.now() + timedelta(days=1),
    )
    page = html_of(client.get("/"))
    assert "Draft story" not in page
    assert "In review story" not in page
    assert "Tomorrow" not in page


def test_draft_article_is_404_to_the_public(client):
    article = ArticleFactory(publish_at=timezone.now() - timedelta(hours=1))
    assert client.get(article.get_absolute_url()).status_code == 404


def test_scheduled_article_is_404_before_its_time(client):
    article = ArticleFactory(
        status=Article.Status.SCHEDULED, publish_at=timezone.now() + timedelta(hours=2)
    )
    assert client.get(article.get_absolute_url()).status_code == 404


def test_unknown_article_is_branded_404(client):
    response = client.get("/2024/01/02/no-such-story/")
    assert response.status_code == 404
    assert "Page not found" in html_of(response)


def test_article_with_wrong_date_redirects_permanently(client):
    article = ArticleFactory(published=True)
    response = client.get(f"/1999/01/01/{article.slug}/")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()


def test_old_slug_redirects_permanently_to_current_url(client):
    article = ArticleFactory(published=True)
    OldSlug.objects.create(article=article, slug="the-first-headline")
    local = timezone.localtime(article.publish_at)
    response = client.get(f"/{local:%Y/%m/%d}/the-first-headline/")
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()


def test_old_slug_of_unpublished_article_is_404(client):
    article = ArticleFactory(publish_at=timezone.now())
    OldSlug.objects.create(article=article, slug="gone-headline")
    assert client.get("/2024/01/01/gone-headline/").status_code == 404


def test_article_page_shows_labels_title_dek_bylines_and_dates(client):
    first, second = AuthorFactory(name="Ada Reporter"), AuthorFactory(name="Ben Editor")
    article = ArticleFactory(
        published=True, title="Ceasefire holds", kind=Article.Kind.ANALYSIS, authors=[first, second]
    )
    article.updated_at = article.publish_at + timedelta(minutes=30)
    article.save()
    page = html_of(client.get(article.get_absolute_url()))
    assert "Analysis" in page and article.section.name in page
    assert page.count("<h1") == 1
    assert f'<a href="{first.get_absolute_url()}" rel="author">Ada Reporter</a>' in page
    assert page.index("Ada Reporter") < page.index("Ben Editor")
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[^"]+">', page)
    assert "Updated <time" in page


def test_article_page_shows_lead_image_with_caption_and_visible_credit(client):
    image = ImageFactory(credit="Gavriil Grigorov/TASS", source="via Shutterstock")
    article = ArticleFactory(
        published=True, lead_image=image, lead_image_caption="Residents celebrate."
    )
    page = html_of(client.get(article.get_absolute_url()))
    assert "Residents celebrate." in page
    assert '<span class="credit">Photo: Gavriil Grigorov/TASS via Shutterstock</span>' in page
    assert 'fetchpriority="high"' in page


def test_article_page_shows_tags_and_notes(client):
    article = ArticleFactory(published=True)
    article.tags.add("Nagorno-Karabakh")
    note = NoteFactory(article=article, text="We misspelled Stepanakert.")
    page = html_of(client.get(article.get_absolute_url()))
    assert 'href="/tag/nagorno-karabakh/"' in page
    assert f'id="note-{note.pk}"' in page and "We misspelled Stepanakert." in page


def test_related_articles_prefer_shared_tags_then_section(client):
    section, other_section = SectionFactory(), SectionFactory()
    article = ArticleFactory(published=True, section=section)
    article.tags.add("iran", "russia")
    two_tags = ArticleFactory(published=True, section=other_section, title="Shares two tags")
    two_tags.tags.add("iran", "russia")
    one_tag = ArticleFactory(published=True, section=other_section, title="Shares one tag")
    one_tag.tags.add("iran")
    same_section = ArticleFactory(published=True, section=section, title="Same section only")
    ArticleFactory(published=True, section=other_section, title="Unrelated story")
    ArticleFactory(section=section, title="Draft in section")
    page = html_of(client.get(article.get_absolute_url()))
    related = page[page.index('id="related-heading"') :]
    assert related.index("Shares two tags") < related.index("Shares one tag")
    assert related.index("Shares one tag") < related.index(same_section.title)
    assert "Unrelated story" not in related
    assert "Draft in section" not in related


def test_related_articles_skip_unpublished_tag_matches_and_fill_from_section(client):
    section = SectionFactory()
    article = ArticleFactory(published=True, section=section)
    article.tags.add("sahel")
    ArticleFactory(section=section, title="Draft sharing the tag").tags.add("sahel")
    shared = ArticleFactory(published=True, title="Public sharing the tag")
    shared.tags.add("sahel")
    for number in range(4):
        ArticleFactory(published=True, section=section, title=f"Section story {number}")
    page = html_of(client.get(article.get_absolute_url()))
    related = page[page.index('id="related-heading"') :]
    assert "Draft sharing the tag" not in related
    assert related.index("Public sharing the tag") < related.index("Section story")
    assert related.count('class="teaser teaser--small"') == 4


def test_article_page_has_latest_rail_share_links_and_newsletter_box(client):
    ArticleFactory(published=True, title="Another fresh story")
    article = ArticleFactory(published=True)
    page = html_of(client.get(article.get_absolute_url()))
    rail = page[page.index('class="rail"') :]
    assert "Another fresh story" in rail
    assert "Share this article" in page and "mailto:?subject=" in page
    assert 'class="newsletter-box"' in rail


def test_inline_body_image_becomes_picture_with_all_formats_and_credit(client):
    image = ImageFactory(credit="Asatur Yesayants", source="via Shutterstock")
    for fmt in ("avif", "webp", "jpeg"):
        for width in (480, 960):
            RenditionFactory(image=image, format=fmt, width=width, height=width * 2 // 3)
    article = ArticleFactory(
        published=True,
        body=f'<p>Before.</p><figure data-image-id="{image.pk}"><img src="{image.file.url}" '
        f'alt="x" data-image-id="{image.pk}"><figcaption>Putin listens.</figcaption></figure>',
    )
    page = html_of(client.get(article.get_absolute_url()))
    body = page[page.index('<div class="body">') :]
    assert '<source type="image/avif" srcset="' in body
    assert '<source type="image/webp" srcset="' in body
    assert re.search(r'<img src="[^"]+r960\.jpg" srcset="[^"]+ 480w, [^"]+ 960w"', body)
    assert f'width="{image.width}" height="{image.height}"' in body
    assert 'loading="lazy"' in body
    assert "Putin listens." in body and "Asatur Yesayants via Shutterstock" in body


def test_expired_image_is_not_shown(client):
    image = ImageFactory(usable_until=timezone.localdate() - timedelta(days=1), credit="Old Rights")
    article = ArticleFactory(published=True, lead_image=image)
    page = html_of(client.get(article.get_absolute_url()))
    assert "Old Rights" not in page


def test_listing_teaser_has_keep_reading_link_that_works_without_javascript(client):
    article = ArticleFactory(published=True, body="<p>First paragraph here.</p><p>Second one.</p>")
    ArticleFactory(published=True)  # the newest becomes the lead story
    page = html_of(client.get("/"))
    assert (
        f'<a class="keep-reading" href="{article.get_absolute_url()}" data-expands="more-{article.pk}">'
        in page
    )
    assert f'id="more-{article.pk}" hidden' in page
    assert "First paragraph here." in page


def test_teaser_shows_kind_section_byline_and_image_credit(client):
    image = ImageFactory(credit="Seth Harp", source="")
    article = ArticleFactory(published=True, lead_image=image, kind=Article.Kind.OPINION)
    page = html_of(client.get("/"))
    assert "Opinion" in page and article.section.name in page
    assert "Top photo credit: Seth Harp" in page
    assert article.ordered_authors[0].name in page


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "9999999", "%00", "\uff12"])
def test_malformed_page_number_is_404_not_500(client, page):
    ArticleFactory(published=True)
    assert client.get("/", {"page": page}).status_code == 404


def test_page_past_the_end_is_404(client):
    ArticleFactory(published=True)
    assert client.get("/?page=2").status_code == 404


def test_second_page_continues_where_the_first_ended(client):
    articles = ArticleFactory.create_batch(25, published=True)
    now = timezone.now()
    for minutes, article in enumerate(articles):
        article.publish_at = now - timedelta(minutes=minutes + 1)
        article.save()
    first, second = html_of(client.get("/")), html_of(client.get("/?page=2"))
    assert articles[19].get_absolute_url() in first and articles[20].get_absolute_url() not in first
    assert articles[20].get_absolute_url() in second and articles[24].get_absolute_url() in second
    assert 'href="/?page=2" rel="next"' in first
    assert 'href="/" rel="prev"' in second


def test_section_page_lists_only_its_articles(client):
    section = SectionFactory(name="Asia-Pacific", description="The region.")
    ArticleFactory(published=True, section=section, title="In the section")
    ArticleFactory(published=True, title="Elsewhere")
    page = html_of(client.get(section.get_absolute_url()))
    assert "<h1" in page and "Asia-Pacific" in page and "The region." in page
    assert "In the section" in page and "Elsewhere" not in page


def test_unknown_section_is_404(client):
    assert client.get("/section/nope/").status_code == 404


def test_author_page_shows_photo_role_bio_and_links(client):
    photo = ImageFactory(credit="Studio Portrait")
    author = AuthorFactory(
        name="Kelsey Norman",
        role="Fellow",
        bio="Writes about refugees.",
        photo=photo,
        website="https://example.org/kelsey",
    )
    ArticleFactory(published=True, authors=[author], title="Her story")
    page = html_of(client.get(author.get_absolute_url()))
    assert "Kelsey Norman" in page and "Fellow" in page and "Writes about refugees." in page
    assert 'href="https://example.org/kelsey"' in page
    assert "Studio Portrait" in page and photo.file.url in page
    assert "Her story" in page


def test_tag_page_lists_tagged_articles(client):
    tagged = ArticleFactory(published=True, title="Tagged story")
    tagged.tags.add("Turkey")
    ArticleFactory(published=True, title="Untagged story")
    page = html_of(client.get("/tag/turkey/"))
    assert "Tagged story" in page and "Untagged story" not in page


def test_tag_page_hides_unpublished_articles_and_other_tags(client):
    ArticleFactory(title="Draft tagged story").tags.add("Turkey")
    ArticleFactory(published=True, title="Other tag story").tags.add("Greece")
    page = html_of(client.get("/tag/turkey/"))
    assert "Draft tagged story" not in page and "Other tag story" not in page


def test_favicon_ico_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("favicon.ico")
    assert "max-age=86400" in response["Cache-Control"]


def test_pages_link_an_icon(client):
    page = html_of(client.get("/"))
    assert 'rel="icon"' in page and "favicon.svg" in page


def test_corrections_page_lists_corrections_with_links(client):
    note = NoteFactory(text="The vote was on Tuesday.")
    NoteFactory(kind="update", text="An update, not a correction.")
    hidden = NoteFactory(article=ArticleFactory(), text="On a draft.")
    page = html_of(client.get("/corrections/"))
    assert "The vote was on Tuesday." in page
    assert note.get_absolute_url() in page
    assert "An update, not a correction." not in page
    assert hidden.text not in page


def test_pages_have_landmarks_skip_link_and_one_h1(client):
    article = ArticleFactory(published=True)
    for url in (
        "/",
        article.get_absolute_url(),
        article.section.get_absolute_url(),
        "/search/?q=x",
    ):
        page = html_of(client.get(url))
        assert '<a class="skip-link" href="#main">' in page
        assert '<main id="main"' in page and "<header" in page and "<footer" in page
        assert "<nav" in page
        assert page.count("<h1") == 1, url


def test_pages_make_no_outside_requests(client):
    image = ImageFactory()
    article = ArticleFactory(
        published=True,
        lead_image=image,
        body='<p>Text.</p><p><img src="https://tracker.example.com/pixel.gif" alt=""></p>',
    )
    page = html_of(client.get(article.get_absolute_url()))
    for attribute in re.findall(r"<(?:img|script|link|source|iframe)\b[^>]*>", page):
        for url in re.findall(r'(?:src|href|srcset)="([^"]*)"', attribute):
            assert (
                not url.startswith(("http:", "https:", "//")) or 'rel="canonical"' in attribute
            ), attribute
    assert "tracker.example.com" not in page


def test_html_is_gzipped_when_the_client_accepts_it(client):
    ArticleFactory.create_batch(3, published=True)
    response = client.get("/", headers={"accept-encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"


def test_script_is_an_external_file_from_our_own_host(client):
    page = html_of(client.get("/"))
    assert re.search(r'<script src="/static/js/site\.js" defer></script>', page)
    assert not re.search(r"<script>(?!</script>)", page)


def test_preview_is_404_for_the_public(client):
    article = ArticleFactory()
    assert client.get(f"/preview/{article.pk}/").status_code == 404


def test_staff_can_preview_a_draft(client):
    client.force_login(EditorFactory())
    article = ArticleFactory(title="Unpublished scoop")
    response = client.get(f"/preview/{article.pk}/")
    assert response.status_code == 200
    assert "Unpublished scoop" in html_of(response) and "Preview" in html_of(response)


def test_listing_cards_are_kept_and_reused_between_listings(client):
    article = ArticleFactory(published=True, title="Kept card")
    client.cookies["sessionid"] = "bypass-the-page-cache"
    first = html_of(client.get("/"))
    section_page = html_of(client.get(article.section.get_absolute_url()))
    assert "Kept card" in first and "Kept card" in section_page
    assert "lead-story" in first and "lead-story" not in section_page


def test_a_changed_article_gets_a_fresh_card(client):
    article = ArticleFactory(published=True, title="Old headline")
    client.cookies["sessionid"] = "bypass-the-page-cache"
    assert "Old headline" in html_of(client.get("/"))
    article.title = "New headline"
    article.save()
    page = html_of(client.get("/"))
    assert "New headline" in page and "Old headline" not in page
