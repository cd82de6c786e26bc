"""Where an attachment's file comes from: a copy of wp-content/uploads, or the web."""

import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.conf import settings

DOWNLOAD_TIMEOUT_SECONDS = 30
USER_AGENT = "Newsroom WordPress importer"


class MediaUnavailable(Exception):
    """The file cannot be had; the message says why, for the report."""


class MediaSource:
    """Reads a file under uploads/ from `media_dir`, else downloads it.

    `base_url` replaces the address of the old uploads folder when downloading (the
    files moved to a CDN or an archive host); without it the export's own URL is used.
    """

    def __init__(self, *, media_dir=None, base_url=None):
        self.media_dir = Path(media_dir).resolve() if media_dir else None
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.max_bytes = settings.IMAGE_UPLOAD_MAX_BYTES

    def read(self, *, relative_path, url):
        if self.media_dir is not None:
            if not relative_path:
                raise MediaUnavailable(f"not under uploads/: {url}")
            path = (self.media_dir / relative_path).resolve()
            if not path.is_relative_to(self.media_dir):
                raise MediaUnavailable(f"outside the media folder: {relative_path}")
            if not path.is_file():
                raise MediaUnavailable(f"not in {self.media_dir}: {relative_path}")
            if path.stat().st_size > self.max_bytes:
                raise MediaUnavailable(f"larger than IMAGE_UPLOAD_MAX_BYTES: {relative_path}")
            return path.read_bytes()
        if self.base_url and relative_path:
            url = self.base_url + quote(relative_path)
        return self.download(url)

    def download(self, url):
        if urlsplit(url).scheme not in ("http", "https"):
            raise MediaUnavailable(f"not a web address: {url}")
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                data = response.read(self.max_bytes + 1)
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise MediaUnavailable(f"download failed ({error}): {url}") from None
        if len(data) > self.max_bytes:
            raise MediaUnavailable(f"larger than IMAGE_UPLOAD_MAX_BYTES: {url}")
        return data
