"""WordPress post content -> the newsroom's body HTML (before the site's own sanitiser).

The order follows WordPress's `the_content` filters: blocks, then wpautop (classic
posts only), shortcode_unautop, then shortcodes. Then images: every picture becomes a
library figure `<figure data-image-id>` or goes, reported; nothing points at the old
site's files any more. Embeds become plain links (no third-party scripts). The result
is handed to `articles.richtext.sanitize_html`, the sanitiser every save uses.
"""

import html
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from django.utils.html import escape, strip_tags

from wordpress.autop import shortcode_unautop, wpautop

BLOCK_COMMENT_RE = re.compile(r"<!--\s*/?wp:.*?-->", re.S)
REUSABLE_BLOCK_RE = re.compile(r'<!--\s*wp:block\s+\{[^}]*"ref"\s*:\s*(\d+)', re.S)
# WordPress's shortcode grammar: [name attrs], [name attrs /], [name attrs]…[/name], [[escaped]].
SHORTCODE_RE = re.compile(
    r"\[(\[?)([A-Za-z][\w-]*)(?![\w-])([^\]\/]*(?:\/(?!\])[^\]\/]*)*?)(?:(\/)\]|\](?:((?:[^\[]*+(?:\[(?!\/\2\])[^\[]*+)*+))\[\/\2\])?)(\]?)",
    re.S,
)
ATTRIBUTE_RE = re.compile(
    r"""([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*'([^']*)'(?:\s|$)|([\w-]+)\s*=\s*([^\s'"]+)(?:\s|$)|"([^"]*)"(?:\s|$)|'([^']*)'(?:\s|$)|(\S+)(?:\s|$)"""
)
IMG_RE = re.compile(r"<img\b[^>]*>", re.I)
TAG_ATTRIBUTE_RE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
WP_IMAGE_CLASS_RE = re.compile(r"\bwp-image-(\d+)\b")
SIZE_SUFFIX_RE = re.compile(r"-\d+x\d+(?=\.\w+$)")
INNER_FIGURE_RE = re.compile(r"<figure\b([^>]*)>((?:(?!<figure\b).)*?)</figure>", re.S | re.I)
FIGCAPTION_RE = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption>", re.S | re.I)
IFRAME_RE = re.compile(r"<iframe\b([^>]*)>.*?</iframe>|<iframe\b([^>]*)/?>", re.S | re.I)
EMBED_WRAPPER_RE = re.compile(
    r'<div class="wp-block-embed__wrapper">\s*(.*?)\s*</div>', re.S | re.I
)
BARE_URL_PARAGRAPH_RE = re.compile(r"<p>\s*(https?://[^\s<>\"]+)\s*</p>")
BARE_URL_LINE_RE = re.compile(r"^[ \t]*(https?://[^\s<>\"]+)[ \t]*$", re.M)
LINK_AROUND_TOKEN_RE = re.compile(r"<a\b[^>]*>\s*(\x00FIG\d+\x00)\s*</a>", re.I)
PARAGRAPH_RE = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S | re.I)
EMPTY_PARAGRAPH_RE = re.compile(r"<p>(?:\s|&nbsp;|<br\s*/?>)*</p>\n?", re.I)
SCRIPT_STYLE_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>\n?", re.S | re.I)
TOKEN_RE = re.compile(r"\x00FIG(\d+)\x00")
HREF_RE = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.I | re.S)

EMBED_SHORTCODES = {"embed", "youtube", "vimeo", "video", "audio", "tweet", "instagram",
                    "soundcloud", "spotify", "dailymotion", "facebook", "twitter", "playlist"}  # fmt: skip
KNOWN_SHORTCODES = {"caption", "wp_caption", "gallery"} | EMBED_SHORTCODES
PROVIDERS = (
    (("youtube.com", "youtu.be", "youtube-nocookie.com"), "Watch on YouTube"),
    (("vimeo.com",), "Watch on Vimeo"),
    (("twitter.com", "x.com"), "View the post on X"),
    (("instagram.com", "instagr.am"), "View on Instagram"),
    (("facebook.com", "fb.watch"), "View on Facebook"),
    (("tiktok.com",), "Watch on TikTok"),
    (("soundcloud.com",), "Listen on SoundCloud"),
    (("spotify.com",), "Listen on Spotify"),
    (("dailymotion.com", "dai.ly"), "Watch on Dailymotion"),
    (("bsky.app",), "View the post on Bluesky"),
    (("threads.net",), "View the post on Threads"),
    (("reddit.com",), "View on Reddit"),
    (("flickr.com", "flic.kr"), "View on Flickr"),
    (("google.com/maps", "maps.google."), "View the map"),
    (("datawrapper.dwcdn.net",), "View the chart"),
)

# A trailing credit in a caption: "… Photo: Jane Doe/Reuters", "(Credit: AP)",
# "… Jane Doe / AFP", "(AP Photo/Evan Vucci)", "… via Getty Images".
CREDIT_LABEL_RE = re.compile(
    r"[\s(\[,;|\u2013\u2014-]*\b(?:photo(?:graph)?s?(?:\s+credit)?|pictures?|images?|credits?|foto"
    r"|source)\s*(?::|\uff1a|\bby\b)\s*(?P<credit>[^()\[\]]{1,100}?)[\s)\].]*$",
    re.I,
)
CREDIT_VIA_RE = re.compile(
    r"(?:^|[\s(\[,;|\u2013\u2014-]+)via\s+(?P<credit>[^()\[\].,;]{1,60}?)[\s)\].]*$", re.I
)
LAST_SENTENCE_RE = re.compile(r"(?<=[.!?…”\"])\s+|\s+[|\u2013\u2014]\s+")
MAX_CREDIT_WORDS = 10


def _looks_like_credit(plain):
    """ "Jane Doe/Reuters", "AP Photo/Evan Vucci": capitalised names around a slash."""
    if "/" not in plain or "://" in plain or re.search(r"\d\s*/\s*\d", plain):
        return False
    words = [word for word in re.split(r"[\s/]+", plain) if word]
    names = [word for word in words if word[:1].isupper()]
    return 0 < len(words) <= MAX_CREDIT_WORDS and len(names) * 2 > len(words)


def split_credit(text):
    """(caption, credit, source) from a caption whose end may name the photographer.

    Works on the caption's HTML; the credit comes back as plain text.
    """
    text = " ".join((text or "").split())
    if not strip_tags(text).strip():
        return "", "", ""
    source = ""
    if found := CREDIT_VIA_RE.search(text):
        source = "via " + " ".join(strip_tags(found.group("credit")).split())
        text = text[: found.start()]
    credit = ""
    if found := CREDIT_LABEL_RE.search(text):
        words = strip_tags(found.group("credit")).split()
        if 0 < len(words) <= MAX_CREDIT_WORDS:
            credit = " ".join(words)
            text = text[: found.start()]
    if not credit and "/" in strip_tags(text):
        pieces = LAST_SENTENCE_RE.split(text)
        last = pieces[-1].strip(" ()[]")
        plain = strip_tags(last)
        if len(pieces) > 1 and _looks_like_credit(plain):
            credit = plain.rstrip(".")
            text = text[: len(text) - len(pieces[-1])]
        elif " / " in plain:
            # "The square at noon / AFP": the agency after a spaced slash.
            before, _, after = last.rpartition(" / ")
            after = strip_tags(after).strip(" .")
            words = after.split()
            if (
                strip_tags(before).strip()
                and 0 < len(words) <= 4
                and all(word[:1].isupper() for word in words)
            ):
                credit, text = after, before
        elif len(plain.split()) <= 6 and _looks_like_credit(plain):
            credit, text = plain.rstrip("."), ""
    text = re.sub(r"[\s,;|\u2013\u2014(\[-]+$", "", text.strip())
    if source and not credit:
        credit, source = source, ""
    return text.strip(), credit.strip(), source


def tag_attributes(tag):
    attributes = {}
    for name, double, single, bare in TAG_ATTRIBUTE_RE.findall(tag):
        attributes.setdefault(name.lower(), html.unescape(double or single or bare))
    return attributes


def shortcode_attributes(text):
    attributes, positional = {}, []
    for match in ATTRIBUTE_RE.finditer(html.unescape(text or "").replace("\u00a0", " ")):
        if match.group(1):
            attributes[match.group(1).lower()] = match.group(2)
        elif match.group(3):
            attributes[match.group(3).lower()] = match.group(4)
        elif match.group(5):
            attributes[match.group(5).lower()] = match.group(6)
        else:
            positional.append(match.group(7) or match.group(8) or match.group(9) or "")
    return attributes, positional


def uploads_path(url):
    """The path of a file under wp-content/uploads: "2019/03/photo.jpg", or ""."""
    path = unquote(urlsplit(url.strip()).path)
    marker = "/uploads/"
    at = path.find(marker)
    if at == -1:
        return ""
    return path[at + len(marker) :]


def original_of(path):
    """The original a resized copy comes from: photo-1024x768.jpg -> photo.jpg."""
    return SIZE_SUFFIX_RE.sub("", path)


def embed_link(url):
    """A plain link for an embed: it works without the provider's script."""
    url = html.unescape(url.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc.lower()
    if "youtube" in host and parts.path.startswith("/embed/"):
        url = "https://www.youtube.com/watch?v=" + parts.path.split("/")[2]
    elif host == "player.vimeo.com" and parts.path.startswith("/video/"):
        url = "https://vimeo.com/" + parts.path.split("/")[2]
    label = next(
        (text for hosts, text in PROVIDERS if any(h in host + parts.path for h in hosts)),
        "",
    )
    label = f"{label}: {url}" if label else url
    return f'<p><a href="{escape(url)}">{escape(label)}</a></p>'


@dataclass
class Placed:
    """An image found in the library for a picture of the post."""

    image_id: int
    alt: str
    url: str


@dataclass
class Conversion:
    """The converted body and what was noticed on the way."""

    html: str = ""
    unknown_shortcodes: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # (kind, detail)
    image_ids: list = field(default_factory=list)
    credits: dict = field(default_factory=dict)  # image id -> (credit, source) from captions


class BodyConverter:
    """Converts one post's content. `find_image(attachment_id, url)` returns a Placed or None.

    `gallery_ids(post_id)` lists the attachments of a post, for `[gallery]` without ids.
    `site_hosts` are the old site's host names: links to its posts become paths, which
    the legacy redirects answer.
    """

    def __init__(self, *, find_image, gallery_ids, site_hosts):
        self.find_image = find_image
        self.gallery_ids = gallery_ids
        self.site_hosts = {host.lower() for host in site_hosts if host}

    def convert(self, content, *, post_id=""):
        result = Conversion()
        self.result = result
        self.figures = []
        self.post_id = post_id
        text = content or ""
        is_block = "<!-- wp:" in text
        for ref in REUSABLE_BLOCK_RE.findall(text):
            result.problems.append(("reusable block", f"block {ref} is not imported"))
        text = BLOCK_COMMENT_RE.sub("", text)
        text = SCRIPT_STYLE_RE.sub("", text)
        if is_block:
            text = re.sub(r"\n\s*\n+", "\n", text)
        else:
            text = BARE_URL_LINE_RE.sub(lambda m: self._bare_url(m.group(1)), text)
            text = wpautop(text)
            text = shortcode_unautop(text, sorted(KNOWN_SHORTCODES))
        text = SHORTCODE_RE.sub(self._shortcode, text)
        text = IFRAME_RE.sub(self._iframe, text)
        text = BARE_URL_PARAGRAPH_RE.sub(lambda m: self._bare_url(m.group(1)), text)
        text = self._figures(text)
        text = IMG_RE.sub(lambda m: self._image(m.group(0), caption=""), text)
        text = LINK_AROUND_TOKEN_RE.sub(r"\1", text)
        text = self._lift_figures(text)
        text = HREF_RE.sub(self._link, text)
        result.html = EMPTY_PARAGRAPH_RE.sub("", text).strip()
        return result

    # Shortcodes ---------------------------------------------------------------------
    def _shortcode(self, match):
        if match.group(1) == "[" and match.group(6) == "]":
            return match.group(0)[1:-1]  # [[escaped]] is shown as [escaped]
        name = match.group(2).lower()
        attributes, positional = shortcode_attributes(match.group(3))
        inner = match.group(5) or ""
        if name in ("caption", "wp_caption"):
            return self._caption(attributes, inner)
        if name == "gallery":
            return self._gallery(attributes)
        if name in EMBED_SHORTCODES:
            url = (
                inner.strip()
                or attributes.get("url")
                or attributes.get("src")
                or attributes.get("mp4")
                or attributes.get("mp3")
                or attributes.get("id", "")
                or (positional[0] if positional else "")
            )
            url = strip_tags(url).strip().lstrip("=")
            if name in ("youtube", "vimeo") and url and not url.startswith("http"):
                url = (
                    f"https://www.youtube.com/watch?v={url}"
                    if name == "youtube"
                    else f"https://vimeo.com/{url}"
                )
            link = embed_link(url) if url else ""
            if not link:
                self.result.problems.append(("embed dropped", match.group(0)[:200]))
            return link
        self.result.unknown_shortcodes[name] = self.result.unknown_shortcodes.get(name, 0) + 1
        if match.group(5) is None:
            return match.group(0)
        # Kept as text, but what it wraps is converted like the rest of the post.
        opening = match.group(0)[: match.start(5) - match.start(0)]
        return opening + SHORTCODE_RE.sub(self._shortcode, inner) + f"[/{match.group(2)}]"

    def _caption(self, attributes, inner):
        images = IMG_RE.findall(inner)
        caption_html = attributes.get("caption", "")
        if not caption_html:
            rest = inner
            for tag in images:
                rest = rest.replace(tag, "", 1)
            caption_html = re.sub(r"</?a\b[^>]*>", "", rest) if images else rest
        if not images:
            return f"<p>{caption_html}</p>" if strip_tags(caption_html).strip() else ""
        attachment = re.sub(r"\D", "", attributes.get("id", ""))
        # One picture per caption, as WordPress shows it.
        return self._image(images[0], caption=caption_html, attachment=attachment)

    def _gallery(self, attributes):
        ids = [part for part in re.split(r"[\s,]+", attributes.get("ids", "")) if part.isdigit()]
        if not ids and attributes.get("include"):
            ids = [p for p in re.split(r"[\s,]+", attributes["include"]) if p.isdigit()]
        if not ids:
            ids = list(self.gallery_ids(self.post_id))
        return "".join(self._placed_figure(wp_id, url="", alt="", caption="") for wp_id in ids)

    def _iframe(self, match):
        attributes = tag_attributes(match.group(1) or match.group(2) or "")
        link = embed_link(attributes.get("src", ""))
        if not link:
            self.result.problems.append(("embed dropped", match.group(0)[:200]))
        return link

    def _bare_url(self, url):
        return embed_link(url) or url

    # Figures and images -------------------------------------------------------------
    def _figures(self, text):
        """Innermost figures first; a gallery's figures are flattened into the body."""
        while True:
            replaced = INNER_FIGURE_RE.sub(self._figure, text)
            if replaced == text:
                return replaced
            text = replaced

    def _figure(self, match):
        attributes, inner = match.group(1), match.group(2)
        caption_match = FIGCAPTION_RE.search(inner)
        caption = caption_match.group(1) if caption_match else ""
        if caption_match:
            inner = inner.replace(caption_match.group(0), "")
        if "wp-block-embed" in attributes:
            wrapper = EMBED_WRAPPER_RE.search(inner)
            url = strip_tags(wrapper.group(1)).strip() if wrapper else ""
            link = embed_link(url) if url else ""
            if not link and not TOKEN_RE.search(inner):
                self.result.problems.append(("embed dropped", url[:200]))
            body = link or inner
            return body + (f"<p>{caption}</p>" if strip_tags(caption).strip() else "")
        images = IMG_RE.findall(inner)
        if images:
            out = [
                self._image(tag, caption=caption if i == 0 else "") for i, tag in enumerate(images)
            ]
            return "".join(out)
        # A figure without a picture (a table, a pull quote, a flattened gallery).
        kept = inner.strip()
        if strip_tags(caption).strip():
            kept += f"<p>{caption}</p>"
        return kept

    def _image(self, tag, *, caption, attachment=""):
        attributes = tag_attributes(tag)
        src = attributes.get("src", "")
        wp_id = attachment
        if not wp_id and (found := WP_IMAGE_CLASS_RE.search(attributes.get("class", ""))):
            wp_id = found.group(1)
        if not wp_id:
            wp_id = attributes.get("data-id", "") if attributes.get("data-id", "").isdigit() else ""
        return self._placed_figure(wp_id, url=src, alt=attributes.get("alt", ""), caption=caption)

    def _placed_figure(self, wp_id, *, url, alt, caption):
        placed = self.find_image(wp_id, url)
        if placed is None:
            self.result.problems.append(
                ("image dropped", f"attachment {wp_id or '?'} {url}".strip()[:300])
            )
            return ""
        caption_text, credit, source = split_credit(caption)
        if credit and placed.image_id not in self.result.credits:
            self.result.credits[placed.image_id] = (credit, source)
        if placed.image_id not in self.result.image_ids:
            self.result.image_ids.append(placed.image_id)
        figcaption = f"<figcaption>{caption_text}</figcaption>" if caption_text else ""
        alt = escape(alt.strip() or placed.alt)
        self.figures.append(
            f'<figure data-image-id="{placed.image_id}"><img src="{escape(placed.url)}" '
            f'alt="{alt}" data-image-id="{placed.image_id}">{figcaption}</figure>'
        )
        return f"\x00FIG{len(self.figures) - 1}\x00"

    def _lift_figures(self, text):
        """Figures may not sit inside a paragraph: split the paragraph around them."""

        def split_paragraph(match):
            inner = match.group(1)
            if not TOKEN_RE.search(inner):
                return match.group(0)
            pieces = TOKEN_RE.split(inner)
            out = []
            for index, piece in enumerate(pieces):
                if index % 2:
                    out.append(self.figures[int(piece)])
                    continue
                cleaned = re.sub(r"^(?:\s|<br\s*/?>)+|(?:\s|<br\s*/?>)+$", "", piece)
                if strip_tags(cleaned).strip(" \n\t\u00a0"):
                    out.append(f"<p>{cleaned}</p>")
            return "".join(out)

        text = PARAGRAPH_RE.sub(split_paragraph, text)
        return TOKEN_RE.sub(lambda m: self.figures[int(m.group(1))], text)

    def _link(self, match):
        href = html.unescape(match.group(3)).strip()
        parts = urlsplit(href)
        if parts.netloc.lower() in self.site_hosts and parts.scheme in ("http", "https", ""):
            if "/wp-content/uploads/" in parts.path:
                self.result.problems.append(("link to an old file", href[:300]))
                return match.group(0)
            query = parts.query
            if query and not (set(parse_qs(query)) & {"p", "page_id", "attachment_id"}):
                query = ""
            local = (parts.path or "/") + (f"?{query}" if query else "")
            local += f"#{parts.fragment}" if parts.fragment else ""
            return f"{match.group(1)}{match.group(2)}{escape(local)}{match.group(2)}"
        return match.group(0)
