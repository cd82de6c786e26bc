"""Turning stored article HTML into what readers see.

The stored body is sanitised HTML (richtext.py). Here each
`<figure data-image-id="ID">…</figure>` becomes a responsive `<picture>` with AVIF,
WebP and JPEG sources, its caption and a visible credit. All the images of a page are
read in one query (`load_images`). An `<img>` pointing at another host is dropped: the
site makes no outside requests.
"""

import html
import re

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.utils.html import conditional_escape, escape, format_html, strip_tags
from django.utils.safestring import mark_safe

from articles.models import Image, Rendition

IMAGE_FIELDS = [field.attname for field in Image._meta.concrete_fields]
SOURCE_TYPES = (("avif", "image/avif"), ("webp", "image/webp"))
# The JPEG used as the plain `src`: the smallest rendition at least this wide.
DEFAULT_SRC_WIDTH = 800

FIGURE_OR_IMG_RE = re.compile(
    r'<figure data-image-id="(?P<figure_id>\d+)">(?P<inner>.*?)</figure>|(?P<img><img\b[^>]*>)',
    re.S,
)
CAPTION_RE = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)
ATTRIBUTE_RE = re.compile(r'([\w-]+)="([^"]*)"')
PARAGRAPH_RE = re.compile(r"<p>(.*?)</p>", re.S)


class RenditionRow:
    """A rendition as pictures, feeds and structured data read it: the row's values
    without a model instance (a listing reads some 240 of them)."""

    __slots__ = ("crop", "format", "height", "name", "width")

    def __init__(self, format, crop, width, height, name):
        self.format, self.crop, self.width, self.height, self.name = (
            format,
            crop,
            width,
            height,
            name,
        )

    @property
    def file(self):
        return FieldFile(None, RENDITION_FILE, self.name)


RENDITION_FILE = Rendition._meta.get_field("file")
ROW_FIELDS = ("format", "crop", "width", "height", "file")


def load_images(ids):
    """{id: Image} for `ids`, each with `loaded_renditions`, in ONE query (a LEFT JOIN)."""
    ids = {int(pk) for pk in ids if pk}
    if not ids:
        return {}
    rows = (
        Image.objects.filter(pk__in=ids)
        .order_by("pk", "renditions__crop", "renditions__format", "renditions__width")
        .values_list(*IMAGE_FIELDS, *(f"renditions__{name}" for name in ROW_FIELDS))
    )
    return images_from_rows(rows)


def images_from_rows(rows):
    """{id: Image} from rows of IMAGE_FIELDS then ROW_FIELDS of one of its renditions
    (None for an image without any), as load_images() reads them."""
    images = {}
    split = len(IMAGE_FIELDS)
    for row in rows:
        image = images.get(row[0])
        if image is None:
            image = Image.from_db("default", IMAGE_FIELDS, row[:split])
            image.loaded_renditions = []
            images[image.pk] = image
        if row[split] is not None:
            image.loaded_renditions.append(RenditionRow(*row[split:]))
    return images


def attach_renditions(images):
    """Give each of `images` its `loaded_renditions`, in one query."""
    # One picture can lead several stories of a page: each instance gets the same list.
    by_id = {}
    for image in images:
        if image is not None:
            image.loaded_renditions = by_id.setdefault(image.pk, [])
    if not by_id:
        return
    rows = (
        Rendition.objects.filter(image_id__in=by_id)
        .order_by("image_id", "crop", "format", "width")
        .values_list("image_id", *ROW_FIELDS)
    )
    for image_id, *values in rows:
        by_id[image_id].append(RenditionRow(*values))


def _all_renditions(image):
    loaded = getattr(image, "loaded_renditions", None)
    if loaded is not None:
        return loaded
    # Prefetched by Article.objects.for_listing(); otherwise one query for this image.
    return list(image.renditions.all())


def renditions_of(image):
    """The whole picture at each width and format (what a srcset offers)."""
    return [rendition for rendition in _all_renditions(image) if not rendition.crop]


def crops_of(image):
    """{crop: the JPEG crop} for the focal-point crops made so far (images.CROP_RATIOS)."""
    return {rendition.crop: rendition for rendition in _all_renditions(image) if rendition.crop}


def is_showable(image):
    return image is not None and bool(image.file) and not image.is_expired


# A stored name FileSystemStorage.url() returns unchanged after its base URL: nothing to
# quote, no dot segment or empty segment for urljoin() to resolve.
PLAIN_NAME_RE = re.compile(r"(?!.*(?:^|/)\.)(?!.*//)[A-Za-z0-9_\-][A-Za-z0-9_\-./]*\Z")


def file_url(file):
    """`file.url`, without FileSystemStorage's quoting and URL joining for plain names.

    A teaser card shows a dozen rendition URLs; storage.url() costs more than the rest
    of the card's picture. The result is the same string.
    """
    storage = file.storage
    # __class__, not type(): the default storage is a lazy proxy of the real one.
    if storage.__class__.url is FileSystemStorage.url and PLAIN_NAME_RE.match(file.name or ""):
        return storage.base_url + file.name
    return file.url


def _url(file, *, absolute):
    url = file_url(file)
    return settings.SITE_URL + url if absolute and url.startswith("/") else url


def picture(image, *, sizes="100vw", lazy=True, priority=False, absolute=False, alt=None):
    """A `<picture>` for `image`; falls back to the original file while renditions are made."""
    by_format = {"avif": [], "webp": [], "jpeg": []}
    for rendition in renditions_of(image):
        by_format.setdefault(rendition.format, []).append(rendition)
    sizes = conditional_escape(sizes)

    def srcset(renditions):
        renditions.sort(key=_width)
        return escape(
            ", ".join(f"{_url(r.file, absolute=absolute)} {r.width}w" for r in renditions)
        )

    sources = "".join(
        f'<source type="{mime}" srcset="{srcset(by_format[fmt])}" sizes="{sizes}">'
        for fmt, mime in SOURCE_TYPES
        if by_format[fmt]
    )
    jpegs = by_format["jpeg"]
    if jpegs:
        jpeg_srcset = f' srcset="{srcset(jpegs)}" sizes="{sizes}"'
        default = next((r for r in jpegs if r.width >= DEFAULT_SRC_WIDTH), jpegs[-1])
        src = _url(default.file, absolute=absolute)
    else:
        src = _url(image.file, absolute=absolute)
        jpeg_srcset = ""
    loading = ' loading="lazy"' if lazy and not priority else ""
    fetch = ' fetchpriority="high"' if priority else ""
    alt = conditional_escape(image.alt_text if alt is None else alt)
    return mark_safe(
        f'<picture>{sources}<img src="{escape(src)}"{jpeg_srcset} width="{image.width}" '
        f'height="{image.height}" alt="{alt}"{loading}{fetch} decoding="async"></picture>'
    )


def _width(rendition):
    return rendition.width


def credit_html(image, *, label="Photo"):
    if not image.credit_line:
        return ""
    return format_html('<span class="credit">{}: {}</span>', label, image.credit_line)


def figure(image, *, caption=None, css_class="image", label="Photo", **picture_kwargs):
    """The picture with its caption and its credit as visible text."""
    if not is_showable(image):
        return ""
    caption = image.caption if caption is None else caption
    parts = [format_html('<span class="caption">{}</span>', caption) if caption else ""]
    parts.append(credit_html(image, label=label))
    figcaption = " ".join(part for part in parts if part)
    return format_html(
        '<figure class="{}">{}{}</figure>',
        css_class,
        picture(image, **picture_kwargs),
        format_html("<figcaption>{}</figcaption>", mark_safe(figcaption)) if figcaption else "",
    )


def _is_local(src):
    return (src.startswith("/") and not src.startswith("//")) or src.startswith(
        settings.SITE_URL + "/"
    )


def render_body(body, images, *, absolute=False):
    """The stored body with its figures made into credited pictures (safe HTML)."""

    def replace(match):
        if match.group("figure_id"):
            image = images.get(int(match.group("figure_id")))
            found = CAPTION_RE.search(match.group("inner"))
            # The caption was sanitised on save; an empty one falls back to the image's.
            caption = (
                mark_safe(found.group(1)) if found and strip_tags(found.group(1)).strip() else None
            )
            return figure(image, caption=caption, sizes=BODY_SIZES, absolute=absolute)
        attributes = dict(ATTRIBUTE_RE.findall(match.group("img")))
        if attributes.get("data-image-id", "").isdigit():
            image = images.get(int(attributes["data-image-id"]))
            return figure(image, sizes=BODY_SIZES, absolute=absolute)
        src = html.unescape(attributes.get("src", ""))
        if not _is_local(src):
            return ""
        if absolute and src.startswith("/"):
            return match.group("img").replace(
                f'src="{attributes["src"]}"', f'src="{escape(settings.SITE_URL + src)}"', 1
            )
        return match.group("img")

    return mark_safe(FIGURE_OR_IMG_RE.sub(replace, body or ""))


BODY_SIZES = "(min-width: 50rem) 42rem, 100vw"


def paragraphs(body, *, limit=None):
    """The body's paragraphs as plain text, for teasers and descriptions."""
    found = []
    for match in PARAGRAPH_RE.finditer(body or ""):
        text = " ".join(html.unescape(strip_tags(match.group(1))).split())
        if text:
            found.append(text)
            if limit and len(found) >= limit:
                break
    return found


def plain_excerpt(body, *, words=40):
    text = " ".join(paragraphs(body, limit=3))
    chosen = text.split()
    return " ".join(chosen[:words]) + ("…" if len(chosen) > words else "")
