from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseForbidden
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from newsletter import services
from newsletter.forms import SignupForm
from newsletter.models import Subscriber
from newsletter.tokens import (
    TokenExpired,
    TokenInvalid,
    read_confirm_link,
    read_unsubscribe_token,
)
from newsroom import ratelimit
from newsroom.security import client_ip

RATE_LIMITED_TEMPLATE = "newsletter/subscriber_rate_limited.html"


def _cross_site(request):
    """Whether a browser tells us this POST comes from another site.

    Browsers send Sec-Fetch-Site (all current ones) or at least Origin with a form POST;
    either one naming another site means a forged request. Clients sending neither
    (curl, very old browsers) cannot be tricked into posting by a third-party page.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin == "null":
        # An opaque origin: a sandboxed frame, a data: URL, a file, a privacy redirect.
        # None of them is our own form.
        return True
    if origin:
        site = urlsplit(settings.SITE_URL)
        allowed = {f"{site.scheme}://{site.netloc}", f"{request.scheme}://{request.get_host()}"}
        return origin not in allowed
    return False


# The signup form sits in the footer of every page, and anonymous pages are cached and
# shared: a per-visitor CSRF token in them would be served to everyone else (and fail).
# So this one POST is exempt from the token check and guarded instead by what makes
# forgery pointless or impossible: the Sec-Fetch-Site / Origin check above, a honeypot,
# rate limits per IP and per address, and double opt-in, so the worst a forged or
# automated request can do is send one confirmation email that nobody clicks.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit.ratelimit("newsletter-signup-ip", template_name=RATE_LIMITED_TEMPLATE)
def signup(request):
    if request.method != "POST":
        return _signup_page(request, SignupForm())
    if _cross_site(request):
        return HttpResponseForbidden("Please subscribe from our own website.")
    form = SignupForm(request.POST)
    if form.is_bot:
        return render(request, "newsletter/subscriber_check_inbox.html")
    if not form.is_valid():
        return _signup_page(request, form, status=400)
    email = form.cleaned_data["email"]
    retry_after = ratelimit.hit("newsletter-signup-address", email.lower())
    if retry_after is not None:
        return ratelimit.too_many_requests(
            request, retry_after, template_name=RATE_LIMITED_TEMPLATE
        )
    services.request_subscription(
        email=email, source=form.consent_source(request, site_url=settings.SITE_URL)
    )
    return render(request, "newsletter/subscriber_check_inbox.html")


def _signup_page(request, form, *, status=200):
    context = {"signup_form": form, "purge_days": settings.NEWSLETTER_PURGE_PENDING_DAYS}
    return render(request, "newsletter/signup.html", context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """GET shows a button; only its POST confirms, so link-scanning robots confirm nobody."""
    try:
        subscriber, issued_at = read_confirm_link(token)
    except TokenExpired as expired:
        return _expired(request, expired.subscriber_id)
    except TokenInvalid:
        return _invalid_link(request)
    if subscriber.status == Subscriber.Status.ACTIVE:
        return render(request, "newsletter/subscriber_confirmed.html", {"already": True})
    if subscriber.unsubscribed_at and issued_at <= subscriber.unsubscribed_at:
        return _invalid_link(request, withdrawn=True)
    if request.method == "POST":
        confirmed = services.confirm_subscription(
            subscriber=subscriber, ip=client_ip(request), link_issued_at=issued_at
        )
        if confirmed is None:
            return _invalid_link(request, withdrawn=True)
        return render(request, "newsletter/subscriber_confirmed.html")
    return render(request, "newsletter/subscriber_confirm.html")


def _invalid_link(request, *, withdrawn=False):
    """A tampered or truncated link, or one made before its reader unsubscribed: say so
    and offer the signup form, never a 500."""
    return render(
        request,
        "newsletter/subscriber_link_invalid.html",
        {"signup_form": SignupForm(), "withdrawn": withdrawn},
        status=400,
    )


def _expired(request, subscriber_id):
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if request.method == "POST" and request.POST.get("action") == "resend" and subscriber:
        retry_after = ratelimit.hit("newsletter-signup-address", subscriber.email.lower())
        if retry_after is not None:
            return ratelimit.too_many_requests(
                request, retry_after, template_name=RATE_LIMITED_TEMPLATE
            )
        if subscriber.status != Subscriber.Status.ACTIVE:
            services.send_confirmation(subscriber=subscriber)
        return render(request, "newsletter/subscriber_check_inbox.html")
    return render(
        request,
        "newsletter/subscriber_link_expired.html",
        {"days": settings.NEWSLETTER_CONFIRM_DAYS},
    )


# A mail client's one-click unsubscribe (RFC 8058) POSTs "List-Unsubscribe=One-Click"
# with no cookie and no CSRF token. The signed token in the URL is the authority here:
# only the recipient of our email has it.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    try:
        subscriber = read_unsubscribe_token(token)
    except TokenInvalid:
        return _invalid_link(request)
    if request.method != "POST":
        return render(request, "newsletter/subscriber_unsubscribe.html", {"subscriber": subscriber})
    action = request.POST.get("action", "unsubscribe")
    if action == "erase":
        services.erase_subscriber(subscriber=subscriber)
        return render(request, "newsletter/subscriber_erased.html")
    if action == "resubscribe":
        retry_after = ratelimit.hit("newsletter-signup-address", subscriber.email.lower())
        if retry_after is not None:
            return ratelimit.too_many_requests(
                request, retry_after, template_name=RATE_LIMITED_TEMPLATE
            )
        services.request_subscription(
            email=subscriber.email,
            source=f"{settings.SITE_URL.rstrip('/')}/newsletter/ (from the unsubscribe page)",
        )
        return render(request, "newsletter/subscriber_check_inbox.html")
    services.unsubscribe(subscriber=subscriber)
    subscriber.status = Subscriber.Status.UNSUBSCRIBED
    return render(
        request, "newsletter/subscriber_unsubscribe.html", {"subscriber": subscriber, "done": True}
    )
