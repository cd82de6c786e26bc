"""An editor at work, in-process, through the code paths the admin uses (so signals fire).

Each action is what an editor's click does: the admin's change view saves an article
with `services.save_article` inside a transaction and a django-reversion revision; the
publish action calls `services.publish_article`; a correction is `services.add_note`;
an image goes through `ImageAdminForm` and `ImageAdmin.save_model`, and its renditions
are made by the task the worker runs (`articles.tasks.make_renditions`), each committed
on its own as on a live site. Needs Django set up (bench/environment.py).
"""

import io
import random
import re
import time
import uuid

REVISION_SUFFIX = re.compile(r" \(rev \d+\)$")
EDITOR_USERNAME = "bench-editor"


class Editor:
    def __init__(self, *, seed=1):
        from django.contrib.auth import get_user_model

        from articles.models import Article, Author, Image, Section

        self.rng = random.Random(seed)
        user_model = get_user_model()
        self.user, created = user_model.objects.get_or_create(
            username=EDITOR_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "email": "editor@bench.invalid"},
        )
        if created:
            self.user.set_unusable_password()
            self.user.save()
        self.section = Section.objects.order_by("pk").first()
        self.author = Author.objects.order_by("pk").first()
        self.image = (
            Image.objects.exclude(alt_text="")
            .exclude(credit="")
            .filter(usable_until__isnull=True)
            .order_by("pk")
            .first()
        )
        self.draft = (
            Article.objects.filter(status=Article.Status.DRAFT, created_by=self.user)
            .order_by("pk")
            .first()
        )
        if self.draft is None:
            self.draft = self._save_new(title="Bench desk: a draft no reader sees")
        self.saves = 0
        self.edits = 0

    # The actions.

    def save_draft(self):
        """The editor saves a draft (as the admin's Save does): nothing readers see changes."""
        from articles.models import Article

        self.saves += 1
        draft = Article.objects.get(pk=self.draft.pk)
        draft.body = f"<p>Draft paragraph, save {self.saves}: {uuid.uuid4().hex}.</p>"
        self._save(draft, comment="Changed body.")

    def edit_published(self, article_pk):
        """A visible edit of a published article: its dek gains or moves a "(rev N)" tail."""
        from articles.models import Article

        self.edits += 1
        article = Article.objects.get(pk=article_pk)
        article.dek = f"{REVISION_SUFFIX.sub('', article.dek)} (rev {self.edits})"
        self._save(article, comment="Changed dek.")
        return article

    def publish_new(self):
        """A new story written, bylined and published; returns it."""
        from articles import services

        stamp = uuid.uuid4().hex[:8]
        article = self._save_new(title=f"Bench desk: breaking story {stamp}")
        return services.publish_article(article=article, by=self.user)

    def add_correction(self, article, text):
        from articles import services
        from articles.models import Note

        return services.add_note(article=article, kind=Note.Kind.CORRECTION, text=text)

    def upload_image(self):
        """An image uploaded through the admin's form, then its renditions made by the task."""
        from django.contrib import admin
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db import transaction
        from django.test import RequestFactory

        from articles.forms import ImageAdminForm
        from articles.models import Image
        from articles.tasks import make_renditions

        upload = SimpleUploadedFile(
            f"bench-upload-{uuid.uuid4().hex[:8]}.jpg", self._jpeg(), content_type="image/jpeg"
        )
        form = ImageAdminForm(
            data={
                "alt_text": "A street after the rain (benchmark upload)",
                "credit": "Bench Photographer/Agency",
                "focal_x": "0.5",
                "focal_y": "0.5",
            },
            files={"file": upload},
        )
        if not form.is_valid():
            raise RuntimeError(f"the image form refused the upload: {form.errors.as_text()}")
        request = RequestFactory().post("/")
        request.user = self.user
        model_admin = admin.site._registry[Image]
        with transaction.atomic():
            image = form.save(commit=False)
            model_admin.save_model(request, image, form, change=False)
        # What `manage.py db_worker` does with the task the save queued.
        renditions = make_renditions.call(image.pk)
        return image, renditions

    # Helpers.

    def _save(self, article, *, comment):
        import reversion
        from django.db import transaction

        from articles import services

        with transaction.atomic(), reversion.create_revision():
            services.save_article(article=article, by=self.user)
            reversion.set_user(self.user)
            reversion.set_comment(comment)
        return article

    def _save_new(self, *, title):
        from django.db import transaction

        from articles.models import Article, Byline

        article = Article(
            title=title,
            dek="Written by the busy-day benchmark's editor.",
            body="<p>A paragraph of a story the benchmark's editor writes.</p>",
            section=self.section,
            lead_image=self.image,
        )
        with transaction.atomic():  # the admin saves the bylines inline, in one transaction
            self._save(article, comment="Added.")
            Byline.objects.create(article=article, author=self.author, position=0)
        return article

    def _jpeg(self):
        from PIL import Image as PILImage

        picture = PILImage.effect_noise((1600, 1067), 64).convert("RGB")
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=85)
        return buffer.getvalue()


def timed(action, *args):
    """(seconds, result) of one editor action."""
    started = time.monotonic()
    result = action(*args)
    return time.monotonic() - started, result
