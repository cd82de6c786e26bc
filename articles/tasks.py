"""Background work on content, run by `manage.py db_worker`."""

from django.db import transaction
from django.tasks import task

from articles import images
from articles.models import Image


@task()
def make_renditions(image_id):
    """Make the AVIF, WebP and JPEG renditions of an uploaded image."""
    image = Image.objects.filter(pk=image_id).first()
    if image is None:  # deleted before the worker got to it
        return 0
    before = image.renditions.count()
    made = images.ensure_renditions(image)
    if len(made) > before:
        # Pages showing the picture list its renditions: once for them all, not per file.
        from articles.signals import purge_image_if_shown

        purge_image_if_shown(image.pk)
    return len(made)


def enqueue_renditions(image):
    """Ask for renditions once the upload is committed (the worker must see the row)."""
    image_id = image.pk
    transaction.on_commit(lambda: make_renditions.enqueue(image_id))
