"""`manage.py seed_demo`: the demo publication, safe to run again and again."""

import io
import random
from datetime import timedelta

import reversion
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from PIL import Image as PILImage
from PIL import ImageDraw, ImageOps

from articles import images, services
from articles.management import demo_content as demo
from articles.models import Article, Author, Byline, FrontPageStory, Image, Note, Section
from articles.slugs import make_slug
from articles.tasks import enqueue_renditions

IMAGE_SIZE = (1600, 900)


def demo_picture(key, palette):
    """A generated landscape: a two-colour gradient with soft shapes, as JPEG with IPTC."""
    dark, light = palette
    rng = random.Random(key)
    gradient = PILImage.linear_gradient("L").rotate(rng.choice([0, 90, 180, 270]))
    picture = ImageOps.colorize(gradient.resize(IMAGE_SIZE), dark, light)
    draw = ImageDraw.Draw(picture)
    for _ in range(7):
        x, y = rng.randrange(IMAGE_SIZE[0]), rng.randrange(IMAGE_SIZE[1])
        radius = rng.randrange(40, 260)
        tone = tuple((a + b) // 2 for a, b in zip(dark, light, strict=True))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), outline=tone, width=6)
    draw.rectangle((0, IMAGE_SIZE[1] - 120, IMAGE_SIZE[0], IMAGE_SIZE[1]), fill=dark)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Load the demo content: sections, authors, images, about 40 articles (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any article exists."
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and Article.objects.exists():
            self.stdout.write("Demo content: the database already has articles; nothing to do.")
            return
        with transaction.atomic(), reversion.create_revision():
            reversion.set_comment("Demo content.")
            sections = self.sections()
            authors = self.authors()
            pictures = self.images()
            created = self.articles(sections, authors, pictures)
            notes = self.notes()
            self.front_page()
        self.stdout.write(
            f"Demo content: {len(sections)} sections, {len(authors)} authors, "
            f"{len(pictures)} images, {created} new articles, {notes} new notes."
        )

    def front_page(self):
        """A lead and three featured stories chosen as an editor would: pieces with a
        picture and some length, not simply the newest brief. Left alone once set."""
        if FrontPageStory.objects.exists():
            return
        candidates = (
            Article.objects.published()
            .filter(lead_image__isnull=False)
            .exclude(kind=Article.Kind.NEWS)
            .newest_first()[:4]
        )
        for position, article in enumerate(candidates):
            FrontPageStory.objects.create(article=article, position=position)

    def sections(self):
        sections = {}
        for position, (name, slug, description) in enumerate(demo.SECTIONS):
            section, _ = Section.objects.update_or_create(
                slug=slug,
                defaults={"name": name, "position": position},
                create_defaults={
                    "name": name,
                    "position": position,
                    "description": description,
                },
            )
            sections[slug] = section
        return sections

    def authors(self):
        authors = []
        for name, role, bio in demo.AUTHORS:
            author, _ = Author.objects.get_or_create(
                slug=make_slug(name), defaults={"name": name, "role": role, "bio": bio}
            )
            authors.append(author)
        return authors

    def images(self):
        pictures = {}
        for key, (alt, caption, credit, source, palette) in demo.IMAGES.items():
            image = Image.objects.filter(file__contains=f"demo-{key}.").first()
            if image is None:
                photographer, _, agency = credit.partition("/")
                data = images.with_iptc(
                    demo_picture(key, palette),
                    {
                        images.IPTC_BYLINE: photographer,
                        images.IPTC_CREDIT: agency or photographer,
                        images.IPTC_CAPTION: caption,
                    },
                )
                image = Image.objects.create(
                    file=ContentFile(data, name=f"demo-{key}.jpg"),
                    alt_text=alt,
                    caption=caption,
                    credit=credit,
                    source=source,
                    # The licence field holds a licence's URL; a statement goes here.
                    copyright_notice=f"© {credit.split('/')[-1]}. Demo licence: for this "
                    "demonstration only.",
                )
                enqueue_renditions(image)
            pictures[key] = image
        return pictures

    def articles(self, sections, authors, pictures):
        now = timezone.now().replace(second=0, microsecond=0)
        figures = {title: (key, after) for title, key, after in demo.INLINE_FIGURES}
        created = 0
        for entry in demo.ARTICLES:
            title, dek, kind, section, by, tags, picture, hours, status, paragraphs = entry
            slug = make_slug(title)
            if Article.objects.filter(slug=slug).exists():
                continue
            blocks = [f"<p>{escape(text)}</p>" for text in paragraphs]
            if title in figures:
                key, after = figures[title]
                blocks.insert(after + 1, self.figure(pictures[key]))
            publish_at = now - timedelta(hours=hours) if hours is not None else None
            article = Article(
                title=title,
                slug=slug,
                dek=dek,
                kind=kind,
                section=sections[section],
                lead_image=pictures.get(picture),
                body="".join(blocks),
                status=status,
                publish_at=publish_at,
                first_published_at=publish_at if status in ("published", "scheduled") else None,
            )
            article.save()
            Byline.objects.bulk_create(
                Byline(article=article, author=authors[index], position=position)
                for position, index in enumerate(by)
            )
            article.tags.add(*tags)
            created += 1
        return created

    def figure(self, image):
        return (
            f'<figure data-image-id="{image.pk}"><img src="{escape(image.file.url)}" '
            f'alt="{escape(image.alt_text)}" data-image-id="{image.pk}">'
            f"<figcaption>{escape(image.caption)}</figcaption></figure>"
        )

    def notes(self):
        added = 0
        for title, kind, text, hours_after in demo.NOTES:
            article = Article.objects.filter(slug=make_slug(title)).first()
            if article is None or Note.objects.filter(article=article, text=text).exists():
                continue
            at = min(article.publish_at + timedelta(hours=hours_after), timezone.now())
            services.add_note(article=article, kind=kind, text=text, at=at)
            added += 1
        return added
