"""factory_boy factories for the whole project: one place, so tests read as specifications."""

import io

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image as PILImage

from articles.models import Article, Author, Byline, Image, Note, Rendition, Section
from newsletter.models import Issue, IssueArticle, Subscriber


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


def _join_group(name):
    """post_generation hook: put the user in one of the groups made by migration 0003."""

    def join(user, create, extracted, **kwargs):
        if create:
            from django.contrib.auth.models import Group

            user.groups.add(Group.objects.get(name=name))

    return factory.PostGeneration(join)


class EditorFactory(StaffFactory):
    class Meta:
        skip_postgeneration_save = True

    in_group = _join_group("Editor")


class ContributorFactory(StaffFactory):
    class Meta:
        skip_postgeneration_save = True

    in_group = _join_group("Contributor")


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
        for position, author in enumerate(
            extracted if extracted is not None else [AuthorFactory()]
        ):
            Byline.objects.create(article=self, author=author, position=position)


class NoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Note

    article = factory.SubFactory(ArticleFactory, published=True)
    kind = Note.Kind.CORRECTION
    text = "An earlier version of this article misstated the date of the vote."


class RenditionFactory(factory.django.DjangoModelFactory):
    """A rendition row as the content helper's task makes it (a tiny file will do)."""

    class Meta:
        model = Rendition

    image = factory.SubFactory(ImageFactory)
    format = Rendition.Format.JPEG
    width = 640
    height = 400
    file = factory.LazyAttribute(
        lambda r: image_file(
            width=8,
            height=5,
            format="JPEG",
            name=f"r{r.width}.{'jpg' if r.format == 'jpeg' else r.format}",
        )
    )


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscriber

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    status = Subscriber.Status.ACTIVE
    consent_source = "http://testserver/newsletter/"
    confirmed_at = factory.LazyFunction(timezone.now)


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue
        skip_postgeneration_save = True

    subject = factory.Sequence(lambda n: f"The week in review, number {n}")
    intro = "Welcome to this week's round-up.\n\nThree stories you should not miss."

    @factory.post_generation
    def articles(self, create, extracted, **kwargs):
        if not create:
            return
        for position, article in enumerate(
            extracted if extracted is not None else [ArticleFactory(published=True)]
        ):
            IssueArticle.objects.create(issue=self, article=article, position=position)
