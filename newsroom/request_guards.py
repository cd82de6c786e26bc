"""Refuse malformed or oversized requests before any view, form or database sees them.

- A NUL byte in the query string or in form fields: PostgreSQL cannot store or compare
  it (psycopg raises DataError), so every admin search box, autocomplete and list filter
  would answer 500. No legitimate form or link carries one: 400.
- TRACE, TRACK and CONNECT: nothing here answers them (TRACE echoes the request,
  cookies included, to script that can read it): 405.
- A request body larger than settings.REQUEST_MAX_BYTES, refused from its Content-Length
  before a byte of it is read, so a 200 MB upload is never spooled to disk. The
  upload handler below bounds a body that lied about its length.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.template.defaultfilters import filesizeformat

REFUSED_METHODS = {"TRACE", "TRACK", "CONNECT"}
ALLOWED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _carries_nul(text):
    return "\x00" in text or "%00" in text


def _form_carries_nul(querydict):
    return any("\x00" in key or any("\x00" in value for value in querydict.getlist(key))
               for key in querydict)  # fmt: skip


def _refused(status, message):
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in REFUSED_METHODS:
            response = HttpResponseNotAllowed(ALLOWED_METHODS)
            response["Cache-Control"] = "no-store"
            return response
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refused(400, "Bad Content-Length.\n")
        if length > settings.REQUEST_MAX_BYTES:
            return _refused(
                413,
                f"This upload is {filesizeformat(length)}; an image may be at most "
                f"{filesizeformat(settings.IMAGE_UPLOAD_MAX_BYTES)}. "
                "Go back and choose a smaller file.\n",
            )
        if _carries_nul(request.META.get("QUERY_STRING", "")):
            return HttpResponseBadRequest("A NUL byte is not allowed in a URL.\n")
        if (
            request.method == "POST"
            and request.content_type in FORM_CONTENT_TYPES
            and _form_carries_nul(request.POST)
        ):
            return HttpResponseBadRequest("A NUL byte is not allowed in a form.\n")
        return self.get_response(request)


class BoundedUploadHandler(FileUploadHandler):
    """Stop reading an upload once the request has passed settings.REQUEST_MAX_BYTES.

    Content-Length is checked first by the middleware; this catches a body longer than
    it claimed, before the next handler writes it to memory or disk.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.REQUEST_MAX_BYTES:
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None
