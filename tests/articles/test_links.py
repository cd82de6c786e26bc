"""Addresses put together by articles/links.py are exactly what reverse() returns."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from articles.links import dated_slug_url, fixed_url, slug_url


@pytest.mark.parametrize("slug", ["world", "a-b_c-9", "X"])
def test_slug_address_is_reverses(slug):
    for name in ("articles:section-detail", "articles:author-detail", "articles:tag-detail"):
        assert slug_url(name, slug) == reverse(name, kwargs={"slug": slug})


@pytest.mark.parametrize(
    ("year", "month", "day", "slug"),
    [(2026, 1, 2, "budget-talks"), (999, 12, 31, "old_story-1"), (2026, 10, 10, "x")],
)
def test_article_address_is_reverses(year, month, day, slug):
    kwargs = {"year": year, "month": f"{month:02d}", "day": f"{day:02d}", "slug": slug}
    expected = reverse("articles:article-detail", kwargs=kwargs)
    assert (
        dated_slug_url("articles:article-detail", year=year, month=month, day=day, slug=slug)
        == expected
    )


@pytest.mark.parametrize(
    "name", ["articles:latest", "articles:feed", "articles:search", "newsletter:signup"]
)
def test_a_fixed_address_is_reverses_and_follows_the_script_prefix(name):
    assert fixed_url(name) == reverse(name)
    set_script_prefix("/news/")
    try:
        assert fixed_url(name) == reverse(name) and fixed_url(name).startswith("/news/")
    finally:
        set_script_prefix("/")


def test_a_slug_the_pattern_refuses_fails_as_reverse_does():
    with pytest.raises(NoReverseMatch):
        slug_url("articles:section-detail", "a slug with spaces")
    with pytest.raises(NoReverseMatch):
        dated_slug_url("articles:article-detail", year=2026, month=1, day=1, slug="é/x")


def test_addresses_follow_the_script_prefix():
    set_script_prefix("/news/")
    try:
        assert slug_url("articles:section-detail", "world") == "/news/section/world/"
        assert (
            dated_slug_url("articles:article-detail", year=2026, month=3, day=4, slug="a")
            == "/news/2026/03/04/a/"
        )
    finally:
        set_script_prefix("/")
    assert slug_url("articles:section-detail", "world") == "/section/world/"
