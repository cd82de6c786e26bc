"""The reference page: what the app server and middleware cost with no work in the view.

It answers a constant body: the article page's own HTML saved by bench/pages.py in the
file named by BENCH_REFERENCE_FILE (so the bytes, and the cost of gzip, are those of the
article page), or else BENCH_REFERENCE_BYTES of filler HTML.
"""

import os
from functools import cache

from django.http import HttpResponse


@cache
def reference_body():
    path = os.environ.get("BENCH_REFERENCE_FILE", "")
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    size = int(os.environ.get("BENCH_REFERENCE_BYTES", "40000"))
    line = b"<p>The quick brown fox jumps over the lazy dog, again and again.</p>\n"
    return (b"<!doctype html>\n" + line * (size // len(line) + 1))[:size]


def reference(request):
    return HttpResponse(reference_body(), content_type="text/html; charset=utf-8")
