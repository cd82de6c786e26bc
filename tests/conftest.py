import pytest
from django.core.cache import caches


@pytest.fixture(autouse=True)
def isolated_media_and_cache(settings, tmp_path):
    """Each test writes media to its own folder and starts with an empty cache."""
    settings.MEDIA_ROOT = tmp_path / "media"
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Background tasks run in-process during tests unless a test asks otherwise."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "email"],
        }
    }
