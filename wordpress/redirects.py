"""Finding where an old WordPress address leads now."""

from urllib.parse import unquote

from wordpress.content import original_of
from wordpress.models import ImportedItem, LegacyURL, legacy_path

#: WordPress's query-string addresses: /?p=ID, /?page_id=ID, /?attachment_id=ID.
QUERY_KINDS = {
    "p": (ImportedItem.Kind.POST, ImportedItem.Kind.ATTACHMENT),
    "page_id": (ImportedItem.Kind.POST,),
    "attachment_id": (ImportedItem.Kind.ATTACHMENT,),
}


def legacy_query(query_dict):
    """(kinds, id) when the query string is a WordPress one, else None."""
    for key, kinds in QUERY_KINDS.items():
        value = query_dict.get(key, "").strip()
        if value:
            return (kinds, value) if value.isdigit() and len(value) <= 20 else (kinds, None)
    return None


def target_for_id(kinds, wp_id):
    """One indexed query: the object with that WordPress ID, if it leads anywhere."""
    if wp_id is None:
        return None
    found = (
        ImportedItem.objects.filter(wp_id=str(int(wp_id)), kind__in=kinds)
        .select_related("article", "image")
        .order_by("kind", "pk")  # a post before an attachment with the same ID
        .first()
    )
    return found.target_url() if found else None


def candidate_paths(path):
    """The stored forms an old path may match, best first."""
    exact = legacy_path(path)
    candidates = [exact]
    if "/uploads/" in exact:
        candidates.append(legacy_path(original_of(exact.rstrip("/"))))
    segments = [segment for segment in exact.split("/") if segment]
    if len(segments) > 1:
        # /2019/03/04/slug/, /category/news/slug/, /any/prefix/slug/: the slug decides,
        # as WordPress itself guesses a mistyped permalink.
        candidates.append(f"/{segments[-1]}/")
    return list(dict.fromkeys(candidates))


def target_for_path(path):
    """One indexed query on LegacyURL.path."""
    candidates = candidate_paths(unquote(path))
    rows = {
        row.path: row
        for row in LegacyURL.objects.filter(path__in=candidates).select_related(
            "item__article", "item__image"
        )
    }
    for candidate in candidates:
        if candidate in rows:
            return rows[candidate].item.target_url(file="/uploads/" in candidate)
    return None
