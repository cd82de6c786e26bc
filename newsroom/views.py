"""Site-wide pages: errors and media files."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

from newsroom.context_processors import html_lang


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # The 500 page renders from a template with no database access and no context
    # processors, because the database may be what failed.
    template = loader.get_template("500.html")
    return HttpResponseServerError(
        template.render({"site_name": settings.SITE_NAME, "html_lang": html_lang()})
    )


def debug_server_error(request):
    return server_error(request)


@require_safe
def serve_media(request, path):
    """Serve uploaded media with a fixed content type and nosniff.

    In production a proxy or object store may serve MEDIA_ROOT instead; this keeps a
    single-process install complete and safe (a file is never served as HTML).
    """
    try:
        full_path = Path(safe_join(settings.MEDIA_ROOT, path))
    except Exception:
        raise Http404 from None
    if not full_path.is_file():
        raise Http404
    content_type, _ = mimetypes.guess_type(full_path.name)
    if content_type not in ALLOWED_MEDIA_TYPES:
        raise Http404
    response = FileResponse(full_path.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


ALLOWED_MEDIA_TYPES = {"image/jpeg", "image/png", "image/webp", "image/avif", "image/gif"}
