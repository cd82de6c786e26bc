from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import ListView
from taggit.models import Tag

from articles.models import Article, Author, OldSlug, Section


class ArticleListMixin:
    paginate_by = 20
    template_name = "articles/article_list.html"

    def get_queryset(self):
        return Article.objects.published().for_listing().newest_first()


class LatestArticlesView(ArticleListMixin, ListView):
    pass


class SectionView(ArticleListMixin, ListView):
    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return super().get_queryset().filter(section=self.section)


class AuthorView(ArticleListMixin, ListView):
    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return super().get_queryset().filter(authors=self.author)


class TagView(ArticleListMixin, ListView):
    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return super().get_queryset().filter(tags=self.tag)


def article_detail(request, year, month, day, slug):
    article = Article.objects.published().for_listing().filter(slug=slug).first()
    if article is None:
        old = OldSlug.objects.filter(slug=slug).select_related("article").first()
        if old and old.article.is_public:
            return redirect(old.article, permanent=True)
        raise Http404
    if request.path != article.get_absolute_url():
        return redirect(article, permanent=True)
    return render(request, "articles/article_detail.html", {"article": article})


def article_preview(request, pk):
    if not request.user.is_staff:
        raise Http404
    article = get_object_or_404(Article.objects.for_listing(), pk=pk)
    return render(request, "articles/article_detail.html", {"article": article, "is_preview": True})
