"""Importing a WordPress export: people, taxonomy, images, posts and their old URLs.

A file is read twice, streaming. The first pass imports the attachments (so a post
finds its featured and inline images wherever they sit in the file) and learns the
site's time zone offsets and guest authors; the second imports the posts. Every
attachment and every post is one transaction: a bad one is rolled back, reported and
skipped, and an interrupted run resumes where it stopped because each WordPress
object is looked up in the import map (`ImportedItem`) before anything is written.
"""

import bisect
import csv
import hashlib
import html
import os
import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils.html import strip_tags
from taggit.models import Tag, TaggedItem

from articles import cards
from articles import images as image_checks
from articles.models import Article, Author, Byline, Image, OldSlug, Section
from articles.services import apply_publication_dates
from articles.slugs import make_slug, unique_slug
from articles.tasks import enqueue_renditions
from wordpress import wxr
from wordpress.content import BodyConverter, Placed, original_of, split_credit, uploads_path
from wordpress.media import MediaSource, MediaUnavailable
from wordpress.models import ImportedItem, LegacyURL, legacy_path

# Raised when the conversion rules change, so --update redoes every post.
CONVERSION_VERSION = "1"
NO_DATE = "0000-00-00 00:00:00"
SKIPPED_TYPES = {
    "revision", "nav_menu_item", "wp_block", "wp_template", "wp_template_part",
    "wp_navigation", "wp_global_styles", "custom_css", "customize_changeset",
    "oembed_cache", "user_request", "wp_font_family", "wp_font_face", "guest-author",
}  # fmt: skip
SKIPPED_STATUSES = {"auto-draft", "trash", "inherit"}
UNCATEGORIZED = ("uncategorized", "Uncategorized")
DEK_MAX = 400


def plain(text):
    """Text as readers see it: tags dropped, entities decoded (twice-encoded too)."""
    text = html.unescape(html.unescape(strip_tags(text or "")))
    return " ".join(text.split())


def _site_key(header, path):
    url = header.base_site_url or header.base_blog_url or header.link
    host = urlsplit(url).netloc.lower()
    return (host + urlsplit(url).path.rstrip("/")) if host else PurePosixPath(path).name


@dataclass
class Report:
    counts: Counter = field(default_factory=Counter)
    shortcodes: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)

    def problem(self, *, file, item=None, wp_id="", problem, detail=""):
        if item is not None:
            wp_id = item.wp_id or f"item #{item.number}"
            post_type, title = item.post_type, plain(item.get("title"))[:120]
        else:
            post_type, title = "", ""
        self.problems.append([file, wp_id, post_type, title, problem, detail])

    def write_csv(self, path):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "wordpress_id", "post_type", "title", "problem", "detail"])
            writer.writerows(self.problems)


@dataclass
class SiteContext:
    """What the header and the first pass taught about one exported site."""

    key: str
    file: str
    hosts: set
    authors: dict  # login -> {"name", "email"}
    categories: dict  # nicename -> {"name", "parent", "id"}
    category_ids: dict  # term id -> nicename
    guest_authors: dict = field(default_factory=dict)  # login -> {"name", "email"}
    offsets: list = field(default_factory=list)  # (local datetime, offset) sorted
    attachments_of: dict = field(default_factory=dict)  # post id -> [attachment ids]
    images_by_id: dict = field(default_factory=dict)  # attachment id -> Placed
    images_by_path: dict = field(default_factory=dict)  # uploads path -> Placed
    attachment_parents: dict = field(default_factory=dict)
    attachment_paths: set = field(default_factory=set)
    # What earlier runs did, read once: post ID -> (fingerprint, has problems, has
    # article); attachment ID -> (has image, has problems).
    known_posts: dict = field(default_factory=dict)
    known_attachments: dict = field(default_factory=dict)
    missing_paths: set = field(default_factory=set)


class WordPressImporter:
    def __init__(self, *, media_dir=None, media_base_url=None, dry_run=False, update=False,
                 progress=None, report=None):  # fmt: skip
        self.media = MediaSource(media_dir=media_dir, base_url=media_base_url)
        self.dry_run = dry_run
        self.update = update
        self.progress = progress or (lambda **kwargs: _NoProgress())
        self.report = report or Report()
        self.counts = self.report.counts
        self._sections = {}
        self._tags = {}
        self._tag_slugs = None
        self._taken_slugs = None
        # What to forget when a transaction rolls back: rows it created that the
        # in-memory lookups above already hold.
        self._undo = []
        self._authors = {}
        self._fake_ids = 0

    # Files ----------------------------------------------------------------------------
    def run(self, paths):
        with _unsynchronised_commits():
            if self.dry_run:
                # Everything is written, then rolled back: the dry run meets every
                # constraint a real run meets. Files are checked but never stored.
                with transaction.atomic():
                    self._run(paths)
                    transaction.set_rollback(True)
            else:
                self._run(paths)
        return self.report

    def _run(self, paths):
        for path in paths:
            try:
                self.import_file(path)
            except (wxr.ExportError, OSError) as error:
                self.counts["files refused"] += 1
                self.report.problem(file=str(path), problem="file refused", detail=str(error))

    def _open(self, path):
        handle = open(path, "rb")  # noqa: SIM115 (closed by the caller's with)
        pieces = wxr.split_export(handle)
        header = wxr.parse_header(next(pieces))
        return handle, pieces, header

    def import_file(self, path):
        file = str(path)
        handle, pieces, header = self._open(path)
        with handle:
            site = self._site(header, file)
            posts = 0
            with self.progress(
                desc="Media", total=_file_size(path), unit="B", unit_scale=True
            ) as bar:
                done = 0
                for raw in pieces:
                    item = self._parse(raw, header, file)
                    position = handle.tell()
                    bar.update(position - done)
                    done = position
                    if item is None:
                        continue
                    self._learn(item, site)
                    if item.post_type == "attachment":
                        if not self._attachment_is_done(item, site):
                            self._in_transaction(self.import_attachment, item, site)
                    elif item.post_type == "post":
                        posts += 1
        handle, pieces, header = self._open(path)
        with handle, self.progress(desc="Posts", total=posts, unit="post") as bar:
            for raw in pieces:
                item = self._parse(raw, header, file, report=False)
                if item is None or item.post_type == "attachment":
                    continue
                if item.post_type != "post":
                    self._count_other(item)
                    continue
                if not self._post_is_unchanged(item, site):
                    self._in_transaction(self.import_post, item, site)
                bar.update(1)

    def _parse(self, raw, header, file, *, report=True):
        try:
            return wxr.parse_item(raw, header)
        except wxr.ExportError as error:
            if report:
                wp_id = re.search(r"<wp:post_id>\s*(?:<!\[CDATA\[)?\s*(\d+)", raw.text)
                self.counts["items unreadable"] += 1
                self.report.problem(
                    file=file,
                    wp_id=wp_id.group(1) if wp_id else f"item #{raw.number}",
                    problem="item skipped: malformed XML",
                    detail=str(error)[:300],
                )
            return None

    def _in_transaction(self, work, item, site):
        self._undo = []
        try:
            with _one_transaction():
                work(item, site)
        except Exception as error:  # one bad post never stops the rest
            for forget in reversed(self._undo):
                forget()
            self.counts[f"{item.post_type}s failed"] += 1
            self.report.problem(
                file=site.file, item=item, problem="not imported: error",
                detail=f"{type(error).__name__}: {error}"[:500],
            )  # fmt: skip

    def _count_other(self, item):
        if item.post_type == "page":
            self.counts["pages skipped"] += 1
        elif item.post_type in SKIPPED_TYPES:
            self.counts[f"skipped: {item.post_type}"] += 1
        else:
            self.counts[f"skipped: post type {item.post_type}"] += 1

    # The site -------------------------------------------------------------------------
    def _site(self, header, file):
        hosts = {
            urlsplit(url).netloc.lower()
            for url in (header.base_site_url, header.base_blog_url, header.link)
            if url
        }
        authors = {}
        for entry in header.authors:
            login = entry.get("wp:author_login", "").strip()
            if login:
                authors[login] = {
                    "name": plain(entry.get("wp:author_display_name"))
                    or " ".join(
                        part
                        for part in (
                            plain(entry.get("wp:author_first_name")),
                            plain(entry.get("wp:author_last_name")),
                        )
                        if part
                    )
                    or login,
                    "email": entry.get("wp:author_email", "").strip(),
                }
        categories, category_ids = {}, {}
        for entry in header.categories:
            nicename = unquote(entry.get("wp:category_nicename", "")).strip()
            if not nicename:
                continue
            categories[nicename] = {
                "name": plain(entry.get("wp:cat_name")) or nicename,
                "parent": unquote(entry.get("wp:category_parent", "")).strip(),
            }
            if entry.get("wp:term_id"):
                category_ids[entry["wp:term_id"]] = nicename
        site = SiteContext(
            key=_site_key(header, file), file=file, hosts=hosts, authors=authors,
            categories=categories, category_ids=category_ids,
        )  # fmt: skip
        for entry in header.terms:
            # Co-Authors Plus keeps guest authors' details in the term description.
            if entry.get("wp:term_taxonomy") == "author":
                login = entry.get("wp:term_name", "").strip()
                words = entry.get("wp:term_description", "").split()
                if login and login not in authors and words:
                    site.guest_authors.setdefault(login, {"name": "", "email": ""})
                    site.guest_authors[login]["email"] = next(
                        (word for word in words if "@" in word), ""
                    )
        for wp_id, fingerprint, has_problems, article_id in ImportedItem.objects.filter(
            site=site.key, kind=ImportedItem.Kind.POST
        ).values_list("wp_id", "fingerprint", "has_problems", "article_id"):
            site.known_posts[wp_id] = (fingerprint, has_problems, article_id is not None)
        for wp_id, image_id, has_problems in ImportedItem.objects.filter(
            site=site.key, kind=ImportedItem.Kind.ATTACHMENT
        ).values_list("wp_id", "image_id", "has_problems"):
            site.known_attachments[wp_id] = (image_id is not None, has_problems)
        # Images imported by an earlier run are found again by ID and by path.
        for row in ImportedItem.objects.filter(
            site=site.key, kind__in=[ImportedItem.Kind.ATTACHMENT, ImportedItem.Kind.FILE],
            image__isnull=False,
        ).select_related("image"):  # fmt: skip
            placed = Placed(row.image_id, row.image.alt_text, row.image.file.url)
            if row.kind == ImportedItem.Kind.ATTACHMENT:
                site.images_by_id[row.wp_id] = placed
            self._index_path(site, row.file_path, placed)
        return site

    def _learn(self, item, site):
        """First pass: time zone offsets, guest authors, galleries."""
        local, gmt = item.get("wp:post_date").strip(), item.get("wp:post_date_gmt").strip()
        if local and gmt and NO_DATE not in (local, gmt):
            try:
                local_dt = datetime.fromisoformat(local)
                offset = local_dt - datetime.fromisoformat(gmt)
                bisect.insort(site.offsets, (local_dt, offset))
            except ValueError:
                pass
        if item.post_type == "guest-author":
            login = item.postmeta.get("cap-user_login", "").strip()
            if login:
                site.guest_authors[login] = {
                    "name": plain(item.postmeta.get("cap-display_name"))
                    or plain(item.get("title")),
                    "email": item.postmeta.get("cap-user_email", "").strip(),
                }
        if item.post_type == "attachment" and item.get("wp:post_parent", "0").strip() not in (
            "",
            "0",
        ):
            parent = item.get("wp:post_parent").strip()
            site.attachments_of.setdefault(parent, []).append(item.wp_id)
            site.attachment_parents[item.wp_id] = parent

    def _index_path(self, site, relative_path, placed):
        if not relative_path:
            return
        relative_path = relative_path.lower()
        for key in {
            relative_path,
            original_of(relative_path),
            relative_path.replace("-scaled.", "."),
        }:
            if key not in site.images_by_path:
                site.images_by_path[key] = placed
                self._undo.append(lambda key=key: site.images_by_path.pop(key, None))

    # Attachments ----------------------------------------------------------------------
    def _attachment_is_done(self, item, site):
        """Imported before (and not to be retried): no transaction, no query."""
        known = site.known_attachments.get(item.wp_id)
        if known is None:
            return False
        has_image, has_problems = known
        if has_image or not has_problems or not self.update:
            self.counts["attachments unchanged"] += 1
            return True
        return False

    def _post_is_unchanged(self, item, site):
        """Imported before from the same XML: no transaction, no query."""
        known = site.known_posts.get(item.wp_id)
        status = item.get("wp:status", "").strip()
        if known is None or status in SKIPPED_STATUSES:
            return False
        fingerprint, has_problems, has_article = known
        if not has_article or fingerprint != _fingerprint(item):
            return False
        if has_problems and self.update:
            return False
        self.counts["posts unchanged"] += 1
        return True

    def import_attachment(self, item, site):
        existing = ImportedItem.objects.filter(
            site=site.key, kind=ImportedItem.Kind.ATTACHMENT, wp_id=item.wp_id
        ).first()
        # A file missing last time is looked for again only when asked (--update).
        if existing is not None and (
            existing.image_id or not existing.has_problems or not self.update
        ):
            self.counts["attachments unchanged"] += 1
            return
        url = item.get("wp:attachment_url").strip() or item.get("guid").strip()
        relative_path = _attached_file(item.postmeta.get("_wp_attached_file", "")) or (
            uploads_path(url)
        )
        mime = item.get("wp:post_mime_type", "").strip()
        record = existing or ImportedItem(
            site=site.key, kind=ImportedItem.Kind.ATTACHMENT, wp_id=item.wp_id
        )
        record.guid = item.get("guid").strip()[:500]
        record.file_path = relative_path[:500]
        record.parent_wp_id = site.attachment_parents.get(item.wp_id, "")
        image = None
        if mime and not mime.startswith("image/"):
            self.counts["attachments not images (not imported)"] += 1
            record.has_problems = False
        else:
            caption, credit, source = split_credit(plain(item.get("excerpt:encoded")))
            image = self._image_from(
                item, site, relative_path=relative_path, url=url,
                alt=plain(item.postmeta.get("_wp_attachment_image_alt"))
                or "",
                caption=caption, credit=credit, source=source,
            )  # fmt: skip
            record.has_problems = image is None
        if self.dry_run and image is not None:
            record.has_problems = False
            image = None
        record.image = image
        record.save()
        if existing is None:
            self._legacy_urls(record, self._attachment_paths(item, url), site)

    def _attachment_paths(self, item, url):
        paths = []
        if link := item.get("link").strip():
            paths.append(urlsplit(link).path)
        if item.get("wp:post_name").strip():
            paths.append("/" + item.get("wp:post_name").strip() + "/")
        if url:
            paths.append(urlsplit(url).path)
        return paths

    def _image_from(self, item, site, *, relative_path, url, alt, caption="", credit="",
                    source=""):  # fmt: skip
        """A library Image for a file of the old site, or None (reported)."""
        try:
            data = self.media.read(relative_path=relative_path, url=url)
        except MediaUnavailable as error:
            self.counts["images missing"] += 1
            self.report.problem(
                file=site.file, item=item, problem="image missing", detail=str(error)
            )
            return None
        name = PurePosixPath(relative_path or urlsplit(url).path).name or "image"
        upload = ContentFile(data, name=name)
        try:
            checked = image_checks.check_upload(upload)
        except ValidationError as error:
            self.counts["images refused"] += 1
            self.report.problem(
                file=site.file, item=item, problem="image refused",
                detail=f"{relative_path or url}: {' '.join(error.messages)}",
            )  # fmt: skip
            return None
        values = {"alt_text": alt, "caption": caption, "credit": credit, "source": source}
        # As an upload does: what the file's IPTC/EXIF says fills what the export left empty.
        for key, value in checked.metadata.items():
            if not values.get(key):
                values[key] = value
        for key in values:
            limit = Image._meta.get_field(key).max_length
            values[key] = (values[key] or "")[: limit or None]
        self.counts["images imported"] += 1
        placed = None
        if self.dry_run:
            self._fake_ids += 1
            placed = Placed(-self._fake_ids, values["alt_text"], url)
        else:
            stem = make_slug(PurePosixPath(name).stem, max_length=80)
            image = Image.objects.create(
                file=ContentFile(data, name=f"{stem}.{checked.extension}"), **values
            )
            enqueue_renditions(image)  # made by the worker once this commits
            placed = Placed(image.pk, image.alt_text, image.file.url)
        if item.post_type == "attachment":
            site.images_by_id[item.wp_id] = placed
            self._undo.append(lambda: site.images_by_id.pop(item.wp_id, None))
        self._index_path(site, relative_path, placed)
        return placed if self.dry_run else image

    def find_image(self, site, item, wp_id, url):
        """The library image for a picture of a post: by attachment ID, then by path."""
        if wp_id and (placed := site.images_by_id.get(str(wp_id))):
            return placed
        relative_path = uploads_path(url) if url else ""
        if relative_path:
            key = relative_path.lower()
            for candidate in (key, original_of(key)):
                if placed := site.images_by_path.get(candidate):
                    return placed
            host = urlsplit(url).netloc.lower()
            if not host or host in site.hosts:
                return self._uploaded_file(site, item, original_of(relative_path), url)
        return None

    def _uploaded_file(self, site, item, relative_path, url):
        """An image of the old site's uploads that the export does not list."""
        if relative_path.lower() in site.missing_paths:
            self.report.problem(
                file=site.file, item=item, problem="image missing", detail=relative_path
            )
            return None
        record, created = ImportedItem.objects.get_or_create(
            site=site.key, kind=ImportedItem.Kind.FILE, wp_id=relative_path[:255],
            defaults={"file_path": relative_path[:500]},
        )  # fmt: skip
        if not created and record.image_id:
            image = record.image
            return Placed(image.pk, image.alt_text, image.file.url)
        full_url = url if not relative_path else _with_path(url, relative_path)
        image = self._image_from(item, site, relative_path=relative_path, url=full_url, alt="")
        if image is None:
            site.missing_paths.add(relative_path.lower())
            return None
        if isinstance(image, Placed):
            return image
        record.image = image
        record.save(update_fields=["image", "updated_at"])
        return Placed(image.pk, image.alt_text, image.file.url)

    # Posts ----------------------------------------------------------------------------
    def import_post(self, item, site):
        status = item.get("wp:status", "").strip() or "draft"
        if status in SKIPPED_STATUSES:
            self.counts[f"posts skipped: {status}"] += 1
            return
        fingerprint = _fingerprint(item)
        record = None
        if item.wp_id in site.known_posts:
            record = (
                ImportedItem.objects.filter(
                    site=site.key, kind=ImportedItem.Kind.POST, wp_id=item.wp_id
                )
                .select_related("article")
                .first()
            )
        article = None
        if record is not None:
            if record.article is None:
                self.counts["posts deleted here since import (not imported again)"] += 1
                return
            if not self.update:
                if record.fingerprint != fingerprint:
                    self.counts["posts changed in the export (use --update)"] += 1
                else:
                    self.counts["posts unchanged"] += 1
                return
            if record.fingerprint == fingerprint and not record.has_problems:
                self.counts["posts unchanged"] += 1
                return
            if record.article.version != record.article_version:
                self.counts["posts edited here since import (not overwritten)"] += 1
                self.report.problem(
                    file=site.file, item=item, problem="not updated: edited here since import"
                )
                return
            article = record.article
        problems_before = len(self.report.problems)
        article, is_new = self._write_article(item, site, article, status)
        record = record or ImportedItem(
            site=site.key, kind=ImportedItem.Kind.POST, wp_id=item.wp_id
        )
        record.article = article
        record.guid = item.get("guid").strip()[:500]
        record.fingerprint = fingerprint
        record.article_version = article.version
        record.is_sticky = item.get("wp:is_sticky").strip() == "1"
        record.has_problems = len(self.report.problems) > problems_before
        record.save()
        self._legacy_urls(record, self._post_paths(item, site, article), site)
        # Attachment pages of this post lead to it.
        attachment_ids = set(site.attachments_of.get(item.wp_id, []))
        if thumbnail := item.postmeta.get("_thumbnail_id", "").strip():
            attachment_ids.add(thumbnail)
        if attachment_ids and not self.dry_run:
            ImportedItem.objects.filter(
                site=site.key, kind=ImportedItem.Kind.ATTACHMENT, wp_id__in=attachment_ids,
                article__isnull=True,
            ).update(article=article)  # fmt: skip
        self.counts["posts imported" if is_new else "posts updated"] += 1
        if record.is_sticky:
            self.counts["sticky posts (noted in the import map)"] += 1

    def _write_article(self, item, site, article, status):
        is_new = article is None
        article = article or Article()
        article.title = plain(item.get("title"))[:200] or "(untitled)"
        if is_new:
            wanted = make_slug(unquote(item.get("wp:post_name").strip()), max_length=214)
            if not item.get("wp:post_name").strip():
                wanted = ""
            article.slug = unique_slug(
                wanted or article.title, taken=self._slug_is_taken, max_length=220
            )
            self._taken_slugs.add(article.slug)
            self._undo.append(lambda slug=article.slug: self._taken_slugs.discard(slug))
        article.dek = _truncate(plain(item.get("excerpt:encoded")), DEK_MAX)
        article.status, article.publish_at = self._status_and_time(item, site, status)
        article.section = self._section(item, site)
        meta = item.postmeta
        seo_title = plain(meta.get("_yoast_wpseo_title"))
        article.seo_title = seo_title[:200] if "%%" not in seo_title else ""
        seo_description = plain(meta.get("_yoast_wpseo_metadesc"))
        article.seo_description = seo_description[:300] if "%%" not in seo_description else ""
        conversion = self._body(item, site)
        # Saving runs the site's sanitiser (SanitizedHTMLField.pre_save), as every save does.
        article.body = conversion.html
        article.lead_image_id = None
        if thumbnail := meta.get("_thumbnail_id", "").strip():
            placed = site.images_by_id.get(thumbnail)
            if placed is not None and placed.image_id > 0:
                article.lead_image_id = placed.image_id
            elif placed is None:
                self.report.problem(
                    file=site.file, item=item, problem="featured image missing",
                    detail=f"attachment {thumbnail}",
                )  # fmt: skip
        apply_publication_dates(article)
        article.save()
        self._credits_from_captions(conversion.credits)
        self._bylines(article, item, site, replace=not is_new)
        tags = self._tags_of(item, site)
        if is_new:
            # One INSERT instead of taggit's several queries per tag: 10,000 posts add up.
            TaggedItem.objects.bulk_create(
                TaggedItem(tag=tag, content_object=article) for tag in tags
            )
        else:
            article.tags.set(tags, clear=True)
        return article, is_new

    def _slug_is_taken(self, slug):
        """Article.slug_is_taken, from memory: every slug, current and old, read once."""
        if self._taken_slugs is None:
            self._taken_slugs = set(Article.objects.values_list("slug", flat=True))
            self._taken_slugs.update(OldSlug.objects.values_list("slug", flat=True))
        return slug in self._taken_slugs

    def _body(self, item, site):
        converter = BodyConverter(
            find_image=lambda wp_id, url: self.find_image(site, item, wp_id, url),
            gallery_ids=lambda post_id: site.attachments_of.get(post_id, []),
            site_hosts=site.hosts,
        )
        conversion = converter.convert(item.get("content:encoded"), post_id=item.wp_id)
        for name, count in conversion.unknown_shortcodes.items():
            self.report.shortcodes[name] += count
            self.report.problem(
                file=site.file, item=item, problem="unknown shortcode kept as text",
                detail=f"[{name}] x{count}",
            )  # fmt: skip
        for kind, detail in conversion.problems:
            if kind == "image dropped":
                self.counts["inline images dropped"] += 1
            self.report.problem(file=site.file, item=item, problem=kind, detail=detail)
        return conversion

    def _credits_from_captions(self, credits):
        """A credit written in a caption in the post fills the image's empty credit."""
        for image_id, (credit, source) in credits.items():
            if image_id > 0:
                Image.objects.filter(pk=image_id, credit="").update(credit=credit[:200])
                if source:
                    Image.objects.filter(pk=image_id, source="").update(source=source[:200])
                # update() sends no signal: the cards showing the picture are renewed here.
                cards.renew(Article.objects.filter(lead_image_id=image_id))

    def _status_and_time(self, item, site, status):
        when = self._publish_time(item, site)
        if item.get("wp:post_password").strip() or status == "private":
            # Never public: readers without the password must not see it here either.
            return Article.Status.DRAFT, when
        if status == "publish":
            return Article.Status.PUBLISHED, when or datetime.now(UTC)
        if status == "future" and when is not None:
            return Article.Status.SCHEDULED, when
        if status == "pending":
            return Article.Status.REVIEW, when
        return Article.Status.DRAFT, when

    def _publish_time(self, item, site):
        gmt = item.get("wp:post_date_gmt").strip()
        if gmt and gmt != NO_DATE:
            try:
                return datetime.fromisoformat(gmt).replace(tzinfo=UTC)
            except ValueError:
                pass
        elif item.get("wp:status").strip() in ("draft", "pending"):
            return None  # WordPress's "floating" date: the last save, not a publish time
        local = item.get("wp:post_date").strip()
        if not local or local == NO_DATE:
            return None
        try:
            local_dt = datetime.fromisoformat(local)
        except ValueError:
            return None
        if site.offsets:
            # The site's offset at the nearest date WordPress recorded both times.
            at = bisect.bisect_left(site.offsets, (local_dt, timedelta.min))
            near = [site.offsets[i] for i in (at - 1, at) if 0 <= i < len(site.offsets)]
            offset = min(near, key=lambda pair: abs(pair[0] - local_dt))[1]
            return (local_dt - offset).replace(tzinfo=UTC)
        return local_dt.replace(tzinfo=ZoneInfo(settings.TIME_ZONE)).astimezone(UTC)

    # People and taxonomy --------------------------------------------------------------
    def _author(self, login, site):
        if login in self._authors:
            return self._authors[login]
        record = (
            ImportedItem.objects.filter(site=site.key, kind=ImportedItem.Kind.AUTHOR, wp_id=login)
            .select_related("author")
            .first()
        )
        if record is not None and record.author is not None:
            self._authors[login] = record.author
            return record.author
        known = site.authors.get(login) or site.guest_authors.get(login) or {}
        name = known.get("name") or login
        slug = make_slug(login, max_length=150)
        author = Author.objects.filter(slug=slug).first()
        if author is None:
            author = Author.objects.create(name=name[:150], slug=slug)
            self.counts["authors created"] += 1
        ImportedItem.objects.update_or_create(
            site=site.key, kind=ImportedItem.Kind.AUTHOR, wp_id=login[:255],
            defaults={"author": author, "email": _email(known.get("email", ""))},
        )  # fmt: skip
        self._authors[login] = author
        self._undo.append(lambda: self._authors.pop(login, None))
        return author

    def _bylines(self, article, item, site, *, replace):
        logins = []
        for domain, nicename, name in item.terms:
            if domain == "author":  # Co-Authors Plus, PublishPress Authors
                login = name or nicename.removeprefix("cap-")
                if login and login not in logins:
                    logins.append(login)
        if not logins and (creator := item.get("dc:creator").strip()):
            logins.append(creator)
        if replace:
            article.bylines.all().delete()
        authors = []
        for login in logins:
            author = self._author(login, site)
            if author not in authors:
                authors.append(author)
        Byline.objects.bulk_create(
            Byline(article=article, author=author, position=position)
            for position, author in enumerate(authors)
        )
        if not authors:
            self.report.problem(file=site.file, item=item, problem="no author")

    def _top_category(self, nicename, site):
        seen = set()
        while (parent := site.categories.get(nicename, {}).get("parent")) and parent not in seen:
            seen.add(nicename)
            nicename = parent
        return nicename

    def _primary_category(self, item, site):
        categories = [
            (nicename, name) for domain, nicename, name in item.terms if domain == "category"
        ]
        primary = item.postmeta.get("_yoast_wpseo_primary_category", "").strip()
        if primary and (nicename := site.category_ids.get(primary)):
            for entry in categories:
                if unquote(entry[0]) == nicename:
                    return entry, categories
        return (categories[0] if categories else None), categories

    def _section(self, item, site):
        primary, _ = self._primary_category(item, site)
        if primary is None:
            slug, name = UNCATEGORIZED
        else:
            nicename = unquote(primary[0]) or make_slug(primary[1])
            slug = self._top_category(nicename, site)
            name = site.categories.get(slug, {}).get("name") or (
                primary[1] if slug == nicename else slug
            )
        return self._section_named(make_slug(slug, max_length=100), plain(name)[:100] or slug)

    def _section_named(self, slug, name):
        if slug in self._sections:
            return self._sections[slug]
        section = (
            Section.objects.filter(slug=slug).first()
            or Section.objects.filter(name__iexact=name).first()
        )
        if section is None:
            section = Section.objects.create(slug=slug, name=name)
            self.counts["sections created"] += 1
            self._undo.append(lambda: self._sections.pop(slug, None))
        self._sections[slug] = section
        return section

    def _tags_of(self, item, site):
        primary, categories = self._primary_category(item, site)
        names = []
        for domain, nicename, name in item.terms:
            if domain == "post_tag":
                names.append((plain(name) or unquote(nicename), unquote(nicename)))
        for nicename, name in categories:
            top = self._top_category(unquote(nicename), site)
            if (nicename, name) == primary and top == unquote(nicename):
                continue  # the section itself
            names.append((plain(name), unquote(nicename)))
        tags = []
        for name, wp_slug in names:
            if name and (tag := self._tag(name[:100], wp_slug)) not in tags:
                tags.append(tag)
        return tags

    def _tag(self, name, wp_slug):
        if self._tag_slugs is None:
            # Every tag read once: thousands of posts share a few thousand tags.
            self._tag_slugs = set()
            for tag in Tag.objects.all():
                self._tags.setdefault(tag.name.lower(), tag)
                self._tag_slugs.add(tag.slug)
        key = name.lower()
        if key in self._tags:
            return self._tags[key]
        # Latin slugs: the site's /tag/<slug>/ addresses are ASCII.
        slug = unique_slug(wp_slug or name, taken=self._tag_slugs.__contains__, max_length=100)
        tag = Tag.objects.create(name=name, slug=slug)
        self._tag_slugs.add(slug)
        self._undo.append(lambda: (self._tags.pop(key, None), self._tag_slugs.discard(slug)))
        self.counts["tags created"] += 1
        self._tags[key] = tag
        return tag

    # Old addresses --------------------------------------------------------------------
    def _post_paths(self, item, site, article):
        paths = []
        if link := item.get("link").strip():
            paths.append(urlsplit(link).path)
        slug = item.get("wp:post_name").strip()
        if slug:
            paths.append(f"/{slug}/")
            local = self._local_date(item, site)
            if local is not None:
                paths.append(f"/{local:%Y/%m/%d}/{slug}/")
                paths.append(f"/{local:%Y/%m}/{slug}/")
            for domain, nicename, _name in item.terms:
                if domain == "category" and nicename:
                    chain = self._category_chain(unquote(nicename), site)
                    paths.append(f"/category/{nicename}/{slug}/")
                    paths.append(f"/{'/'.join(chain)}/{slug}/")
                    paths.append(f"/category/{'/'.join(chain)}/{slug}/")
        return paths

    def _category_chain(self, nicename, site):
        chain = [nicename]
        while (parent := site.categories.get(chain[0], {}).get("parent")) and parent not in chain:
            chain.insert(0, parent)
        return chain

    def _local_date(self, item, site):
        local = item.get("wp:post_date").strip()
        if local and local != NO_DATE:
            try:
                return datetime.fromisoformat(local)
            except ValueError:
                return None
        return None

    def _legacy_urls(self, record, paths, site):
        wanted = list(dict.fromkeys(legacy_path(path) for path in paths if path and path != "/"))
        if not wanted:
            return
        # A path already taken (by another post, an earlier run) keeps its first owner.
        LegacyURL.objects.bulk_create(
            [LegacyURL(path=path, item=record) for path in wanted], ignore_conflicts=True
        )
        if record.kind == ImportedItem.Kind.ATTACHMENT:
            site.attachment_paths.update(wanted)
        elif clashes := [path for path in wanted if path in site.attachment_paths]:
            # A post's address wins over an attachment that happened to share a slug.
            LegacyURL.objects.filter(
                path__in=clashes, item__kind=ImportedItem.Kind.ATTACHMENT
            ).update(item=record)
        self.counts["legacy URLs recorded"] += len(wanted)


@contextmanager
def _one_transaction():
    """One transaction whose identical commit callbacks run once.

    A post saves several rows, and the same named function registered twice in this
    transaction is the same work twice, so only its first registration is kept (the
    page cache merges its own purges into one already: newsroom/pagecache/__init__.py, `Batch`).
    """
    with transaction.atomic():
        yield
        pending = connection.run_on_commit
        seen, kept = set(), []
        for entry in pending:
            func = entry[1]
            if getattr(func, "__name__", "<lambda>") != "<lambda>":
                if func in seen:
                    continue
                seen.add(func)
            kept.append(entry)
        pending[:] = kept


@contextmanager
def _unsynchronised_commits():
    """On PostgreSQL, commits of this session do not wait for the disk.

    Safe here: a crash can lose only the last fraction of a second of commits, never
    corrupt anything, and the import resumes where it stopped. Thousands of
    one-post transactions stop paying a disk flush each.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


class _NoProgress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        pass


def _file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None


def _with_path(url, relative_path):
    parts = urlsplit(url)
    marker = "/uploads/"
    at = parts.path.find(marker)
    if at == -1:
        return url
    return parts._replace(path=parts.path[: at + len(marker)] + relative_path).geturl()


def _fingerprint(item):
    return hashlib.sha256((CONVERSION_VERSION + item.raw).encode()).hexdigest()


def _attached_file(value):
    """`_wp_attached_file` relative to uploads/; very old sites stored a server path."""
    value = value.strip()
    if "/uploads/" in value:
        return uploads_path(value)
    return value.lstrip("/")


def _truncate(text, limit):
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _email(value):
    value = value.strip()
    return value if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) else ""
