"""Reading a WordPress export (WXR 1.0, 1.1 and 1.2) one item at a time.

The file is streamed: the text is decoded in blocks and cut into the channel header and
one `<item>…</item>` at a time (CDATA sections and comments are skipped when looking
for the cuts, so a post that quotes "</item>" does not end early). Each piece is parsed
on its own with defusedxml, which refuses DTDs and entities: an XXE or "billion
laughs" file cannot read a file or eat the memory, and a malformed post costs only
itself, never the rest of the export.

Real exports are not always valid XML: bytes that are not UTF-8 (a latin-1 database
dumped as UTF-8) are read as Windows-1252, and control characters XML forbids are
dropped.
"""

import codecs
import re
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

BLOCK_SIZE = 1024 * 1024
# Namespaces by what their URI starts with: WXR 1.0, 1.1 and 1.2 differ only in version.
NAMESPACE_PREFIXES = (
    ("http://wordpress.org/export/", "excerpt", "/excerpt/"),
    ("http://wordpress.org/export/", "wp", ""),
    ("http://purl.org/rss/1.0/modules/content/", "content", ""),
    ("http://purl.org/dc/elements/1.1/", "dc", ""),
    ("http://wellformedweb.org/CommentAPI/", "wfw", ""),
)
DEFAULT_NAMESPACES = {
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "wfw": "http://wellformedweb.org/CommentAPI/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "wp": "http://wordpress.org/export/1.2/",
}
# XML 1.0 forbids these characters even inside CDATA; WordPress exports them anyway.
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CUT_RE = re.compile(
    r"<!\[CDATA\[|<!--|<item(?=[\s>/])[^>]*>|</item\s*>|</channel\s*>", re.IGNORECASE
)
ENCODING_RE = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
DOCTYPE_RE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
RSS_TAG_RE = re.compile(r"<rss\b[^>]*>", re.IGNORECASE)
XMLNS_RE = re.compile(r"""\sxmlns:([\w.-]+)\s*=\s*["']([^"']*)["']""")


class ExportError(Exception):
    """The file as a whole cannot be read as a WordPress export."""


def _windows_1252(error):
    # Undecodable bytes in a "UTF-8" export are nearly always Windows-1252 text.
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("wxr-cp1252", _windows_1252)


def _decoded_blocks(handle):
    """The file's text in blocks, decoded with the encoding it declares."""
    head = handle.read(BLOCK_SIZE)
    encoding = "utf-8"
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif found := ENCODING_RE.match(head.lstrip()):
        try:
            encoding = codecs.lookup(found.group(1).decode("ascii")).name
        except LookupError:
            encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)(errors="wxr-cp1252")
    block = head
    while block:
        yield INVALID_XML_CHARS.sub("", decoder.decode(block))
        block = handle.read(BLOCK_SIZE)
    yield INVALID_XML_CHARS.sub("", decoder.decode(b"", final=True))


@dataclass
class RawItem:
    """One `<item>` of the export: its text, and where it is in the file."""

    text: str
    number: int


@dataclass
class Header:
    """The channel: the site's address, its people and its taxonomy."""

    namespaces: dict = field(default_factory=dict)
    base_site_url: str = ""
    base_blog_url: str = ""
    link: str = ""
    wxr_version: str = ""
    authors: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    terms: list = field(default_factory=list)


def split_export(handle):
    """Yield the header text first, then a RawItem per `<item>`, streaming.

    Raises ExportError when the file has no RSS channel at all.
    """
    buffer = ""
    position = 0
    header_done = False
    in_item_at = None
    number = 0
    blocks = _decoded_blocks(handle)
    exhausted = False

    def more():
        nonlocal buffer, exhausted
        try:
            buffer += next(blocks)
        except StopIteration:
            exhausted = True

    more()
    while True:
        match = CUT_RE.search(buffer, position)
        if match is None:
            if exhausted:
                break
            # Keep only what is still needed: the open item or the unread tail.
            keep_from = in_item_at if in_item_at is not None else max(0, len(buffer) - 64)
            if header_done or in_item_at is not None:
                buffer = buffer[keep_from:]
                position = max(0, position - keep_from)
                if in_item_at is not None:
                    in_item_at = 0
            more()
            continue
        token = match.group(0)
        if token in ("<![CDATA[", "<!--"):
            end_token = "]]>" if token == "<![CDATA[" else "-->"
            end = buffer.find(end_token, match.end())
            while end == -1 and not exhausted:
                more()
                end = buffer.find(end_token, match.end())
            if end == -1:
                break
            position = end + len(end_token)
            continue
        lowered = token.lower()
        if lowered.startswith("<item"):
            if not header_done:
                header_done = True
                yield buffer[: match.start()]
            if in_item_at is not None:
                # An item never closed: give it up to where the next one starts.
                number += 1
                yield RawItem(buffer[in_item_at : match.start()], number)
            in_item_at = match.start()
            position = match.end()
            if token.endswith("/>"):
                in_item_at = None
            continue
        if lowered.startswith("</item"):
            if in_item_at is not None:
                number += 1
                yield RawItem(buffer[in_item_at : match.end()], number)
                in_item_at = None
            position = match.end()
            continue
        # </channel>: everything worth reading has been read.
        if not header_done:
            header_done = True
            yield buffer[: match.start()]
        break
    if not header_done:
        if "<channel" not in buffer.lower():
            raise ExportError("This file is not a WordPress export: it has no RSS channel.")
        yield buffer
    elif in_item_at is not None:
        number += 1
        yield RawItem(buffer[in_item_at:], number)


def short_tag(tag):
    """`{http://wordpress.org/export/1.1/}post_id` -> `wp:post_id`."""
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    for start, prefix, contains in NAMESPACE_PREFIXES:
        if uri.startswith(start) and contains in uri:
            return f"{prefix}:{local}"
    return local


def _wrapper(namespaces):
    declared = dict(DEFAULT_NAMESPACES)
    declared.update(namespaces)
    attributes = "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in declared.items())
    return f'<rss version="2.0"{attributes}><channel>', "</channel></rss>"


def _parse(text):
    try:
        return SafeET.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as error:
        raise ExportError(
            f"refused: {type(error).__name__} (DTDs and entities are not allowed)"
        ) from None
    except SafeET.ParseError as error:
        raise ExportError(f"not well-formed XML: {error}") from None


def _children(element):
    found = {}
    for child in element:
        found.setdefault(short_tag(child.tag), []).append(child)
    return found


def _text(element):
    return (element.text or "").strip() if element is not None else ""


def parse_header(text):
    """Read the channel header (the part of the file before the first item)."""
    if DOCTYPE_RE.search(text):
        raise ExportError(
            "This file declares a DTD. WordPress exports never do; it is refused so that "
            "no entity in it can read files or exhaust memory."
        )
    rss_tag = RSS_TAG_RE.search(text)
    namespaces = dict(XMLNS_RE.findall(rss_tag.group(0))) if rss_tag else {}
    body = DECLARATION_RE.sub("", text)
    channel_at = body.lower().find("<channel")
    if channel_at == -1:
        raise ExportError("This file is not a WordPress export: it has no RSS channel.")
    body = body[channel_at:]
    body = body[body.find(">") + 1 :]
    opening, closing = _wrapper(namespaces)
    root = _parse(opening + body + closing)
    channel = root.find("channel")
    header = Header(namespaces=namespaces)
    for child in channel:
        name = short_tag(child.tag)
        if name == "wp:base_site_url":
            header.base_site_url = _text(child)
        elif name == "wp:base_blog_url":
            header.base_blog_url = _text(child)
        elif name == "link":
            header.link = _text(child)
        elif name == "wp:wxr_version":
            header.wxr_version = _text(child)
        elif name in ("wp:author", "wp:category", "wp:tag", "wp:term"):
            values = {short_tag(part.tag): (part.text or "").strip() for part in child}
            target = {
                "wp:author": header.authors,
                "wp:category": header.categories,
                "wp:tag": header.tags,
                "wp:term": header.terms,
            }[name]
            target.append(values)
    return header


@dataclass
class Item:
    """An item of the export, its fields by short name (`wp:post_id`, `title`…)."""

    number: int
    raw: str
    fields: dict
    postmeta: dict
    terms: list  # (domain, nicename, name) in the file's order

    def get(self, name, default=""):
        return self.fields.get(name, default)

    @property
    def wp_id(self):
        return self.get("wp:post_id")

    @property
    def post_type(self):
        return self.get("wp:post_type", "post") or "post"


def parse_item(raw, header):
    """An Item from the raw text of one `<item>`; ExportError when it is malformed."""
    opening, closing = _wrapper(header.namespaces)
    root = _parse(opening + raw.text + closing)
    element = root.find("channel/item")
    if element is None:
        raise ExportError("not an item")
    fields, postmeta, terms = {}, {}, []
    for child in element:
        name = short_tag(child.tag)
        if name == "wp:postmeta":
            parts = {short_tag(part.tag): part.text or "" for part in child}
            key = parts.get("wp:meta_key", "").strip()
            if key and key not in postmeta:
                postmeta[key] = parts.get("wp:meta_value", "")
        elif name == "category":
            terms.append(
                (
                    child.get("domain", "category"),
                    (child.get("nicename") or "").strip(),
                    (child.text or "").strip(),
                )
            )
        elif name == "wp:comment":
            continue
        elif name not in fields:
            fields[name] = child.text or ""
    return Item(number=raw.number, raw=raw.text, fields=fields, postmeta=postmeta, terms=terms)
