from django.contrib.sitemaps.views import sitemap
from django.urls import path, register_converter

from articles import feeds, sitemaps, views
from newsroom.pagecache import cached_page


class FourDigitYear:
    regex = "[0-9]{4}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):04d}"


class TwoDigits:
    regex = "[0-9]{2}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):02d}"


register_converter(FourDigitYear, "yyyy")
register_converter(TwoDigits, "dd")

app_name = "articles"

# The query parameters each kind of page reads; its page-cache keys when they are fixed.
PAGED = ("page",)
SITEMAP = ("sitemap",)

urlpatterns = [
    path("", cached_page(views.LatestArticlesView.as_view(), query=PAGED), name="latest"),
    path(
        "<yyyy:year>/<dd:month>/<dd:day>/<slug:slug>/",
        cached_page(views.article_detail),
        name="article-detail",
    ),
    path("preview/<int:pk>/", views.article_preview, name="article-preview"),
    path(
        "section/<slug:slug>/",
        cached_page(views.SectionView.as_view(), query=PAGED),
        name="section-detail",
    ),
    path("section/<slug:slug>/feed/", cached_page(feeds.section_feed), name="section-feed"),
    path(
        "author/<slug:slug>/",
        cached_page(views.AuthorView.as_view(), query=PAGED),
        name="author-detail",
    ),
    path("author/<slug:slug>/feed/", cached_page(feeds.author_feed), name="author-feed"),
    path("tag/<slug:slug>/", cached_page(views.TagView.as_view(), query=PAGED), name="tag-detail"),
    path("search/", cached_page(views.search_view, query=("q", "page")), name="search"),
    path("corrections/", cached_page(views.corrections, query=PAGED), name="corrections"),
    path("feed/", cached_page(feeds.latest_feed), name="feed"),
    path("feed/atom/", cached_page(feeds.latest_atom_feed), name="feed-atom"),
    path("sitemap.xml", cached_page(sitemaps.index, keys=SITEMAP), name="sitemap"),
    path(
        "sitemap-<slug:section>.xml",
        cached_page(sitemap, query=("p",), keys=SITEMAP),
        {"sitemaps": sitemaps.SITEMAPS, "template_name": "articles/sitemap.xml"},
        name="sitemap-section",
    ),
    path("news-sitemap.xml", cached_page(sitemaps.news_sitemap, keys=SITEMAP), name="news-sitemap"),
    path("robots.txt", cached_page(views.robots_txt), name="robots-txt"),
    path("favicon.ico", views.favicon, name="favicon"),
]
