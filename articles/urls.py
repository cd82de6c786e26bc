from django.urls import path, register_converter

from articles import views


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

urlpatterns = [
    path("", views.LatestArticlesView.as_view(), name="latest"),
    path(
        "<yyyy:year>/<dd:month>/<dd:day>/<slug:slug>/", views.article_detail, name="article-detail"
    ),
    path("preview/<int:pk>/", views.article_preview, name="article-preview"),
    path("section/<slug:slug>/", views.SectionView.as_view(), name="section-detail"),
    path("author/<slug:slug>/", views.AuthorView.as_view(), name="author-detail"),
    path("tag/<slug:slug>/", views.TagView.as_view(), name="tag-detail"),
]
