"""Building the emails: templates rendered once, CSS inlined, absolute links everywhere."""

import datetime
from urllib.parse import urljoin

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from newsletter.bounces.returnpath import confirmation_return_path
from newsletter.tokens import make_confirm_token

EMAIL_IMAGE_WIDTH = 560  # the 600 px layout less its padding
THUMBNAIL_WIDTH = 96  # the compact stories' small picture (a rendition twice as wide)

_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def absolute_url(path):
    return urljoin(settings.SITE_URL.rstrip("/") + "/", path.lstrip("/"))


def render_pair(name, context):
    """The plain-text and HTML bodies of emails/<name>.txt|.html, CSS inlined in the HTML."""
    context = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "site_address": settings.SITE_ADDRESS,
        **context,
    }
    text = render_to_string(f"emails/{name}.txt", context).strip() + "\n"
    html = _inliner.inline(render_to_string(f"emails/{name}.html", context))
    return text, html


def confirmation_email(subscriber):
    url = absolute_url(
        reverse("newsletter:confirm", kwargs={"token": make_confirm_token(subscriber)})
    )
    text, html = render_pair(
        "newsletter_confirm",
        {"confirm_url": url, "days": settings.NEWSLETTER_CONFIRM_DAYS},
    )
    # With BOUNCE_DOMAIN set, the envelope sender names the subscriber (a bounce marks a
    # mistyped address); the From header stays DEFAULT_FROM_EMAIL.
    return_path = confirmation_return_path(subscriber.pk)
    message = EmailMultiAlternatives(
        f"Confirm your subscription to {settings.SITE_NAME}",
        text,
        return_path or settings.DEFAULT_FROM_EMAIL,
        [subscriber.email],
        headers={"Auto-Submitted": "auto-generated", "From": settings.DEFAULT_FROM_EMAIL},
    )
    message.attach_alternative(html, "text/html")
    return message


def email_image(image, *, width=EMAIL_IMAGE_WIDTH):
    """An article image for email: a JPEG rendition about `width` px wide (twice that for
    a thumbnail, for sharp phone screens), absolute URL, sized."""
    if image is None or image.is_expired:
        return None
    wanted = width if width >= EMAIL_IMAGE_WIDTH else 2 * width
    jpegs = sorted((r for r in image.renditions.all() if r.format == "jpeg"), key=lambda r: r.width)
    chosen = next((r for r in jpegs if r.width >= wanted), jpegs[-1] if jpegs else None)
    source, source_width, source_height = (
        (chosen.file, chosen.width, chosen.height)
        if chosen
        else (image.file, image.width, image.height)
    )
    if not source_width or not source_height:
        return None
    shown_width = min(width, source_width)
    return {
        "url": absolute_url(source.url),
        "width": shown_width,
        "height": round(source_height * shown_width / source_width),
        "alt": image.alt_text,
        "credit": image.credit_line,
    }


def roundup_context(issue, *, unsubscribe_url):
    """The lead story (the editor's first) large, the others compact with a thumbnail."""
    articles = issue.ordered_articles()
    items = [
        {
            "article": article,
            "url": absolute_url(article.get_absolute_url()),
            "image": email_image(
                article.lead_image, width=EMAIL_IMAGE_WIDTH if index == 0 else THUMBNAIL_WIDTH
            ),
            "authors": ", ".join(a.name for a in article.ordered_authors),
        }
        for index, article in enumerate(articles)
    ]
    intro_paragraphs = [p.strip() for p in issue.intro.split("\n\n") if p.strip()]
    return {
        "issue": issue,
        "subject": issue.subject,
        "intro_paragraphs": intro_paragraphs,
        # The preview line mail clients show after the subject.
        "preheader": " ".join(
            (intro_paragraphs or [items[0]["article"].title if items else ""])[0].split()
        )[:140],
        "lead": items[0] if items else None,
        "items": items[1:],
        "unsubscribe_url": unsubscribe_url,
        "newsletter_url": absolute_url(reverse("newsletter:signup")),
        "year": datetime.date.today().year,
    }


def render_roundup(issue, *, unsubscribe_url):
    return render_pair(
        "newsletter_roundup", roundup_context(issue, unsubscribe_url=unsubscribe_url)
    )
