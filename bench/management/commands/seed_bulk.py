"""Fill the database with a large, realistic dataset for the benchmarks (see BENCHMARKS.md).

    manage.py seed_bulk --articles 100000 --subscribers 1000000

Idempotent per size: the rows it makes are marked (articles and images by the inactive
user "seed-bulk", subscribers by their consent source), and a second run only adds what
is missing, so running it twice does not double the data and a larger size tops up a
smaller one. Each item is a pure function of (--seed, its index), so a top-up produces
the same rows as a single run would have.

Rows go in by batches: COPY through psycopg on PostgreSQL, executemany elsewhere,
bypassing model instances (and so save(), signals and their page-cache purges:
every kept page is purged at the end instead). Image files are a handful of small
shared pictures under MEDIA_ROOT/bench/; the Image and Rendition rows point at them.
"""

import datetime as dt
import io

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import ImageDraw
from taggit.models import Tag, TaggedItem
from tqdm import tqdm

from articles.images import RENDITION_SAVE_OPTIONS, rendition_widths
from articles.management import demo_content
from articles.models import Article, Author, Byline, Image, Note, Rendition, Section
from articles.richtext import sanitize_html
from articles.slugs import make_slug
from bench.datagen import ROLES, ContentGenerator, rng_for
from newsletter.models import Subscriber
from newsroom import pagecache

BULK_USERNAME = "seed-bulk"
SUBSCRIBER_SOURCE = "import: seed_bulk"
# Newest bulk article; article n is about 50 minutes older than article n - 1, so
# 100,000 articles span roughly nine and a half years.
ANCHOR = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC)
ARTICLE_SPACING = dt.timedelta(minutes=50)
SHARED_PHOTOS = 6
PHOTO_SIZE = (1600, 1000)
KINDS = (
    [Article.Kind.NEWS] * 45
    + [Article.Kind.ANALYSIS] * 25
    + [Article.Kind.OPINION] * 10
    + [Article.Kind.FEATURE] * 8
    + [Article.Kind.INTERVIEW] * 5
    + [Article.Kind.EXPLAINER] * 7
)


class Command(BaseCommand):
    help = "Load a large benchmark dataset in bulk (idempotent per size)."

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, default=100_000)
        parser.add_argument("--subscribers", type=int, default=1_000_000)
        parser.add_argument("--authors", type=int, default=500)
        parser.add_argument("--tags", type=int, default=5_000)
        parser.add_argument(
            "--images",
            type=int,
            default=None,
            help="Images in the library (default: one for every five articles, at least 20).",
        )
        parser.add_argument("--batch-size", type=int, default=2_000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        for name in ("articles", "subscribers", "authors", "tags", "batch_size"):
            if options[name] < 0 or (name == "batch_size" and options[name] < 1):
                raise CommandError(f"--{name.replace('_', '-')} must be a positive number.")
        if options["authors"] < 1 and options["articles"]:
            raise CommandError("Articles need at least one author.")
        self.batch_size = options["batch_size"]
        self.progress = options["verbosity"] > 0
        self.content = ContentGenerator(options["seed"])
        self.seed = options["seed"]
        self.started = timezone.now()
        images = options["images"]
        if images is None:
            images = max(20, options["articles"] // 5)

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Bulk loading: a lost last batch on a crash is acceptable here.
                cursor.execute("SET synchronous_commit TO off")

        self.user = self.bulk_user()
        self.sections = self.ensure_sections()
        self.photos = self.ensure_shared_files()
        self.image_ids = self.ensure_images(images)
        self.author_ids = self.ensure_authors(options["authors"])
        self.tag_ids = self.ensure_tags(options["tags"])
        added_articles = self.ensure_articles(options["articles"])
        added_subscribers = self.ensure_subscribers(options["subscribers"])

        if connection.vendor == "postgresql" and (added_articles or added_subscribers):
            self.analyze()
        if added_articles:
            # Rows went in without save() or signals: no cached page may survive them.
            pagecache.purge({"all"})
        self.stdout.write(
            f"seed_bulk: {added_articles} articles and {added_subscribers} subscribers added "
            f"in {(timezone.now() - self.started).total_seconds():.0f} s; the database holds "
            f"{Article.objects.count()} articles and {Subscriber.objects.count()} subscribers."
        )

    # --- reference data -------------------------------------------------------

    def bulk_user(self):
        user, created = get_user_model().objects.get_or_create(
            username=BULK_USERNAME,
            defaults={"is_active": False, "first_name": "Bulk", "last_name": "Data"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def ensure_sections(self):
        """The demo's sections when seed_demo has run, otherwise the same list."""
        sections = list(Section.objects.order_by("position", "pk"))
        if not sections:
            with transaction.atomic():
                insert_rows(
                    Section,
                    [
                        {
                            "name": name,
                            "slug": slug,
                            "description": description,
                            "position": position,
                        }
                        for position, (name, slug, description) in enumerate(demo_content.SECTIONS)
                    ],
                )
            sections = list(Section.objects.order_by("position", "pk"))
        return [section.pk for section in sections]

    def ensure_shared_files(self):
        """A few small pictures and their renditions, shared by every bulk image.

        Each size is drawn directly (no resampling) and encoded at the fastest setting:
        they are placeholders with the right names, formats and dimensions.
        """
        photos = []
        for number in range(SHARED_PHOTOS):
            original = f"bench/images/photo-{number}.jpg"
            write_once(original, lambda n=number: encode(draw_photo(n, PHOTO_SIZE), "JPEG"))
            renditions = []
            # The same formats and widths as articles.images makes for an upload, so
            # no page ever falls back to making a rendition on demand.
            for kind, save_options in RENDITION_SAVE_OPTIONS.items():
                for width in rendition_widths(PHOTO_SIZE[0]):
                    height = round(width * PHOTO_SIZE[1] / PHOTO_SIZE[0])
                    extension = "jpg" if kind == "jpeg" else kind
                    name = f"bench/renditions/photo-{number}-{width}.{extension}"
                    write_once(
                        name,
                        lambda n=number, size=(width, height), fmt=save_options["format"]: encode(
                            draw_photo(n, size), fmt
                        ),
                    )
                    renditions.append((kind, width, height, name))
            photos.append((original, renditions))
        return photos

    def ensure_images(self, target):
        existing = Image.objects.filter(uploaded_by=self.user).count()
        if existing < target:
            for start in self.batches(existing, target, "images"):
                stop = min(start + self.batch_size, target)
                ids = reserve_ids(Image, stop - start)
                images, renditions = [], []
                for pk, index in zip(ids, range(start, stop), strict=True):
                    rng = rng_for(self.seed, "image", index)
                    photo, photo_renditions = self.photos[index % SHARED_PHOTOS]
                    credit, source = self.content.photo_credit(rng)
                    images.append(
                        {
                            "id": pk,
                            "file": photo,
                            "width": PHOTO_SIZE[0],
                            "height": PHOTO_SIZE[1],
                            "alt_text": self.content.vocabulary.sentence(rng, words=8)[:-1],
                            "caption": self.content.vocabulary.sentence(rng, words=16),
                            "credit": credit,
                            "source": source,
                            "uploaded_at": ANCHOR - ARTICLE_SPACING * index * 5,
                            "uploaded_by_id": self.user.pk,
                        }
                    )
                    renditions += [
                        {"image_id": pk, "format": fmt, "width": w, "height": h, "file": name}
                        for fmt, w, h, name in photo_renditions
                    ]
                with transaction.atomic():
                    insert_rows(Image, images)
                    insert_rows(Rendition, renditions)
        rows = Image.objects.filter(uploaded_by=self.user).order_by("pk")
        return list(rows.values_list("pk", "width", "height", "alt_text", "caption", "file"))

    def ensure_authors(self, target):
        names = [self.content.author_name(index) for index in range(target)]
        slugs = [make_slug(name) for name in names]
        found = dict(Author.objects.filter(slug__in=slugs).values_list("slug", "pk"))
        missing = [
            (index, name, slug)
            for index, (name, slug) in enumerate(zip(names, slugs, strict=True))
            if slug not in found
        ]
        rows = []
        for index, name, slug in missing:
            rng = rng_for(self.seed, "author", index)
            role = rng.choice(ROLES)
            rows.append(
                {
                    "name": name,
                    "slug": slug,
                    "role": role,
                    "bio": f"{name} is a {role.lower()}. " + self.content.dek(rng),
                    "photo_id": self.image_ids[index % len(self.image_ids)][0]
                    if index % 3 == 0
                    else None,
                    "website": f"https://www.example.org/people/{slug}",
                }
            )
        with transaction.atomic():
            insert_rows(Author, rows)
        by_slug = dict(Author.objects.filter(slug__in=slugs).values_list("slug", "pk"))
        return [by_slug[slug] for slug in slugs]

    def ensure_tags(self, target):
        names = self.content.tag_names(target)
        slugs = [make_slug(name) for name in names]
        found = set(Tag.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        taken_names = {
            name.lower()
            for name in Tag.objects.filter(slug__in=slugs).values_list("name", flat=True)
        }
        rows = [
            {"name": name, "slug": slug}
            for name, slug in zip(names, slugs, strict=True)
            if slug not in found and name.lower() not in taken_names
        ]
        with transaction.atomic():
            insert_rows(Tag, rows)
        by_slug = dict(Tag.objects.filter(slug__in=slugs).values_list("slug", "pk"))
        return [by_slug[slug] for slug in slugs if slug in by_slug]

    # --- articles -------------------------------------------------------------

    def ensure_articles(self, target):
        existing = Article.objects.filter(created_by=self.user).count()
        if existing >= target:
            return 0
        taken = set(Article.objects.values_list("slug", flat=True))
        content_type = ContentType.objects.get_for_model(Article)
        for start in self.batches(existing, target, "articles"):
            stop = min(start + self.batch_size, target)
            ids = reserve_ids(Article, stop - start)
            articles, bylines, tagged, notes = [], [], [], []
            for pk, index in zip(ids, range(start, stop), strict=True):
                article, article_bylines, article_tags, article_notes = self.article(
                    pk, index, taken
                )
                articles.append(article)
                bylines += article_bylines
                tagged += [
                    {"tag_id": tag, "content_type_id": content_type.pk, "object_id": pk}
                    for tag in article_tags
                ]
                notes += article_notes
            with transaction.atomic():
                insert_rows(Article, articles)
                insert_rows(Byline, bylines)
                insert_rows(TaggedItem, tagged)
                insert_rows(Note, notes)
        return target - existing

    def article(self, pk, index, taken):
        rng = rng_for(self.seed, "article", index)
        content = self.content
        title = content.title(rng)
        slug = base = make_slug(title, max_length=200)
        suffix = 1
        while slug in taken:
            suffix += 1
            slug = f"{base}-{suffix}"
        taken.add(slug)

        publish_at = ANCHOR - ARTICLE_SPACING * index + dt.timedelta(seconds=rng.randint(0, 2400))
        roll = rng.random()
        if index < 20 and roll < 0.5:
            # A few of the newest are scheduled for later: not public yet.
            status = Article.Status.SCHEDULED
            publish_at = self.started + dt.timedelta(days=rng.randint(1, 30))
        elif roll < 0.02:
            status = Article.Status.DRAFT
        elif roll < 0.03:
            status = Article.Status.REVIEW
        else:
            status = Article.Status.PUBLISHED
        is_public = status in Article.PUBLIC_STATUSES

        image = self.image_ids[index % len(self.image_ids)] if rng.random() < 0.85 else None
        inline = None
        if rng.random() < 0.25:
            image_pk, width, height, alt, caption, file = rng.choice(self.image_ids)
            inline = (image_pk, settings.MEDIA_URL + file, width, height, alt, caption)
        body = content.body(
            rng, words=rng.randint(800, 2000), inline_image=inline, link_index=index
        )

        notes = []
        updated_at = None
        if is_public and rng.random() < 0.03:
            kind = Note.Kind.CORRECTION if rng.random() < 0.6 else Note.Kind.UPDATE
            created = publish_at + dt.timedelta(hours=rng.randint(2, 72))
            text = content.vocabulary.sentence(rng, words=rng.randint(15, 30))
            notes.append({"article_id": pk, "kind": kind, "text": text, "created_at": created})
            updated_at = created

        # A Zipf-like spread: a few prolific authors and popular tags, a long tail.
        author_count = rng.choices((1, 2, 3), weights=(70, 24, 6))[0]
        authors = []
        while len(authors) < min(author_count, len(self.author_ids)):
            author = self.author_ids[int(len(self.author_ids) * rng.random() ** 2)]
            if author not in authors:
                authors.append(author)
        tags = set()
        if self.tag_ids:
            for _ in range(rng.randint(2, 6)):
                tags.add(self.tag_ids[int(len(self.tag_ids) * rng.random() ** 3)])

        row = {
            "id": pk,
            "title": title,
            "slug": slug,
            "dek": content.dek(rng),
            "kind": rng.choice(KINDS),
            "section_id": self.sections[index % len(self.sections)],
            "lead_image_id": image[0] if image else None,
            "body": sanitize_html(body),
            "status": status,
            "publish_at": publish_at if status != Article.Status.DRAFT else None,
            "first_published_at": publish_at if status == Article.Status.PUBLISHED else None,
            "updated_at": updated_at,
            "created_at": publish_at - dt.timedelta(hours=rng.randint(1, 48)),
            "modified_at": updated_at or publish_at,
            "created_by_id": self.user.pk,
        }
        bylines = [
            {"article_id": pk, "author_id": author, "position": position}
            for position, author in enumerate(authors)
        ]
        return row, bylines, sorted(tags), notes

    # --- subscribers ----------------------------------------------------------

    def ensure_subscribers(self, target):
        existing = Subscriber.objects.filter(consent_source=SUBSCRIBER_SOURCE).count()
        if existing >= target:
            return 0
        statuses = (
            [Subscriber.Status.ACTIVE] * 85
            + [Subscriber.Status.PENDING] * 5
            + [Subscriber.Status.UNSUBSCRIBED] * 8
            + [Subscriber.Status.BOUNCED] * 2
        )
        batch = self.batch_size * 10
        for start in self.batches(existing, target, "subscribers", step=batch):
            stop = min(start + batch, target)
            rows = []
            for index in range(start, stop):
                rng = rng_for(self.seed, "subscriber", index)
                status = statuses[rng.randrange(100)]
                signed_up = ANCHOR - dt.timedelta(seconds=index * 150 + rng.randint(0, 140))
                confirmed = signed_up + dt.timedelta(minutes=rng.randint(1, 600))
                rows.append(
                    {
                        "email": self.content.email(index),
                        "status": status,
                        "signed_up_at": signed_up,
                        "confirmed_at": None if status == Subscriber.Status.PENDING else confirmed,
                        "unsubscribed_at": confirmed + dt.timedelta(days=rng.randint(1, 400))
                        if status == Subscriber.Status.UNSUBSCRIBED
                        else None,
                        "consent_source": SUBSCRIBER_SOURCE,
                    }
                )
            with transaction.atomic():
                insert_rows(Subscriber, rows)
        return target - existing

    # --- helpers --------------------------------------------------------------

    def batches(self, start, stop, what, *, step=None):
        step = step or self.batch_size
        with tqdm(
            total=stop - start, desc=what, unit=" rows", disable=not self.progress, smoothing=0.1
        ) as bar:
            for offset in range(start, stop, step):
                yield offset
                bar.update(min(step, stop - offset))

    def analyze(self):
        tables = [
            model._meta.db_table
            for model in (
                Article,
                Byline,
                TaggedItem,
                Note,
                Image,
                Rendition,
                Author,
                Tag,
                Subscriber,
            )
        ]
        # VACUUM (for index-only scans) cannot run inside a transaction, as in tests.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'{command} "{table}"')


def draw_photo(number, size):
    """A simple picture: horizontal bands and a disc, tinted by `number`."""
    width, height = size
    hue = number * 47 % 255
    picture = PILImage.new("RGB", size, (hue, 90, 255 - hue))
    draw = ImageDraw.Draw(picture)
    band = max(1, height // 25)
    for top in range(0, height, band):
        shade = (hue + top * 200 // height) % 255
        draw.rectangle((0, top, width, top + band), fill=(shade, 110, 200 - shade // 2))
    draw.ellipse((width // 3, height // 4, width // 3 * 2, height // 4 * 3), fill=(240, 220, 180))
    return picture


FAST_SAVE_OPTIONS = {"AVIF": {"speed": 10, "quality": 50}, "WEBP": {"method": 0}, "JPEG": {}}


def encode(picture, pil_format):
    buffer = io.BytesIO()
    picture.save(buffer, pil_format, **FAST_SAVE_OPTIONS.get(pil_format, {}))
    return buffer.getvalue()


def write_once(name, make):
    path = settings.MEDIA_ROOT / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make())


def reserve_ids(model, count):
    """Primary keys for `count` new rows, so children can point at them before insert."""
    if not count:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("{column}"), 0) FROM "{table}"')
        first = cursor.fetchone()[0] + 1
        return list(range(first, first + count))


def insert_rows(model, rows):
    """Insert dicts of attribute values; fields left out get their model default.

    Works from the model's own field list, so a field another app adds later (a token
    with a callable default, a flag) is filled in the way Django would fill it.
    """
    if not rows:
        return
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and field.attname not in rows[0])
    ]
    now = timezone.now()

    def value(field, row):
        if field.attname in row:
            raw = row[field.attname]
        elif isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add):
            raw = now
        else:
            raw = field.get_default()
        return field.get_db_prep_save(raw, connection)

    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([value(field, row) for field in fields])
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                [[value(field, row) for field in fields] for row in rows],
            )
