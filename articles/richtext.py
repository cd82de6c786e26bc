"""The article body: what editors may write, and the sanitiser that enforces it.

The allow-list is the editor's feature set. Anything else that arrives, from the
editor or from a forged POST, is stripped before it is stored.
"""

import html
import re

import nh3
from django.conf import settings
from django.db.models import Q
from django.urls import reverse_lazy
from django_prose_editor.fields import ProseEditorField

EDITOR_EXTENSIONS = {
    "Bold": True,
    "Italic": True,
    "Heading": {"levels": [2, 3]},
    "BulletList": True,
    "OrderedList": True,
    "ListItem": True,
    "Blockquote": True,
    "HardBreak": True,
    "Link": {"enableTarget": False, "protocols": ["http", "https", "mailto"]},
    # "Browse…" in the figure dialog opens the image library's picker.
    "Figure": {"pickerUrl": reverse_lazy("admin:articles_image_picker")},
    "Caption": True,
    "Image": True,
    "History": True,
}

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "h2", "h3", "ul", "ol", "li", "blockquote", "a",
    "figure", "figcaption", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    "figure": {"data-image-id"},
    # data-file is what the editor's picker writes; normalise_images() turns it into
    # data-image-id and it is never stored.
    "img": {"src", "alt", "data-image-id", "data-file"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=ALLOWED_URL_SCHEMES,
    link_rel="noopener noreferrer",
    strip_comments=True,
)


# nh3's output is well-formed: attribute values are double-quoted with `"` escaped,
# and text never contains a raw `<`. These patterns are exact on that output only.
_ATTRS = r'((?:\s+[a-z-]+="[^"]*")*)'
_IMG_RE = re.compile(r"<img" + _ATTRS + r"\s*/?>")
_FIGURE_RE = re.compile(r"<figure" + _ATTRS + r">")
_FIGURE_IMG_RE = re.compile(r'<figure>(\s*<img[^>]*? data-image-id="(\d+)")')
_ATTR_RE = re.compile(r'([a-z-]+)="([^"]*)"')
_IMAGE_ID_RE = re.compile(r'<img[^>]*? data-image-id="(\d+)"')


# The editor's schema wraps a list item's text in a paragraph; bodies written elsewhere
# (the demo, an import) do not. One paragraph in an item is stored without it, so an
# edit of one word elsewhere does not rewrite every list of the body.
_LIST_ITEM_PARAGRAPH_RE = re.compile(r"<li><p>((?:(?!</?p>|</?li>).)*)</p></li>", re.DOTALL)


def sanitize_html(html):
    """Return `html` with everything outside the allow-list removed.

    Images from the library are tied to their Image row (see normalise_images).
    """
    cleaned = _cleaner.clean(html or "").strip()
    if cleaned in ("<p></p>", "<p><br></p>"):
        return ""
    cleaned = _LIST_ITEM_PARAGRAPH_RE.sub(r"<li>\1</li>", cleaned)
    if "<img" in cleaned:
        cleaned = normalise_images(cleaned)
    return cleaned


def normalise_images(cleaned):
    """Give every library image in sanitised HTML the attributes the site relies on.

    `<figure data-image-id="ID"><img src="URL" alt="…" data-image-id="ID">…</figure>`:
    the id comes from the picker's data-file, an existing data-image-id, or the src
    matching an Image file; the src becomes the image's own URL and an empty alt takes
    the library's alt text. An image that is not in the library keeps its src and alt
    and no id (the pre-publish checklist refuses it).
    """
    from articles.models import Image  # the model module imports this one

    tags = [(match, dict(_ATTR_RE.findall(match.group(1)))) for match in _IMG_RE.finditer(cleaned)]
    ids, names = set(), set()
    for _match, attrs in tags:
        wanted = attrs.get("data-file") or attrs.get("data-image-id") or ""
        if wanted.isdigit():
            ids.add(int(wanted))
        elif (src := html.unescape(attrs.get("src", ""))).startswith(settings.MEDIA_URL):
            names.add(src.removeprefix(settings.MEDIA_URL))
    images = Image.objects.filter(Q(pk__in=ids) | Q(file__in=names)).only("pk", "file", "alt_text")
    by_id, by_name = {}, {}
    for image in images:
        by_id[image.pk] = by_name[image.file.name] = image

    def rebuilt(attrs):
        wanted = attrs.get("data-file") or attrs.get("data-image-id") or ""
        image = by_id.get(int(wanted)) if wanted.isdigit() else None
        if image is None:
            src = html.unescape(attrs.get("src", ""))
            image = by_name.get(src.removeprefix(settings.MEDIA_URL))
        alt = attrs.get("alt", "")
        if image is None:
            return f'<img src="{attrs.get("src", "")}" alt="{alt}">'
        alt = alt.strip() or html.escape(image.alt_text, quote=True)
        url = html.escape(image.file.url, quote=True)
        return f'<img src="{url}" alt="{alt}" data-image-id="{image.pk}">'

    pieces, end = [], 0
    for match, attrs in tags:
        pieces += [cleaned[end : match.start()], rebuilt(attrs)]
        end = match.end()
    pieces.append(cleaned[end:])
    result = _FIGURE_RE.sub("<figure>", "".join(pieces))
    return _FIGURE_IMG_RE.sub(r'<figure data-image-id="\2">\1', result)


def body_image_ids(html):
    """Ids of the library images in a sanitised body, in order, without repeats."""
    return list(dict.fromkeys(int(pk) for pk in _IMAGE_ID_RE.findall(html or "")))


def has_foreign_images(html):
    """True when the body has an image that is not from the library."""
    return any(" data-image-id=" not in match.group(0) for match in _IMG_RE.finditer(html or ""))


class SanitizedHTMLField(ProseEditorField):
    """Rich text edited with ProseMirror and sanitised on every save, by any path."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("config", {"extensions": EDITOR_EXTENSIONS})
        kwargs.setdefault("sanitize", sanitize_html)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = sanitize_html(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value
