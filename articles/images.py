"""Uploaded pictures: what is accepted, what their metadata says, and their renditions.

An upload is judged by its content, never by its name: Pillow must recognise one of
the allowed formats, the header must declare a sane number of pixels (checked before
any decoding, so a decompression bomb costs nothing), and the whole file must decode.
"""

import io
import re
import struct
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from PIL import Image as PILImage
from PIL import ImageOps, IptcImagePlugin, UnidentifiedImageError

#: Pillow format name -> file extension of what is accepted.
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "AVIF": "avif", "GIF": "gif"}
RENDITION_WIDTHS = (400, 800, 1200, 1600)
RENDITION_SAVE_OPTIONS = {
    "avif": {"format": "AVIF", "quality": 60, "speed": 8},
    "webp": {"format": "WEBP", "quality": 78, "method": 4},
    "jpeg": {"format": "JPEG", "quality": 82, "optimize": True, "progressive": True},
}


# Code or markup that a browser or a server could run if the file were ever taken for
# something other than a picture (a "polyglot": a valid image with a page appended or
# hidden in a comment). Each pattern is long enough that compressed pixel data cannot
# match it by chance in practice; XMP's "<?xpacket" and "<x:xmpmeta" do not match.
EMBEDDED_CODE = re.compile(
    rb"<\?php|<script|<iframe|<object[\s>]|<embed[\s>]|<html[\s>]|<body[\s>]"
    rb"|<svg[\s/>]|<!doctype\s+html|javascript:",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CheckedImage:
    format: str
    extension: str
    width: int
    height: int
    metadata: dict


def check_upload(upload):
    """Validate an uploaded file by its content; return what was learnt from it.

    Raises ValidationError with a message an editor can act on. Reads the whole
    file, so the caller must not rely on the file position afterwards.
    """
    max_bytes = settings.IMAGE_UPLOAD_MAX_BYTES
    if upload.size > max_bytes:
        raise ValidationError(
            f"This file is {filesizeformat(upload.size)}; the limit is "
            f"{filesizeformat(max_bytes)}. Export a smaller version and try again.",
            code="too_large",
        )
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    try:
        # The header alone is read here; the pixel limit is checked just below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as picture:
                kind = picture.format
                width, height = picture.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError(
            "This file is not a picture Pillow can read (whatever its name says). "
            "Upload a JPEG, PNG, WebP, AVIF or GIF image.",
            code="not_an_image",
        ) from error
    except PILImage.DecompressionBombError as error:
        raise _too_many_pixels() from error
    if kind not in ALLOWED_FORMATS:
        raise ValidationError(
            f"{kind} images are not accepted. Upload a JPEG, PNG, WebP, AVIF or GIF image.",
            code="format",
        )
    if width * height > settings.IMAGE_MAX_PIXELS:
        raise _too_many_pixels(width, height)
    if EMBEDDED_CODE.search(data):
        raise ValidationError(
            "This file contains code or markup besides the picture, which is how hostile "
            "files disguise themselves. Open it in an image editor, export it again and "
            "upload the new file.",
            code="embedded_code",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as picture:
                picture.load()
                metadata = read_metadata(picture)
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning) as error:
        raise _too_many_pixels(width, height) from error
    except (OSError, SyntaxError, ValueError, struct.error) as error:
        raise ValidationError(
            "This image is damaged or incomplete (it could not be decoded to the end). "
            "Export it again and upload the new file.",
            code="truncated",
        ) from error
    return CheckedImage(kind, ALLOWED_FORMATS[kind], width, height, metadata)


def _too_many_pixels(width=None, height=None):
    size = f" ({width:,} x {height:,} pixels)" if width else ""
    return ValidationError(
        f"This image is too large to process{size}; the limit is "
        f"{settings.IMAGE_MAX_PIXELS:,} pixels. Resize it and try again.",
        code="too_many_pixels",
    )


# IPTC IIM dataset numbers (record 2) and EXIF tags that agencies fill in.
IPTC_BYLINE = (2, 80)
IPTC_CREDIT = (2, 110)
IPTC_SOURCE = (2, 115)
IPTC_COPYRIGHT = (2, 116)
IPTC_CAPTION = (2, 120)
EXIF_IMAGE_DESCRIPTION = 0x010E
EXIF_ARTIST = 0x013B
EXIF_COPYRIGHT = 0x8298


def _text(value):
    if isinstance(value, list):
        value = value[0] if value else b""
    if isinstance(value, bytes):
        for encoding in ("utf-8", "latin-1"):
            try:
                value = value.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    return " ".join(str(value or "").replace("\x00", "").split())


XMP_NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}
#: What is read from an XMP packet: field -> (namespace prefix, property).
XMP_PROPERTIES = {
    "byline": ("dc", "creator"),
    "agency": ("photoshop", "Credit"),
    "source": ("photoshop", "Source"),
    "copyright_notice": ("dc", "rights"),
    "caption": ("dc", "description"),
}


def _read_xmp(picture):
    """The agency fields of the picture's XMP packet (Adobe's successor to IPTC IIM).

    Parsed with defusedxml: the packet comes from whoever made the file.
    """
    packet = picture.info.get("xmp")
    if not packet:
        return {}
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(packet)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return {}
    found = {}
    for field, (prefix, name) in XMP_PROPERTIES.items():
        tag = f"{{{XMP_NAMESPACES[prefix]}}}{name}"
        for description in root.iter(f"{{{XMP_NAMESPACES['rdf']}}}Description"):
            value = description.get(tag)  # the short form: an attribute
            element = description.find(tag)
            if value is None and element is not None:
                items = element.findall(f".//{{{XMP_NAMESPACES['rdf']}}}li")
                # A list (creators) joins its items; a language alternative takes the first.
                if items and element.find(f"{{{XMP_NAMESPACES['rdf']}}}Seq") is not None:
                    value = ", ".join(_text(item.text) for item in items if item.text)
                elif items:
                    value = items[0].text
                else:
                    value = element.text
            if value and _text(value):
                found[field] = _text(value)
                break
    return found


def _words(text):
    return re.findall(r"\w+", text.casefold())


def credit_from(*, byline="", agency="", source=""):
    """The house credit "Photographer/Agency" and the "via" source, without repeats.

    Agencies fill By-line, Credit and Source loosely: the photographer may already
    carry the agency ("María Santos/Reuters"), and Source often names the agency
    again ("Reuters Pictures" for Credit "Reuters"). An agency is named once.
    """
    if agency and byline and agency.casefold() in byline.casefold():
        credit = byline
    else:
        credit = "/".join(part for part in (byline, agency) if part)
    if not source:
        return credit, ""
    source_words = _words(source.removeprefix("via ").removeprefix("Via "))
    agency_words = set(_words(agency)) or set(_words(credit.rpartition("/")[2]))
    repeats_the_agency = source_words and (
        source_words[0] in agency_words or source.casefold() in credit.casefold()
    )
    if repeats_the_agency:
        return credit or source, ""
    return credit, source if source.lower().startswith("via ") else f"via {source}"


def read_metadata(picture):
    """Caption, credit, source and copyright from a picture's IPTC, XMP or EXIF.

    IPTC IIM comes first (what agencies' systems write), then XMP, then EXIF.
    Agencies put the photographer in By-line and the agency in Credit: together they
    make the house credit "Photographer/Agency" (see credit_from()).
    """
    try:
        iptc = IptcImagePlugin.getiptcinfo(picture) or {}
    except (SyntaxError, ValueError, IndexError, struct.error):
        iptc = {}
    xmp = _read_xmp(picture)
    fields = {
        "byline": _text(iptc.get(IPTC_BYLINE)) or xmp.get("byline", ""),
        "agency": _text(iptc.get(IPTC_CREDIT)) or xmp.get("agency", ""),
        "source": _text(iptc.get(IPTC_SOURCE)) or xmp.get("source", ""),
        "caption": _text(iptc.get(IPTC_CAPTION)) or xmp.get("caption", ""),
        "copyright_notice": _text(iptc.get(IPTC_COPYRIGHT)) or xmp.get("copyright_notice", ""),
    }
    try:
        exif = picture.getexif()
    except (SyntaxError, ValueError, struct.error):
        exif = {}
    if not (fields["byline"] or fields["agency"]):
        fields["byline"] = _text(exif.get(EXIF_ARTIST))
    fields["caption"] = fields["caption"] or _text(exif.get(EXIF_IMAGE_DESCRIPTION))
    fields["copyright_notice"] = fields["copyright_notice"] or _text(exif.get(EXIF_COPYRIGHT))
    credit, source = credit_from(
        byline=fields["byline"], agency=fields["agency"], source=fields["source"]
    )
    found = {"credit": credit, "source": source}
    found["caption"] = fields["caption"]
    found["copyright_notice"] = fields["copyright_notice"]
    return {field: value for field, value in found.items() if value}


def iptc_segment(fields):
    """A JPEG APP13 segment carrying IPTC IIM fields {(record, dataset): text}.

    Used by the demo content and the tests to make agency-like photos.
    """
    iim = b""
    for (record, dataset), text in fields.items():
        value = text.encode("utf-8")
        iim += struct.pack(">BBBH", 0x1C, record, dataset, len(value)) + value
    if len(iim) % 2:
        iim += b"\x00"
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iim))
    payload = b"Photoshop 3.0\x00" + resource + iim
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def with_iptc(jpeg_bytes, fields):
    """The JPEG with an IPTC segment inserted right after its start marker."""
    return jpeg_bytes[:2] + iptc_segment(fields) + jpeg_bytes[2:]


def xmp_packet(*, creator="", credit="", source="", rights="", description=""):
    """An XMP packet as photo desks write it (creators as a list, rights per language)."""
    from xml.sax.saxutils import escape

    def alt(value):
        return f'<rdf:Alt><rdf:li xml:lang="x-default">{escape(value)}</rdf:li></rdf:Alt>'

    properties = []
    if creator:
        properties.append(
            f"<dc:creator><rdf:Seq><rdf:li>{escape(creator)}</rdf:li></rdf:Seq></dc:creator>"
        )
    if rights:
        properties.append(f"<dc:rights>{alt(rights)}</dc:rights>")
    if description:
        properties.append(f"<dc:description>{alt(description)}</dc:description>")
    if credit:
        properties.append(f"<photoshop:Credit>{escape(credit)}</photoshop:Credit>")
    if source:
        properties.append(f"<photoshop:Source>{escape(source)}</photoshop:Source>")
    return (
        (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{rdf}">'
            '<rdf:Description rdf:about="" xmlns:dc="{dc}" xmlns:photoshop="{photoshop}">'
            "{properties}</rdf:Description></rdf:RDF></x:xmpmeta>"
            '<?xpacket end="w"?>'
        )
        .format(properties="".join(properties), **XMP_NAMESPACES)
        .encode("utf-8")
    )


def with_xmp(jpeg_bytes, packet):
    """The JPEG with an XMP (APP1) segment inserted right after its start marker."""
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg_bytes[:2] + segment + jpeg_bytes[2:]


def rendition_widths(original_width):
    """The standard widths narrower than the original, plus the original if smaller."""
    widths = [width for width in RENDITION_WIDTHS if width < original_width]
    if original_width < RENDITION_WIDTHS[-1]:
        widths.append(original_width)
    return widths


# Crops for search engines and share cards, cut around the focal point: Google asks for
# 16:9, 4:3 and 1:1 pictures at least 1,200 px wide; Open Graph cards are 1200 x 630.
# JPEG only: every crawler and social network reads it.
CROP_RATIOS = {"16x9": (16, 9), "4x3": (4, 3), "1x1": (1, 1), "share": (1200, 630)}
CROP_WIDTH = 1200


def crop_box(width, height, ratio, focal_x, focal_y):
    """The largest `ratio` box inside width x height, centred on the focal point as far
    as the picture's edges allow: (left, top, right, bottom)."""
    ratio_w, ratio_h = ratio
    box_w = min(width, height * ratio_w / ratio_h)
    box_h = box_w * ratio_h / ratio_w
    left = min(max(focal_x * width - box_w / 2, 0), width - box_w)
    top = min(max(focal_y * height - box_h / 2, 0), height - box_h)
    return (round(left), round(top), round(left + box_w), round(top + box_h))


def crop_size(width, height, ratio):
    """A crop's size: CROP_WIDTH wide, or as wide as the picture allows when smaller."""
    ratio_w, ratio_h = ratio
    crop_w = min(CROP_WIDTH, int(min(width, height * ratio_w / ratio_h)))
    return max(1, crop_w), max(1, round(crop_w * ratio_h / ratio_w))


def ensure_renditions(image):
    """Make the renditions and crops of `image` that are missing; return all of them.

    Safe to run twice at once: a rendition another worker made first is kept.
    """
    from articles.models import Rendition

    existing = {(r.crop, r.format, r.width): r for r in image.renditions.all()}
    wanted = [
        ("", kind, width, None)
        for width in rendition_widths(image.width)
        for kind in RENDITION_SAVE_OPTIONS
        if ("", kind, width) not in existing
    ]
    for crop, ratio in CROP_RATIOS.items():
        crop_w, _ = crop_size(image.width, image.height, ratio)
        if (crop, "jpeg", crop_w) not in existing:
            wanted.append((crop, "jpeg", crop_w, ratio))
    if not wanted:
        return list(existing.values())
    with image.file.open("rb") as handle, PILImage.open(handle) as original:
        original = ImageOps.exif_transpose(original)
        has_alpha = original.mode in ("RGBA", "LA", "PA") or "transparency" in original.info
        base = original.convert("RGBA" if has_alpha else "RGB")
    # The formats of one width share its resize (a third of an upload's CPU otherwise).
    sized = {}
    for crop, kind, width, ratio in wanted:
        if (crop, width) not in sized:
            sized[crop, width] = _resized(base, width, ratio, image.focal_x, image.focal_y)
        resized = sized[crop, width]
        width, height = resized.size
        if kind == "jpeg" and resized.mode == "RGBA":
            flat = PILImage.new("RGB", resized.size, (255, 255, 255))
            flat.paste(resized, mask=resized.getchannel("A"))
            resized = flat
        buffer = io.BytesIO()
        resized.save(buffer, **RENDITION_SAVE_OPTIONS[kind])
        suffix = f"-{crop}" if crop else ""
        name = f"{image.pk}-{width}{suffix}.{'jpg' if kind == 'jpeg' else kind}"
        try:
            with transaction.atomic():
                rendition = Rendition.objects.create(
                    image=image,
                    crop=crop,
                    format=kind,
                    width=width,
                    height=height,
                    file=ContentFile(buffer.getvalue(), name=name),
                )
        except IntegrityError:
            continue
        existing[(crop, kind, width)] = rendition
    return list(existing.values())


def _resized(base, width, ratio, focal_x, focal_y):
    """`base` at `width` (whole), or its `ratio` crop around the focal point."""
    if ratio is None:
        if width == base.width:
            return base
        height = max(1, round(base.height * width / base.width))
        return base.resize((width, height), PILImage.LANCZOS)
    box = crop_box(base.width, base.height, ratio, focal_x, focal_y)
    return base.resize(crop_size(base.width, base.height, ratio), PILImage.LANCZOS, box=box)


def delete_crops(image):
    """Remove the focal-point crops of an image (its focal point moved); their files too."""
    from articles.models import Rendition

    # Not image.renditions: the admin prefetches only the small ones.
    for rendition in Rendition.objects.filter(image=image).exclude(crop=""):
        rendition.file.delete(save=False)
        rendition.delete()


def delete_renditions(image):
    """Remove the renditions of an image (its file changed); their files too."""
    from articles.models import Rendition

    # Not image.renditions: the admin prefetches only the small ones.
    for rendition in Rendition.objects.filter(image=image):
        rendition.file.delete(save=False)
        rendition.delete()
