"""Newsroom settings: one file, read from the environment.

Every variable is optional. The defaults give a developer's machine: SQLite under var/,
local-memory cache, a file outbox, DEBUG on. Production sets SITE_URL to an https://
address (which also turns DEBUG off unless told otherwise), SECRET_KEY and DATABASE_URL.
See README.md, "Running in production".
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.utils.csp import CSP

from newsroom import env
from newsroom.security import read_admin_path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
ENV = os.environ

SITE_URL = env.read_site_url(ENV)
SITE_NAME = ENV.get("SITE_NAME", "The Newsroom")
SITE_ADDRESS = ENV.get("SITE_ADDRESS", "The Newsroom, 1 Press Lane, London EC1A 1AA")
# The publisher in structured data and share cards (README, "Sharing, feeds and crawlers").
ORGANIZATION_NAME = ENV.get("ORGANIZATION_NAME", "").strip() or SITE_NAME
ORGANIZATION_LOGO_URL = ENV.get("ORGANIZATION_LOGO_URL", "").strip()
ORGANIZATION_SAME_AS = env.read_list(ENV, "ORGANIZATION_SAME_AS", default=[])
SHARE_IMAGE_URL = ENV.get("SHARE_IMAGE_URL", "").strip()
IS_HTTPS = SITE_URL.startswith("https://")
SITE_HOST = urlsplit(SITE_URL).hostname

# An https:// site is a production site: DEBUG stays off there unless asked for.
DEBUG = env.read_bool(ENV, "DEBUG", default=not IS_HTTPS)
SECRET_KEY = env.read_secret_key(ENV, debug=DEBUG)

ALLOWED_HOSTS = env.read_list(
    ENV,
    "ALLOWED_HOSTS",
    default=[SITE_HOST, "localhost", "127.0.0.1", "[::1]"] if DEBUG else [SITE_HOST],
)
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    # Before django_tasks_db: newsroom's db_worker (outage-proof, self-healing) wins.
    "newsroom",
    "django_tasks_db",
    "django_prose_editor",
    "taggit",
    "reversion",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "accounts",
    "articles",
    "newsletter",
    "wordpress",
    "desk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "newsroom.request_guards.RequestGuardMiddleware",
    "newsroom.middleware.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Old WordPress addresses (/?p=ID, old permalinks): answered above the page cache.
    "wordpress.middleware.LegacyRedirectMiddleware",
    # Above everything a cached page does not need (sessions, CSRF, auth, gzip).
    "newsroom.pagecache.middleware.PageCacheMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "newsroom.middleware.StaffIdleTimeoutMiddleware",
    "accounts.middleware.AdminSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "newsroom.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"
WSGI_APPLICATION = "newsroom.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "newsroom.context_processors.site",
            ],
        },
    },
]

DATABASES = {"default": env.read_database(ENV, base_dir=BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.read_cache(ENV)}
CACHE_PAGE_SECONDS = env.read_int(ENV, "CACHE_PAGE_SECONDS", 300)
# The page cache (newsroom/pagecache, README "How pages stay fast"): each worker keeps its
# most recently served pages in memory too, up to this many bytes; a purge makes a page
# stale only when its render began this long after it, for hosts' clocks that differ.
PAGE_CACHE_CLOCK_SKEW_SECONDS = 0.1
# How long a worker trusts its last read of "was anything purged?" before asking again:
# another worker's purge reaches this worker's hot pages at most this much later.
PAGE_CACHE_CHECK_SECONDS = 0.1
PAGE_CACHE_LOCAL_BYTES = env.read_int(ENV, "PAGE_CACHE_LOCAL_BYTES", 32 * 1024 * 1024)

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "email"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The admin door: see newsroom/security.py and README, "Security and reliability".
ADMIN_PATH = read_admin_path(ENV)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# A rejected or missing ?next= on the admin's login lands on the desk, not on Django's
# default /accounts/profile/ (which does not exist here).
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
# Failed sign-ins lock one account from one address (the pair, never either alone: an
# attacker cannot lock an editor out from elsewhere) for a cool-off time. Failures for
# one account from every address slow its sign-ins down instead (LOGIN_THROTTLE_*,
# newsroom/login_throttle.py), and a one-time code gets through that.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.read_int(ENV, "LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.read_int(ENV, "LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "newsroom.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "newsroom.security.client_ip"
AXES_VERBOSE = False
LOGIN_THROTTLE_AFTER = env.read_int(ENV, "LOGIN_THROTTLE_AFTER", 10)
LOGIN_THROTTLE_MAX_SECONDS = env.read_int(ENV, "LOGIN_THROTTLE_MAX_SECONDS", 300)
# The second factor (accounts/): passkeys and authenticator-app codes, with recovery codes.
# Required of editors, newsletter editors and superusers when on; anyone may opt in.
ADMIN_REQUIRE_2FA = env.read_bool(ENV, "ADMIN_REQUIRE_2FA", default=IS_HTTPS)
OTP_TOTP_ISSUER = SITE_NAME
OTP_WEBAUTHN_RP_NAME = SITE_NAME
# Passkeys belong to SITE_URL's host and work only from its origin (accounts/passkeys.py).
OTP_WEBAUTHN_RP_ID = SITE_HOST
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"{urlsplit(SITE_URL).scheme}://{urlsplit(SITE_URL).netloc}"]
# Browsers use passkeys on http://localhost too (a machine of one's own, the browser tests).
SILENCED_SYSTEM_CHECKS = [] if IS_HTTPS else ["otp_webauthn.E031"]
OTP_WEBAUTHN_HELPER_CLASS = "accounts.passkeys.PasskeyHelper"
# A passkey is a second factor here, after the password, not a way around it.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# Behind the TLS proxy the client address is the last X-Forwarded-For entry.
TRUSTED_PROXY_COUNT = env.read_int(ENV, "TRUSTED_PROXY_COUNT", 1 if IS_HTTPS else 0)
STAFF_SESSION_IDLE_SECONDS = env.read_int(ENV, "STAFF_SESSION_IDLE_SECONDS", 2 * 60 * 60)
# While the database is down: how long a reader is told to wait, and how long the
# last good copy of each cached page is kept to be served instead.
DATABASE_RETRY_AFTER_SECONDS = 30
STALE_PAGE_SECONDS = env.read_int(ENV, "STALE_PAGE_SECONDS", 24 * 60 * 60)
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# Passkeys: the site's own pages may create and use them (the admin's two-factor pages).
PERMISSIONS_POLICY |= {
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
}

# One language drives <html lang>, og:locale, the feeds' language and the news sitemap.
LANGUAGE_CODE = env.read_language_code(ENV, default="en-gb")
# The newsroom's zone: the admin shows and reads times in it (with its abbreviation, from
# newsroom/formats), the public pages show them in it; the database keeps UTC.
TIME_ZONE = env.read_time_zone(ENV)
FORMAT_MODULE_PATH = ["newsroom.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(ENV.get("STATIC_ROOT", "").strip() or VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(ENV.get("MEDIA_ROOT", "").strip() or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 3600
# Uploads larger than this are refused before Pillow ever reads them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMAGE_UPLOAD_MAX_BYTES = env.read_int(ENV, "IMAGE_UPLOAD_MAX_BYTES", 25 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.read_int(ENV, "IMAGE_MAX_PIXELS", 60_000_000)
# Any request body over this is refused from its Content-Length, before it is read
# (newsroom/request_guards.py): the largest image plus room for the rest of its form.
REQUEST_MAX_BYTES = env.read_int(ENV, "REQUEST_MAX_BYTES", IMAGE_UPLOAD_MAX_BYTES + 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "newsroom.request_guards.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Email: SMTP when EMAIL_HOST is set, otherwise every message lands in var/outbox.
_email_host = ENV.get("EMAIL_HOST", "").strip()
if _email_host:
    MAILERS = {
        "default": {
            # Django's SMTP backend, plus SMTPUTF8 for addresses like zoë@example.com.
            "BACKEND": "newsroom.mail.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env.read_int(ENV, "EMAIL_PORT", 25),
                "username": ENV.get("EMAIL_HOST_USER", ""),
                "password": ENV.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env.read_bool(ENV, "EMAIL_USE_TLS", False),
                "timeout": 30,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": VAR_DIR / "outbox"},
        }
    }
DEFAULT_FROM_EMAIL = ENV.get("DEFAULT_FROM_EMAIL", f"{SITE_NAME} <newsletter@{SITE_HOST}>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Newsletter (README, "Newsletter"). Limits are per worker unless REDIS_URL shares the cache.
NEWSLETTER_CONFIRM_DAYS = env.read_int(ENV, "NEWSLETTER_CONFIRM_DAYS", 7)
NEWSLETTER_PURGE_PENDING_DAYS = env.read_int(ENV, "NEWSLETTER_PURGE_PENDING_DAYS", 30)
NEWSLETTER_DRAFT_AT = ENV.get("NEWSLETTER_DRAFT_AT", "friday 08:00")
NEWSLETTER_MAX_PER_SECOND = env.read_int(ENV, "NEWSLETTER_MAX_PER_SECOND", 100)
NEWSLETTER_WORKERS = env.read_int(ENV, "NEWSLETTER_WORKERS", 2)
NEWSLETTER_BATCH_SIZE = 100
# Sending's lease on a batch, renewed every third of it (newsletter/sending/__init__.py):
# a dead worker's rows go to another worker within this long.
NEWSLETTER_CLAIM_SECONDS = env.read_int(ENV, "NEWSLETTER_CLAIM_SECONDS", 30)
# Each sending worker's journal of hand-overs (newsletter/sending/journal.py): workers on
# one machine must share it; on several machines, a shared folder.
NEWSLETTER_JOURNAL_DIR = ENV.get(
    "NEWSLETTER_JOURNAL_DIR", str(BASE_DIR / "var" / "newsletter-journal")
)
NEWSLETTER_TASK_SECONDS = env.read_int(ENV, "NEWSLETTER_TASK_SECONDS", 120)
NEWSLETTER_MAX_ATTEMPTS = 5
NEWSLETTER_RETRY_SECONDS = env.read_int(ENV, "NEWSLETTER_RETRY_SECONDS", 60)
# A confirmation email the mail server refused is tried again after this long, doubling
# to an hour between tries, until NEWSLETTER_CONFIRMATION_RETRY_HOURS after the signup.
NEWSLETTER_CONFIRMATION_RETRY_SECONDS = env.read_int(
    ENV, "NEWSLETTER_CONFIRMATION_RETRY_SECONDS", 60
)
NEWSLETTER_CONFIRMATION_RETRY_HOURS = env.read_int(ENV, "NEWSLETTER_CONFIRMATION_RETRY_HOURS", 24)
# What every db_worker runs every TASK_WORKER_HOUSEKEEPING_SECONDS (newsroom's db_worker);
# a task row RUNNING for longer than TASK_ORPHAN_SECONDS lost its worker and is run again.
TASK_WORKER_HOUSEKEEPING = ["newsletter.tasks.heal_sends"]
TASK_WORKER_HOUSEKEEPING_SECONDS = env.read_int(ENV, "TASK_WORKER_HOUSEKEEPING_SECONDS", 10)
TASK_ORPHAN_SECONDS = env.read_int(ENV, "TASK_ORPHAN_SECONDS", 600)
NEWSLETTER_UNSUBSCRIBE_MAILTO = ENV.get("NEWSLETTER_UNSUBSCRIBE_MAILTO", f"unsubscribe@{SITE_HOST}")
# Bounces and complaints (README, "Bounces and complaints"). RETURN_PATH is the envelope
# sender that collects bounces; each copy gets its own signed variant (VERP).
BOUNCE_DOMAIN = ENV.get("BOUNCE_DOMAIN", "").strip().lower()
RETURN_PATH = ENV.get("RETURN_PATH", "").strip() or (
    f"bounces@{BOUNCE_DOMAIN}" if BOUNCE_DOMAIN else ""
)
BOUNCE_MAILBOX_URL = ENV.get("BOUNCE_MAILBOX_URL", "").strip()
BOUNCE_MAILBOX_POLL_SECONDS = env.read_int(ENV, "BOUNCE_MAILBOX_POLL_SECONDS", 300)
NEWSLETTER_SOFT_BOUNCE_LIMIT = env.read_int(ENV, "NEWSLETTER_SOFT_BOUNCE_LIMIT", 3)
SES_SNS_TOPIC_ARNS = env.read_list(ENV, "SES_SNS_TOPIC_ARNS", [])
POSTMARK_WEBHOOK_AUTH = ENV.get("POSTMARK_WEBHOOK_AUTH", "")  # "user:password"
MAILGUN_WEBHOOK_SIGNING_KEY = ENV.get("MAILGUN_WEBHOOK_SIGNING_KEY", "")
SENDGRID_WEBHOOK_PUBLIC_KEY = ENV.get("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
# newsroom.ratelimit: "count/period" with period s, m, h or d.
RATELIMITS = {
    "newsletter-signup-ip": ENV.get("RATELIMIT_SIGNUP_IP", "20/h"),
    "newsletter-signup-address": ENV.get("RATELIMIT_SIGNUP_ADDRESS", "3/h"),
    # Search is the one public page the page cache cannot absorb.
    "search-ip": ENV.get("RATELIMIT_SEARCH_IP", "60/m"),
}

# HTTP caches in front (README, "Varnish and CDNs"): each change purges the dependency keys
# it touches in every one configured here (newsroom/pagecache/purgers.py). The *_API_URL
# settings exist so tests can point the adapters at local fakes.
CACHE_PURGE_URLS = env.read_urls(ENV, "CACHE_PURGE_URLS")
FASTLY_SERVICE_ID = ENV.get("FASTLY_SERVICE_ID", "").strip()
FASTLY_API_TOKEN = ENV.get("FASTLY_API_TOKEN", "").strip()
FASTLY_API_URL = ENV.get("FASTLY_API_URL", "").strip() or "https://api.fastly.com"
CLOUDFLARE_ZONE_ID = ENV.get("CLOUDFLARE_ZONE_ID", "").strip()
CLOUDFLARE_API_TOKEN = ENV.get("CLOUDFLARE_API_TOKEN", "").strip()
CLOUDFLARE_API_URL = (
    ENV.get("CLOUDFLARE_API_URL", "").strip() or "https://api.cloudflare.com/client/v4"
)
CACHE_PURGE_TIMEOUT_SECONDS = 2.0
# Each purge is sent again this much later (purgers.send says why); 0: never again.
CACHE_PURGE_REPEAT_SECONDS = float(ENV.get("CACHE_PURGE_REPEAT_SECONDS", "1.0"))

# Transport security follows the scheme of SITE_URL.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if IS_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.read_int(ENV, "SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": ENV.get("LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; lockouts still log at WARNING.
    # flufl.bounce logs each of its detectors at INFO for every bounce read.
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "flufl.bounce": {"level": "WARNING"},
    },
}

TAGGIT_CASE_INSENSITIVE = True

WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# The curated front page (README, "For editors"): a lead story and up to this many more.
FRONT_PAGE_FEATURED = env.read_int(ENV, "FRONT_PAGE_FEATURED", 6)
