import uuid

import reversion
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from taggit.managers import TaggableManager
from taggit.models import TaggedItem

from articles.links import dated_slug_url, slug_url
from articles.richtext import SanitizedHTMLField, body_image_ids, has_foreign_images
from articles.slugs import unique_slug


class Section(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order in the site's navigation: lower numbers come first."
    )
    is_in_navigation = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_url("articles:section-detail", self.slug)


class ImageQuerySet(models.QuerySet):
    def rights_expired(self, *, today=None):
        """Images whose rights have ended (Image.is_expired, as a query)."""
        return self.filter(usable_until__lt=today or timezone.localdate())


class Image(models.Model):
    file = models.ImageField(upload_to="images/%Y/%m/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(editable=False, default=0)
    height = models.PositiveIntegerField(editable=False, default=0)
    alt_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the picture shows, for readers who cannot see it. Required to publish.",
    )
    caption = models.TextField(blank=True)
    credit = models.CharField(
        max_length=200, blank=True, help_text='The photographer and agency: "Jane Doe/Reuters".'
    )
    source = models.CharField(
        max_length=200, blank=True, help_text='For example "via Shutterstock".'
    )
    license = models.URLField(
        "licence",
        max_length=300,
        blank=True,
        help_text="The licence's web address: pick a known licence or paste the URL of its "
        "terms. Write any other rights statement in the copyright notice.",
    )
    acquire_license_page = models.URLField(
        "where to license it",
        max_length=300,
        blank=True,
        help_text="A page where readers can license the picture (the agency's page for it).",
    )
    copyright_notice = models.CharField(
        max_length=600, blank=True, help_text='For example "© 2026 Reuters. All rights reserved."'
    )
    usable_until = models.DateField(
        null=True,
        blank=True,
        help_text="After this date the rights end: the image may not be used.",
    )
    focal_x = models.FloatField(
        default=0.5, validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Horizontal focal point, 0 (left) to 1 (right).",
    )  # fmt: skip
    focal_y = models.FloatField(
        default=0.5, validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Vertical focal point, 0 (top) to 1 (bottom).",
    )  # fmt: skip
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(focal_x__gte=0, focal_x__lte=1, focal_y__gte=0, focal_y__lte=1),
                name="image_focal_point_in_frame",
            ),
        ]

    def __str__(self):
        return self.alt_text or self.caption[:60] or self.file.name

    def get_absolute_url(self):
        return reverse("admin:articles_image_change", args=[self.pk])

    @property
    def is_expired(self):
        """The rights have ended (a query: Image.objects.rights_expired())."""
        return self.usable_until is not None and self.usable_until < timezone.localdate()

    @property
    def credit_line(self):
        """The credit as readers see it: "Jane Doe/Reuters via Shutterstock"."""
        return " ".join(part for part in (self.credit, self.source) if part)

    @property
    def body_marker(self):
        """How the sanitised body of an article refers to this image."""
        return f'data-image-id="{self.pk}"'

    def usages(self):
        """Where the image is used: lead image, inline in a body, author photo.

        The body lookup scans article bodies; it only runs when someone tries to
        delete an image, which is rare.
        """
        lead = list(self.lead_articles.only("pk", "title", "status"))
        inline = list(
            Article.objects.filter(body__contains=self.body_marker)
            .exclude(pk__in=[article.pk for article in lead])
            .only("pk", "title", "status")
        )
        photos = list(self.author_photos.only("pk", "name"))
        return {"lead": lead, "inline": inline, "author_photos": photos}


class Rendition(models.Model):
    class Format(models.TextChoices):
        AVIF = "avif", "AVIF"
        WEBP = "webp", "WebP"
        JPEG = "jpeg", "JPEG"

    class Crop(models.TextChoices):
        """The whole picture, or a crop around the focal point at a fixed aspect ratio."""

        WHOLE = "", "Whole picture"
        WIDE = "16x9", "16:9"
        STANDARD = "4x3", "4:3"
        SQUARE = "1x1", "1:1"
        SHARE = "share", "Share card (1200 x 630)"

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="renditions")
    format = models.CharField(max_length=4, choices=Format.choices)
    crop = models.CharField(max_length=5, choices=Crop.choices, default=Crop.WHOLE, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    file = models.FileField(upload_to="renditions/%Y/%m/")

    class Meta:
        ordering = ["image", "crop", "format", "width"]
        constraints = [
            models.UniqueConstraint(
                fields=["image", "crop", "format", "width"], name="unique_rendition_crop"
            ),
        ]

    def __str__(self):
        crop = f" {self.crop}" if self.crop else ""
        return f"{self.image_id} {self.format} {self.width}w{crop}"

    def get_absolute_url(self):
        return self.file.url


class Author(models.Model):
    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True)
    role = models.CharField(max_length=150, blank=True, help_text='For example "Senior Editor".')
    bio = models.TextField(blank=True)
    photo = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.PROTECT, related_name="author_photos"
    )
    website = models.URLField(blank=True)
    x_url = models.URLField("X (Twitter)", blank=True)
    bluesky_url = models.URLField("Bluesky", blank=True)
    mastodon_url = models.URLField("Mastodon", blank=True)
    linkedin_url = models.URLField("LinkedIn", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author",
        help_text="The staff account of this author, if they write in the admin themselves.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_url("articles:author-detail", self.slug)


class ArticleQuerySet(models.QuerySet):
    def published(self, *, now=None):
        """The one definition of what the public may see.

        A scheduled article becomes public when its time comes, with no job needed.
        """
        return self.filter(
            status__in=Article.PUBLIC_STATUSES,
            publish_at__lte=now or timezone.now(),
        )

    def featured(self, *, now=None):
        """Stories editors placed on the front page whose time there has not run out."""
        return self.filter(front_page_story__isnull=False).exclude(
            front_page_story__expires_at__lte=now or timezone.now()
        )

    def for_listing(self):
        """What a teaser card shows, fetched in a fixed number of queries."""
        return self.select_related("section", "lead_image").prefetch_related(
            models.Prefetch(
                "bylines", queryset=Byline.objects.select_related("author").order_by("position")
            ),
            "lead_image__renditions",
        )

    def newest_first(self):
        return self.order_by("-publish_at", "-pk")

    def visible_to_staff(self, user):
        """What a staff member may open in the admin and preview: the one rule for both.

        Editors (who may publish) and readers of the desk (the view permission alone, as
        newsletter editors have) see every article; a contributor sees only their own.
        """
        if not (user.is_active and user.is_staff):
            return self.none()
        may_change = user.has_perm("articles.change_article")
        if not (may_change or user.has_perm("articles.view_article")):
            return self.none()
        if may_change and not user.has_perm("articles.publish_article"):
            return self.owned_by(user)
        return self

    def owned_by(self, user):
        """Articles a user created or carries a byline on."""
        return self.filter(
            Q(created_by=user)
            | models.Exists(Byline.objects.filter(article=models.OuterRef("pk"), author__user=user))
        )


class Article(models.Model):
    class Kind(models.TextChoices):
        NEWS = "news", "News"
        ANALYSIS = "analysis", "Analysis"
        OPINION = "opinion", "Opinion"
        FEATURE = "feature", "Feature"
        INTERVIEW = "interview", "Interview"
        EXPLAINER = "explainer", "Explainer"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        REVIEW = "review", "In review"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    #: Statuses that make an article public once its publish time has come.
    PUBLIC_STATUSES = (Status.PUBLISHED, Status.SCHEDULED)

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=220, unique=True, blank=True,
        help_text="Made from the title when left empty. Changing it after publication keeps "
        "the old address working.",
    )  # fmt: skip
    dek = models.TextField(
        "dek", max_length=400, blank=True, help_text="The subtitle under the headline."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NEWS)
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="articles")
    authors = models.ManyToManyField(Author, through="Byline", related_name="articles")
    tags = TaggableManager(blank=True)
    lead_image = models.ForeignKey(
        Image, null=True, blank=True, on_delete=models.PROTECT, related_name="lead_articles"
    )
    lead_image_caption = models.TextField(
        blank=True, help_text="Leave empty to use the image's own caption."
    )
    body = SanitizedHTMLField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        "publish time", null=True, blank=True, help_text="When the article becomes public."
    )
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The last editorial update readers are told about."
    )
    seo_title = models.CharField("SEO title", max_length=200, blank=True)
    seo_description = models.CharField("SEO description", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Raised by every save; guards against overwrites."
    )
    # New at every change of the article or of anything its page or cards show
    # (articles/cards.py): what is kept of them is current only while it carries this.
    render_stamp = models.UUIDField(default=uuid.uuid4, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-publish_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["scheduled", "published"]) | Q(publish_at__isnull=False),
                name="article_public_has_publish_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "-publish_at", "-id"], name="article_status_publish_idx"
            ),
            models.Index(
                fields=["section", "status", "-publish_at"], name="article_section_publish_idx"
            ),
            models.Index(fields=["-modified_at"], name="article_modified_idx"),
            # The admin's article list, newest first, over every status.
            models.Index(fields=["-publish_at", "-id"], name="article_publish_idx"),
            # Public listings newest first (the statuses of Article.PUBLIC_STATUSES): an
            # index-only scan in order, so page 2,000 reads its 40,000 keys from the
            # index instead of sorting every public article.
            models.Index(
                fields=["-publish_at", "-id"],
                condition=Q(status__in=["published", "scheduled"]),
                name="article_public_publish_idx",
            ),
        ]
        permissions = [
            ("publish_article", "Can publish, schedule and unpublish articles"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self.title, taken=self.slug_is_taken, max_length=220)
        update_fields = kwargs.get("update_fields")
        if (
            self.pk
            and not self._state.adding
            and (update_fields is None or "version" in update_fields)
        ):
            self.version += 1
        self.render_stamp = uuid.uuid4()
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "render_stamp"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if self.publish_at is None:
            return reverse("articles:article-preview", kwargs={"pk": self.pk})
        local = timezone.localtime(self.publish_at)
        # reverse("articles:article-detail", …), put together without the resolver's work.
        return dated_slug_url(
            "articles:article-detail",
            year=local.year,
            month=local.month,
            day=local.day,
            slug=self.slug,
        )

    @property
    def is_public(self):
        return (
            self.is_public_status
            and self.publish_at is not None
            and self.publish_at <= timezone.now()
        )

    @property
    def effective_status(self):
        """The status as readers live it: a scheduled article whose time came is published.

        Nothing rewrites the stored status when the time comes (no job is needed), so
        whatever shows a status to people shows this one.
        """
        if self.status == self.Status.SCHEDULED and self.is_public:
            return self.Status.PUBLISHED
        return self.status

    def get_effective_status_display(self):
        return self.Status(self.effective_status).label

    def slug_is_taken(self, slug):
        """A slug belongs to one article, now or in the past (old URLs keep working)."""
        others = Article.objects.exclude(pk=self.pk) if self.pk else Article.objects.all()
        return (
            others.filter(slug=slug).exists()
            or OldSlug.objects.filter(slug=slug).exclude(article_id=self.pk).exists()
        )

    @property
    def is_public_status(self):
        return self.status in self.PUBLIC_STATUSES

    @property
    def was_published(self):
        return self.first_published_at is not None

    def body_images(self):
        """Library images placed in the body, in order of appearance."""
        ids = body_image_ids(self.body)
        found = Image.objects.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]

    def publish_problems(self, *, has_authors=None):
        """What must be fixed before this article may be published or scheduled.

        The one checklist: the admin shows it, the form, the actions and the services
        all refuse to publish while it is not empty. `has_authors` lets a form that
        has not saved its bylines yet answer for them.
        """
        return [message for _, message in self.publish_checklist(has_authors=has_authors)]

    def publish_checklist(self, *, has_authors=None):
        """publish_problems() as (field, message) pairs: the field that fixes each one."""
        problems = []
        if not self.title.strip():
            problems.append(("title", "Write a title."))
        if not self.section_id:
            problems.append(("section", "Choose a section."))
        if has_authors is None:
            has_authors = self.pk is not None and self.bylines.exists()
        if not has_authors:
            problems.append(("bylines", "Add at least one author."))
        if not (self.dek.strip() or self.seo_description.strip()):
            problems.append(("dek", "Write a dek or an SEO description."))
        if self.lead_image_id is None:
            problems.append(("lead_image", "Choose a lead image."))
        else:
            image = self.lead_image
            if not image.alt_text.strip():
                problems.append(("lead_image", "Give the lead image alt text."))
            if not image.credit.strip():
                problems.append(("lead_image", "Give the lead image a credit."))
            if image.is_expired:
                problems.append(
                    (
                        "lead_image",
                        f"The rights to the lead image ended on {image.usable_until:%d %B %Y}.",
                    )
                )
        body_ids = body_image_ids(self.body)
        found = Image.objects.in_bulk(body_ids) if body_ids else {}
        if has_foreign_images(self.body):
            problems.append(("body", "Every image in the body must come from the image library."))
        for image in found.values():
            label = f"The inline image “{image}”"
            if not image.alt_text.strip():
                problems.append(("body", f"{label} needs alt text."))
            if not image.credit.strip():
                problems.append(("body", f"{label} needs a credit."))
            if image.is_expired:
                problems.append(("body", f"{label} may no longer be used: its rights have ended."))
        return problems

    @property
    def caption(self):
        if self.lead_image_caption:
            return self.lead_image_caption
        return self.lead_image.caption if self.lead_image else ""

    @property
    def ordered_authors(self):
        """Authors in byline order; uses the prefetch of for_listing() when present."""
        return [byline.author for byline in self.bylines.all()]


class Byline(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bylines")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="unique_byline"),
        ]

    def __str__(self):
        return f"{self.author} on {self.article}"

    def get_absolute_url(self):
        return self.author.get_absolute_url()


class OldSlug(models.Model):
    """A slug an article answered to before; its URL redirects to the current one."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="old_slugs")
    slug = models.SlugField(max_length=220, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.slug

    def get_absolute_url(self):
        return self.article.get_absolute_url()


class Note(models.Model):
    """A dated correction or update shown on a published article."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", "Correction"
        UPDATE = "update", "Update"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CORRECTION)
    text = models.TextField(help_text="What was wrong and what is right now, in plain words.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["kind", "-created_at"], name="note_kind_created_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.article}"

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#note-{self.pk}"


class SearchTerm(models.Model):
    """A word of a published headline or dek, for search's "did you mean".

    Filled as articles are saved (articles/signals.py, search indexing). A word is only
    ever offered when the corrected search has public results, so a word that stays
    here after its article was unpublished reveals nothing.
    """

    word = models.CharField(max_length=40, unique=True)

    class Meta:
        ordering = ["word"]

    def __str__(self):
        return self.word

    def get_absolute_url(self):
        return reverse("articles:search") + f"?q={self.word}"


# Revisions: an article is saved with its byline and its tags (taggit's through rows,
# which name the tag by id; the tags themselves are not versioned, so restoring an
# article never renames a tag for every other article). Notes are kept out so restoring
# an old text never removes a correction readers have seen.
reversion.register(Byline)
reversion.register(TaggedItem)
reversion.register(Article, follow=["bylines", "tagged_items"])


class FrontPageStory(models.Model):
    """A story an editor placed on the front page: the first is the lead, the rest featured.

    Everything else on the home page is the latest stream, without these stories. A story
    whose expiry time has passed drops back into the stream by itself (no job needed: the
    page cache's schedule purges the home page at that moment: articles/dependencies.py).
    """

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, related_name="front_page_story"
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order on the front page: the first is the lead story."
    )
    expires_at = models.DateTimeField(
        "leaves the front page at",
        null=True,
        blank=True,
        help_text="After this time the story drops back into the latest stream. Optional.",
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "front-page story"
        verbose_name_plural = "front page"

    def __str__(self):
        return str(self.article)

    def get_absolute_url(self):
        return reverse("articles:latest")


class KeptRender(models.Model):
    """What is kept of an article as the public site draws it (articles/cards.py):
    current while `stamp` is the article's `render_stamp`, `version` the running code's
    and the rights of the pictures it shows have not ended (`shown_until`)."""

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    stamp = models.UUIDField()
    version = models.CharField(max_length=32)
    shown_until = models.DateField(null=True, blank=True)
    keys = models.TextField(help_text="The page-cache keys of what it shows.")

    class Meta:
        abstract = True


class ArticleCard(KeptRender):
    """An article's cards, drawn the first time a page shows them after it, or anything
    they show (section, authors, picture), changed."""

    teaser = models.TextField()
    lead_teaser = models.TextField()
    search_result = models.TextField()
    rail_item = models.TextField()
    related_item = models.TextField()

    def __str__(self):
        return f"Cards of article {self.article_id}"


class KeptArticlePage(KeptRender):
    """The parts of an article's page that show only the article (meta tags and JSON-LD,
    breadcrumbs, the article with its pictures), and its items as feeds carry them. The
    page's rails are put together from cards; which stories they show is ranked again
    when `rails_ranked_at` is older than RAILS_RANKED_SECONDS."""

    meta = models.TextField()
    breadcrumbs = models.TextField()
    main = models.TextField()
    title = models.TextField()
    description = models.TextField()
    tag_ids = models.TextField(help_text="The article's tags, for its related rail.")
    rss_item = models.TextField(db_default="", help_text="Its RSS <item> as feeds show it.")
    atom_entry = models.TextField(db_default="", help_text="Its Atom <entry> as feeds show it.")
    # No longer read (the items carry the content) and written empty; its default lets
    # a later release drop it while this one still runs.
    feed_content = models.TextField(db_default="")
    rails = models.TextField(
        db_default="",
        help_text="The ids of its related stories, then of the latest, as last ranked ('1 2|3 4').",
    )
    rails_ranked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Page of article {self.article_id}"


class ListingWeek(models.Model):
    """How many articles of a public status (Article.PUBLIC_STATUSES, whatever their
    publish time) are published in each week: `week` is the number of whole weeks from
    the Unix epoch to their publish time. On PostgreSQL, triggers on the article table
    keep it (migration 0014) in the same transaction as every change, so a deep page of
    the latest stream seeks its start by these counts instead of walking 40,000 index
    entries (articles/queries.py `Listing`). Unused, and empty, on SQLite."""

    week = models.BigIntegerField(primary_key=True)
    articles = models.IntegerField(default=0)

    def __str__(self):
        return f"{self.articles} articles in week {self.week}"
