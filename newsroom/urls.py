from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from newsroom import health, views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # The second factor lives inside the admin's path (before the admin's catch-all).
    path(f"{settings.ADMIN_PATH}two-factor/", include("accounts.urls")),
    path(f"{settings.ADMIN_PATH}two-factor/passkeys/", include("django_otp_webauthn.urls")),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("newsletter/", include("newsletter.urls")),
    re_path(r"^media/(?P<path>.*)$", views.serve_media, name="media"),
    path("", include("articles.urls")),
]

handler404 = "newsroom.views.page_not_found"
# A database outage met outside a view still gets the friendly 503 page.
handler500 = "newsroom.middleware.server_error"

if settings.DEBUG:
    urlpatterns.insert(0, path("__debug__/500/", views.debug_server_error))
