"""The test suite's settings: the product's settings (newsroom/settings.py, read from the
same environment) plus what only tests need.

pytest-django loads this module (pyproject.toml). Processes a test starts (manage.py,
gunicorn, task workers) run newsroom.settings, as production does: their environment
names it.
"""

from newsroom.settings import *  # noqa: F403

# Hashing at full strength makes a test suite that creates users crawl.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Static files from their source folders, without collectstatic or a manifest, even with
# DEBUG off (the test runner turns it off) or an https:// SITE_URL in the environment.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
