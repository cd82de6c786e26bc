"""The part of the schema.org vocabulary the site's JSON-LD uses, to check it against.

Each type lists the properties schema.org defines for it (its own and inherited ones
that we use), transcribed from https://schema.org/<Type>. A node using a property its
type does not have, or a type not listed here, fails the check.
"""

import json
import re

CREATIVE_WORK = {
    "name", "url", "description", "inLanguage", "isPartOf", "publisher", "mainEntity",
    "image", "author", "keywords", "isAccessibleForFree", "correction", "headline",
    "datePublished", "dateModified", "mainEntityOfPage", "about",
}  # fmt: skip
ARTICLE = CREATIVE_WORK | {"articleSection", "articleBody"}
IMAGE_OBJECT = {
    "url", "contentUrl", "width", "height", "caption", "creditText", "copyrightNotice",
    "license", "acquireLicensePage", "creator",
}  # fmt: skip

PROPERTIES = {
    "WebSite": CREATIVE_WORK | {"potentialAction"},
    "SearchAction": {"target", "query-input", "query"},
    "EntryPoint": {"urlTemplate"},
    "Organization": {"name", "url", "logo", "sameAs", "description"},
    "ImageObject": IMAGE_OBJECT,
    "CollectionPage": CREATIVE_WORK,
    "ProfilePage": CREATIVE_WORK,
    "WebPage": CREATIVE_WORK,
    "ItemList": {"numberOfItems", "itemListOrder", "itemListElement", "name"},
    "ListItem": {"position", "url", "name", "item"},
    "BreadcrumbList": {"numberOfItems", "itemListOrder", "itemListElement"},
    "Person": {"name", "url", "jobTitle", "description", "image", "sameAs", "worksFor"},
    "CorrectionComment": {"text", "datePublished", "url"},
    "NewsArticle": ARTICLE,
    "ReportageNewsArticle": ARTICLE,
    "AnalysisNewsArticle": ARTICLE,
    "OpinionNewsArticle": ARTICLE,
}


def blocks(page):
    """Every JSON-LD block of an HTML page, parsed."""
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return [json.loads(block) for block in found]


def problems(node, path="$"):
    """What in `node` (a JSON-LD value) is not schema.org: unknown types or properties."""
    found = []
    if isinstance(node, list):
        for index, item in enumerate(node):
            found += problems(item, f"{path}[{index}]")
    elif isinstance(node, dict):
        kind = node.get("@type")
        if kind is not None:
            allowed = PROPERTIES.get(kind)
            if allowed is None:
                found.append(f"{path}: unknown type {kind}")
            else:
                for name in node:
                    if not name.startswith("@") and name not in allowed:
                        found.append(f"{path}: {kind} has no property {name}")
        for name, value in node.items():
            found += problems(value, f"{path}.{name}")
    return found


def of_type(page, kind):
    """The one block of `kind` on the page, checked against the vocabulary."""
    matching = [block for block in blocks(page) if block.get("@type") == kind]
    assert len(matching) == 1, f"{len(matching)} blocks of type {kind}"
    (block,) = matching
    assert block["@context"] == "https://schema.org"
    assert problems(block) == []
    return block
