"""Migration 0007: a licence written as words moves to the copyright notice; URLs stay."""

import importlib

import pytest
from django.apps import apps

from articles.models import Image
from tests.factories import ImageFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("articles.migrations.0007_image_licence_url_and_crops")


def test_free_text_licence_becomes_the_copyright_notice_and_urls_stay():
    words = ImageFactory(license="Editorial use only", copyright_notice="")
    both = ImageFactory(license="Not for resale", copyright_notice="© Reuters")
    already = ImageFactory(
        license="Editorial use only", copyright_notice="© AP. Editorial use only"
    )
    url = ImageFactory(license="https://creativecommons.org/licenses/by/4.0/")
    padded = ImageFactory(license="  https://example.com/terms  ")
    migration.move_free_text_licences(apps, None)
    found = {image.pk: image for image in Image.objects.all()}
    assert (found[words.pk].license, found[words.pk].copyright_notice) == (
        "",
        "Editorial use only",
    )
    assert found[both.pk].copyright_notice == "© Reuters Not for resale"
    assert found[already.pk].copyright_notice == "© AP. Editorial use only"
    assert found[url.pk].license == "https://creativecommons.org/licenses/by/4.0/"
    assert found[padded.pk].license == "https://example.com/terms"


def test_the_admin_offers_known_licences_and_accepts_any_url(admin_client):
    image = ImageFactory()
    form = admin_client.get(f"/admin/articles/image/{image.pk}/change/").content.decode()
    assert '<datalist id="known-licences">' in form
    assert "Creative Commons Attribution 4.0 (CC BY)" in form
    data = {
        "alt_text": image.alt_text,
        "caption": "",
        "credit": "C",
        "source": "",
        "license": "Editorial use only",
        "acquire_license_page": "",
        "copyright_notice": "",
        "usable_until": "",
        "focal_x": "0.5",
        "focal_y": "0.5",
    }
    refused = admin_client.post(f"/admin/articles/image/{image.pk}/change/", data)
    assert refused.status_code == 200 and "Enter a valid URL" in refused.content.decode()
    data["license"] = "https://agency.example.com/licence"
    data["acquire_license_page"] = "https://agency.example.com/buy/1"
    assert admin_client.post(f"/admin/articles/image/{image.pk}/change/", data).status_code == 302
    image.refresh_from_db()
    assert image.license == "https://agency.example.com/licence"
    assert image.acquire_license_page == "https://agency.example.com/buy/1"
