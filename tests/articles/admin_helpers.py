"""Build the POST an editor's browser sends from the article change form."""

from django.utils import timezone
from taggit.utils import edit_string_for_tags


def split(value):
    if value is None:
        return {"0": "", "1": ""}
    local = timezone.localtime(value)
    return {"0": local.strftime("%Y-%m-%d"), "1": local.strftime("%H:%M:%S")}


def article_form_data(article, **overrides):
    data = {
        "title": article.title,
        "slug": article.slug,
        "dek": article.dek,
        "kind": article.kind,
        "section": article.section_id,
        "tags": edit_string_for_tags(article.tags.all()) if article.pk else "",
        "lead_image": article.lead_image_id or "",
        "lead_image_caption": article.lead_image_caption,
        "body": article.body,
        "status": article.status,
        "seo_title": article.seo_title,
        "seo_description": article.seo_description,
        "expected_version": article.version,
    }
    for name in ("publish_at", "updated_at"):
        for part, value in split(getattr(article, name)).items():
            data[f"{name}_{part}"] = value
    bylines = list(article.bylines.all()) if article.pk else []
    data.update(
        {
            "bylines-TOTAL_FORMS": len(bylines),
            "bylines-INITIAL_FORMS": len(bylines),
            "bylines-MIN_NUM_FORMS": 0,
            "bylines-MAX_NUM_FORMS": 1000,
        }
    )
    for index, byline in enumerate(bylines):
        data[f"bylines-{index}-id"] = byline.pk
        data[f"bylines-{index}-article"] = article.pk
        data[f"bylines-{index}-author"] = byline.author_id
        data[f"bylines-{index}-position"] = byline.position
    if article.pk and article.first_published_at:
        notes = list(article.notes.all())
        data.update(
            {
                "notes-TOTAL_FORMS": len(notes),
                "notes-INITIAL_FORMS": len(notes),
                "notes-MIN_NUM_FORMS": 0,
                "notes-MAX_NUM_FORMS": 1000,
                "old_slugs-TOTAL_FORMS": 0,
                "old_slugs-INITIAL_FORMS": 0,
                "old_slugs-MIN_NUM_FORMS": 0,
                "old_slugs-MAX_NUM_FORMS": 1000,
            }
        )
        for index, note in enumerate(notes):
            data[f"notes-{index}-id"] = note.pk
            data[f"notes-{index}-article"] = article.pk
            data[f"notes-{index}-kind"] = note.kind
            data[f"notes-{index}-text"] = note.text
            for part, value in split(note.created_at).items():
                data[f"notes-{index}-created_at_{part}"] = value
    data.update(overrides)
    return data


def change_url(article):
    return f"/admin/articles/article/{article.pk}/change/"
