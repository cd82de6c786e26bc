"""The public site: thin views over the queries of models.py and queries.py."""

from types import SimpleNamespace

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from taggit.models import Tag, TaggedItem

from articles import article_page, queries, search, seo
from articles.cards import cards_of, keys_of
from articles.links import fixed_url, slug_url
from articles.models import Article, OldSlug, Section
from articles.pagination import listing_page, paginate
from newsroom.context_processors import og_locale
from newsroom.pagecache import depends_on
from newsroom.ratelimit import ratelimit

PER_PAGE = 20
SEARCH_PER_PAGE = 20
FAVICON_MAX_AGE = 24 * 60 * 60


class ListingMixin:
    """A paginated list of public articles as teaser cards, with its share card and JSON-LD.

    The page reads the keys of its cards first (one narrow query that pagination can
    seek), then the cards of those rows, kept as HTML (articles/cards.py).
    """

    template_name = "articles/article_list.html"
    per_page = PER_PAGE
    og_type = "website"
    listing = queries.Listing(per_page=PER_PAGE)

    def listing_values(self):
        """The values of the listing's parameters (its owner's id)."""
        return {}

    def listing_keys(self):
        """The page-cache keys of the list itself (its cards add their own)."""
        return ("list",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = listing_page(self.request, self.listing, **self.listing_values())
        canonical = seo.absolute(
            self.request.path + (f"?page={page.number}" if page.number > 1 else "")
        )
        context.update(page=page, articles=self.cards(page), canonical_url=canonical)
        context["listing_meta"] = render_to_string(
            "articles/parts/listing_meta.html", self.meta_context(page=page, url=canonical)
        )
        return context

    def cards(self, page):
        shown = cards_of(page.object_list, forms=self.card_forms(page))
        depends_on(self.request, *self.listing_keys(), *keys_of(shown))
        return shown

    def card_forms(self, page):
        """The forms of the cards the page shows (articles/cards.py)."""
        return ("teaser",)

    def meta_context(self, *, page, url):
        """What the share card and JSON-LD of this page say."""
        name = settings.SITE_NAME
        description = f"The latest news, analysis and opinion from {settings.SITE_NAME}."
        articles = list(page.object_list)
        blocks = [
            seo.collection_page_json_ld(
                name=name,
                description=description,
                url=url,
                articles=articles,
                start=(page.number - 1) * self.per_page + 1,
            )
        ]
        if page.number == 1:
            blocks.insert(0, seo.website_json_ld())
            blocks.insert(1, {"@context": "https://schema.org"} | seo.publisher())
        return self.card(title=name, description=description, url=url, json_ld=blocks)

    def card(self, *, title, description, url, json_ld, image=None):
        return {
            "og_type": self.og_type,
            "og_locale": og_locale(),
            "site_name": settings.SITE_NAME,
            "title": title,
            "description": description,
            "url": url,
            "image": seo.share_image(image),
            "json_ld": json_ld,
        }

    def owner_blocks(self, *, page, url, name, description, crumbs):
        return [
            seo.collection_page_json_ld(
                name=name,
                description=description,
                url=url,
                articles=list(page.object_list),
                start=(page.number - 1) * self.per_page + 1,
            ),
            seo.breadcrumbs_json_ld(crumbs),
        ]


class LatestArticlesView(ListingMixin, TemplateView):
    """The front page: the editors' lead and featured stories, then the latest stream
    without them (on every page, so no story shows twice), and a LATEST rail."""

    template_name = "articles/article_list.html"
    latest_rail_size = 8
    # The stream leaves out the stories the front page shows above it.
    listing = queries.Listing(per_page=PER_PAGE, leaving_out=queries.FRONT_PAGE_SIZE)

    def listing_values(self):
        now = timezone.now()
        self.front_page = queries.front_page_articles(now)
        return {"left_out": self.front_page, "now": now}

    def listing_keys(self):
        return ("list", "home")

    def card_forms(self, page):
        # Page 1 leads with one story and has the Latest rail.
        return ("teaser", "lead_teaser", "rail_item") if page.number == 1 else ("teaser",)

    def cards(self, page):
        if page.number == 1:
            page = SimpleNamespace(number=1, object_list=[*self.front_page, *page.object_list])
        self.shown = list(page.object_list)
        return super().cards(page)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["page"].number == 1:
            context["latest_rail"] = self.latest_rail(context["articles"])
        return context

    def latest_rail(self, cards):
        """The newest stories as headlines: page 1's cards hold them (the featured stories
        and the stream's first page hold the newest), so the rail costs no query."""
        items = {card.pk: card.rail_item for card in cards}
        newest = sorted(self.shown, key=lambda article: (article.publish_at, article.pk))
        latest = [items[article.pk] for article in newest[::-1][: self.latest_rail_size]]
        return render_to_string("articles/parts/article_latest.html", {"latest": latest})


class SectionView(ListingMixin, TemplateView):
    template_name = "articles/section_detail.html"
    listing = queries.Listing(
        lambda public, now, owner: public.filter(section_id=owner),
        per_page=PER_PAGE,
        values=("owner",),
    )

    def listing_values(self):
        self.section = queries.listing_owner(Section, slug=self.kwargs["slug"])
        return {"owner": self.section.pk}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = self.section
        return context

    def listing_keys(self):
        return (f"s{self.section.pk}", f"list:s{self.section.pk}")

    def meta_context(self, *, page, url):
        section = self.section
        name = f"{section.name} · {settings.SITE_NAME}"
        description = section.description or f"The latest from {section.name}."
        crumbs = [
            (settings.SITE_NAME, fixed_url("articles:latest")),
            (section.name, section.get_absolute_url()),
        ]
        blocks = self.owner_blocks(
            page=page, url=url, name=name, description=description, crumbs=crumbs
        )
        return self.card(title=name, description=description, url=url, json_ld=blocks)


class AuthorView(ListingMixin, TemplateView):
    template_name = "articles/author_detail.html"
    og_type = "profile"
    listing = queries.Listing(
        lambda public, now, owner: public.filter(bylines__author_id=owner),
        per_page=PER_PAGE,
        values=("owner",),
    )

    def listing_values(self):
        self.author, self.photo = queries.author_with_photo(self.kwargs["slug"])
        return {"owner": self.author.pk}

    def listing_keys(self):
        return (f"au{self.author.pk}", f"list:au{self.author.pk}", f"i{self.author.photo_id}")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            author=self.author,
            author_card=render_to_string(
                "articles/parts/author_card.html",
                {"author": self.author, "page": context["page"], "photo": self.photo},
            ),
        )
        return context

    def meta_context(self, *, page, url):
        author = self.author
        photo = self.photo
        title = f"{author.name} · {settings.SITE_NAME}"
        description = author.bio or f"Articles by {author.name} at {settings.SITE_NAME}."
        blocks = [
            seo.profile_page_json_ld(author, url=url, photo=photo),
            seo.item_list_json_ld(
                list(page.object_list), start=(page.number - 1) * self.per_page + 1
            ),
        ]
        card = self.card(title=title, description=description, url=url, json_ld=blocks, image=photo)
        card["profile_name"] = author.name
        return card


class TagView(ListingMixin, TemplateView):
    template_name = "articles/tag_detail.html"
    # A membership test rather than a join: PostgreSQL walks the publish-order index and
    # stops after one page instead of sorting every tagged article.
    listing = queries.Listing(
        lambda public, now, owner, kind: public.filter(
            Exists(
                TaggedItem.objects.filter(
                    content_type_id=kind, object_id=OuterRef("pk"), tag_id=owner
                )
            )
        ),
        per_page=PER_PAGE,
        values=("owner", "kind"),
    )

    def listing_values(self):
        self.tag = queries.listing_owner(Tag, slug=self.kwargs["slug"])
        return {"owner": self.tag.pk, "kind": ContentType.objects.get_for_model(Article).pk}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tag"] = self.tag
        return context

    def listing_keys(self):
        return (f"t{self.tag.pk}", f"list:t{self.tag.pk}")

    def meta_context(self, *, page, url):
        tag = self.tag
        name = f"{tag.name} · {settings.SITE_NAME}"
        description = f"Articles about {tag.name} from {settings.SITE_NAME}."
        crumbs = [
            (settings.SITE_NAME, fixed_url("articles:latest")),
            (tag.name, slug_url("articles:tag-detail", tag.slug)),
        ]
        blocks = self.owner_blocks(
            page=page, url=url, name=name, description=description, crumbs=crumbs
        )
        return self.card(title=name, description=description, url=url, json_ld=blocks)


def article_detail(request, year, month, day, slug):
    found = article_page.public_page(slug)
    if found is None:
        old = OldSlug.objects.filter(slug=slug).select_related("article").first()
        if old is not None and old.article.is_public:
            return redirect(old.article, permanent=True)
        raise Http404("No such article.")
    article, own = found
    if request.path != article.get_absolute_url():
        return redirect(article, permanent=True)
    parts = article_page.assemble(article, own)
    depends_on(request, *parts["keys"])
    return render(
        request,
        "articles/article_detail.html",
        {"parts": parts, "canonical_url": parts["canonical_url"]},
    )


@never_cache
def article_preview(request, pk):
    """An unpublished article as it will look, for the staff the admin shows it to.

    Anyone else gets the same 404 as for an id that does not exist: ids are sequential,
    and a 403 would confirm which drafts exist.
    """
    article = get_object_or_404(
        Article.objects.visible_to_staff(request.user).select_related("section"), pk=pk
    )
    parts = article_page.render_parts(article)
    response = render(
        request,
        "articles/article_detail.html",
        {"parts": parts, "canonical_url": parts["canonical_url"], "is_preview": True},
    )
    # A draft must never be kept by a browser's or a proxy's shared cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


@ratelimit("search-ip", methods=("GET", "HEAD"), template_name="articles/search_rate_limited.html")
def search_view(request):
    query = search.clean_query(request.GET.get("q", ""))
    context = {"query": query, "page": None}
    if query:
        public = Article.objects.published()
        # The ranking query reads only what identifies a result; search_results loads
        # what the cards show for the page's rows at once.
        fields = (
            ["pk", "modified_at"]
            if search.uses_full_text()
            else ["pk", "modified_at", "dek", "body"]
        )
        results = search.search(query, public.only(*fields))
        page = paginate(request, results, per_page=SEARCH_PER_PAGE, ordering=None)
        if page.number == 1 and not page.has_next:
            total, exact = len(page.object_list), True  # all on this page: nothing to count
        else:
            # The page's own statement counted the matches (PostgreSQL).
            total, exact = search.count(query, public, results=results)
        context.update(
            page=page,
            total=total,
            exact=exact,
            results=search_results(request, page.object_list, query=query),
            suggestion=None if total else search.suggestion(query, public),
        )
    depends_on(request, "list")
    return render(request, "articles/article_search.html", context)


SNIPPET_MARK = "<!--snippet-->"


def search_results(request, articles, *, query):
    """Each result's card (picture, labels, title, byline, dateline), with the snippet
    highlighted for the query in its place."""
    ranked = list(articles)  # the ranking's rows carry what the snippets need
    # A first page's rows carry their kept cards too (articles/search.py).
    known = {article.pk: article.kept_card for article in ranked if hasattr(article, "kept_card")}
    shown = cards_of(ranked, forms=("search_result",), known=known)
    depends_on(request, *keys_of(shown))
    return [
        mark_safe(card.search_result.replace(SNIPPET_MARK, search.snippet_for(article, query), 1))
        for card, article in zip(shown, ranked, strict=True)
    ]


def corrections(request):
    page = paginate(
        request, queries.public_corrections(), per_page=50, ordering=("-created_at", "-pk")
    )
    depends_on(request, "notes", *(f"a{note.article_id}" for note in page.object_list))
    return render(request, "articles/note_list.html", {"page": page, "notes": page.object_list})


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /preview/",
        "Disallow: /search/",
        "",
        f"Sitemap: {settings.SITE_URL}{reverse('articles:sitemap')}",
        f"Sitemap: {settings.SITE_URL}{reverse('articles:news-sitemap')}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")


def favicon(request):
    """Browsers and crawlers ask for /favicon.ico whatever the page links to."""
    response = HttpResponseRedirect(static("favicon.ico"))
    patch_cache_control(response, public=True, max_age=FAVICON_MAX_AGE)
    return response
