"""factory_boy factories for the whole project: one place, so tests read as specifications."""

import io

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image as PILImage

from articles.models import Article, Author, Byline, Image, Note, Section


def image_file(*, width=1200, height=800, format="JPEG", color=(120, 40, 40), name=None):
    """A real image file made by Pillow, small enough to be quick."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), color).save(buffer, format=format)
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "AVIF": "avif"}[format]
    return ContentFile(buffer.getvalue(), name=name or f"photo.{extension}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class StaffFactory(UserFactory):
    is_staff = True


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Section {n}")
    slug = factory.Sequence(lambda n: f"section-{n}")
    position = factory.Sequence(int)


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    file = factory.LazyFunction(lambda: image_file(width=320, height=200))
    alt_text = "Demonstrators gather in a city square"
    caption = "Demonstrators gather in the square on Monday."
    credit = "Jane Photographer/Agency"
    source = "via Example Images"


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Author Number{n}")
    slug = factory.Sequence(lambda n: f"author-{n}")
    role = "Contributing writer"
    bio = "Writes about foreign policy."


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"A story worth reading, part {n}")
    slug = factory.Sequence(lambda n: f"a-story-worth-reading-{n}")
    dek = "What happened, and why it matters."
    kind = Article.Kind.ANALYSIS
    section = factory.SubFactory(SectionFactory)
    body = "<p>The first paragraph of the story.</p><p>The second paragraph.</p>"
    status = Article.Status.DRAFT

    class Params:
        published = factory.Trait(
            status=Article.Status.PUBLISHED,
            publish_at=factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(hours=1)),
            first_published_at=factory.SelfAttribute("publish_at"),
        )

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if not create:
            return
        for position, author in enumerate(extracted or [AuthorFactory()]):
            Byline.objects.create(article=self, author=author, position=position)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    article = factory.SubFactory(ArticleFactory, published=True)
    kind = Note.Kind.CORRECTION
    text = "An earlier version of this article misstated the date of the vote."
