#
# Varnish 7 in front of Newsroom's gunicorn (README, "Varnish and CDNs").
#
# Debian: apt-get install varnish varnish-modules (for vmod xkey), then run e.g.
#   varnishd -a :6081 -f /etc/varnish/newsroom.vcl -s malloc,1G -p http_gzip_support=off
# and set CACHE_PURGE_URLS=http://127.0.0.1:6081 for Newsroom. With http_gzip_support
# off, Varnish keeps the gzip and the plain copy gunicorn makes (Vary: Accept-Encoding)
# instead of gunzipping its one gzip copy for every client that does not take gzip.
#
# What it does:
# - keeps what Newsroom marks `public` for its `s-maxage`, tagged with the response's
#   `xkey` dependency keys; Newsroom purges them on commit with `PURGE /` and
#   `xkey-purge: k1 k2 ...` (a soft purge: the old copy stays in grace while a new one
#   is fetched);
# - passes the admin, /healthz and anyone with a session cookie straight through, and
#   drops every other cookie of a cacheable request (readers never need one);
# - keys the cache on Host, X-Forwarded-Proto and the path with only the query
#   parameters a page reads, so /?utm_source=x is the home page's copy;
# - never keeps a 5xx;
# - removes the dependency-key headers before delivery and says HIT, STALE, MISS or
#   PASS in `X-Cache`.
#
# Edit to your site: the backend (where gunicorn listens), the purgers ACL (where
# Newsroom's web and task processes run), the admin path if ADMIN_PATH moved it, the
# session cookie's name if SESSION_COOKIE_NAME changed it.

vcl 4.1;

import std;
import xkey;

backend default {
    .host = "127.0.0.1";
    .port = "8000";
    .connect_timeout = 2s;
    .first_byte_timeout = 60s;
}

# Who may purge: Newsroom's processes.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    # Set only by this VCL: never trusted from a client.
    unset req.http.X-Newsroom-Key;
    unset req.http.X-Newsroom-Cache;

    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(403, "Not allowed to purge"));
        }
        if (!req.http.xkey-purge) {
            return (synth(400, "Name the keys to purge in xkey-purge"));
        }
        set req.http.X-Newsroom-Purged = xkey.softpurge(req.http.xkey-purge);
        return (synth(200, "Invalidated " + req.http.X-Newsroom-Purged + " objects"));
    }

    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # The admin (ADMIN_PATH), health checks and signed-in people see live pages.
    if (req.url ~ "^/admin/" || req.url ~ "^/healthz"
        || req.http.Cookie ~ "(^|;\s*)sessionid=") {
        return (pass);
    }
    # A reader's page is the same for everyone: csrftoken, analytics cookies and the
    # like would only split the cache.
    unset req.http.Cookie;
    # Two copies at most (Vary: Accept-Encoding): gzip or plain.
    if (req.http.Accept-Encoding ~ "(?i)\bgzip\b") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }

    # The cache key's path and query: parameters sorted, and only those a page reads
    # kept (page, q, p; page_id and attachment_id are WordPress addresses that the
    # home page redirects). utm_*, fbclid and junk share the plain page's copy; the
    # backend still gets the URL as sent and ignores them too.
    set req.http.X-Newsroom-Key = regsuball(
        std.querysort(req.url),
        "(?<=[?&])(?!(?:page|q|p|page_id|attachment_id)(?:=|&|$))[^&]*(?:&|$)",
        "");
    set req.http.X-Newsroom-Key = regsub(req.http.X-Newsroom-Key, "[?&]+$", "");
    # Falls through to the built-in vcl_recv: host checks, Authorization passes.
}

sub vcl_hash {
    if (req.http.X-Newsroom-Key) {
        hash_data(req.http.X-Newsroom-Key);
    } else {
        hash_data(req.url);
    }
    if (req.http.host) {
        hash_data(req.http.host);
    } else {
        hash_data(server.ip);
    }
    # http:// and https:// copies differ (canonical links, redirects).
    hash_data(req.http.X-Forwarded-Proto);
    return (lookup);
}

sub vcl_hit {
    if (obj.ttl >= 0s) {
        set req.http.X-Newsroom-Cache = "HIT";
    } else {
        # In grace (expired or soft-purged): served now, refreshed in the background.
        set req.http.X-Newsroom-Cache = "STALE";
    }
}

sub vcl_miss {
    set req.http.X-Newsroom-Cache = "MISS";
}

sub vcl_pass {
    set req.http.X-Newsroom-Cache = "PASS";
}

sub vcl_backend_fetch {
    unset bereq.http.X-Newsroom-Key;
    unset bereq.http.X-Newsroom-Cache;
}

sub vcl_backend_response {
    if (beresp.status >= 500) {
        if (bereq.is_bgfetch) {
            # Refreshing a copy in grace failed: keep serving that copy.
            return (abandon);
        }
        # Never kept: the next request asks the backend again.
        set beresp.ttl = 0s;
        set beresp.grace = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (beresp.http.Cache-Control !~ "(?i)(^|[\s,])(public|s-maxage=)") {
        # Only what Newsroom marks public is shared; anything else (a redirect, a form
        # page, a preview) goes to the backend each time. Without this Varnish would
        # keep an unmarked 200, 301 or 404 for its default TTL.
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    # Stale-while-revalidate: a copy past its s-maxage, or soft-purged, is served for up
    # to this long while one request fetches the new copy; after that readers wait for it.
    # Newsroom's own stale-while-revalidate, when it sends one, decides instead.
    if (beresp.http.Cache-Control !~ "(?i)stale-while-revalidate=") {
        set beresp.grace = 2m;
    }
    # Falls through to the built-in: Set-Cookie, private, no-cache, no-store and Vary: *
    # are never shared.
}

sub vcl_deliver {
    set resp.http.X-Cache = req.http.X-Newsroom-Cache;
    # Dependency keys are for caches, not readers (Fastly and Cloudflare drop theirs too).
    unset resp.http.xkey;
    unset resp.http.Surrogate-Key;
    unset resp.http.Cache-Tag;
}
