"""Credit, source, caption and copyright read from agency photos: one table of samples.

Each sample is a real JPEG written here with the metadata a photo desk's software
writes (IPTC IIM in a Photoshop APP13 segment, an XMP packet in APP1, EXIF), and the
credit line a reader should see. An agency is named once.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from articles import images
from articles.models import Image

BYLINE, CREDIT, SOURCE = images.IPTC_BYLINE, images.IPTC_CREDIT, images.IPTC_SOURCE
CAPTION, COPYRIGHT = images.IPTC_CAPTION, images.IPTC_COPYRIGHT


def jpeg(exif=None):
    buffer = io.BytesIO()
    options = {"exif": exif.tobytes()} if exif is not None else {}
    PILImage.new("RGB", (40, 30), (90, 120, 150)).save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def exif(**tags):
    data = PILImage.Exif()
    for tag, value in tags.items():
        data[getattr(images, tag)] = value
    return jpeg(exif=data)


SAMPLES = [
    pytest.param(
        images.with_iptc(
            jpeg(), {BYLINE: "María Santos", CREDIT: "Reuters", SOURCE: "Reuters Pictures"}
        ),
        "María Santos/Reuters",
        id="iptc-source-repeats-the-agency",
    ),
    pytest.param(
        images.with_iptc(jpeg(), {BYLINE: "Yusuf Demir", CREDIT: "AFP", SOURCE: "Getty Images"}),
        "Yusuf Demir/AFP via Getty Images",
        id="iptc-distributor-is-named",
    ),
    pytest.param(
        images.with_iptc(jpeg(), {BYLINE: "Jane Doe", CREDIT: "AP", SOURCE: "AP"}),
        "Jane Doe/AP",
        id="iptc-same-source-and-credit",
    ),
    pytest.param(
        images.with_iptc(jpeg(), {BYLINE: "Ann Wong/REUTERS", CREDIT: "Reuters"}),
        "Ann Wong/REUTERS",
        id="iptc-byline-already-carries-the-agency",
    ),
    pytest.param(
        images.with_iptc(jpeg(), {BYLINE: "John Smith", SOURCE: "Shutterstock"}),
        "John Smith via Shutterstock",
        id="iptc-stock-library",
    ),
    pytest.param(
        images.with_iptc(jpeg(), {CREDIT: "Agência Brasil", SOURCE: "via Agência Brasil"}),
        "Agência Brasil",
        id="iptc-agency-only",
    ),
    pytest.param(
        images.with_xmp(
            jpeg(),
            images.xmp_packet(
                creator="Zoë Ångström", credit="Łódź Press", source="Łódź Press Agency"
            ),
        ),
        "Zoë Ångström/Łódź Press",
        id="xmp-source-repeats-the-agency",
    ),
    pytest.param(
        images.with_xmp(
            jpeg(), images.xmp_packet(creator="Kenji Arai", credit="Kyodo", source="Alamy")
        ),
        "Kenji Arai/Kyodo via Alamy",
        id="xmp-distributor-is-named",
    ),
    pytest.param(exif(EXIF_ARTIST="Jane Doe/Reuters"), "Jane Doe/Reuters", id="exif-artist"),
]


def read(data):
    return images.check_upload(SimpleUploadedFile("photo.jpg", data, "image/jpeg")).metadata


@pytest.mark.parametrize(("data", "credit_line"), SAMPLES)
def test_agency_photos_get_the_house_credit_line(data, credit_line):
    metadata = read(data)
    image = Image(credit=metadata.get("credit", ""), source=metadata.get("source", ""))
    assert image.credit_line == credit_line


def test_caption_and_copyright_come_from_iptc_then_xmp_then_exif():
    assert read(
        images.with_iptc(
            jpeg(), {CAPTION: "Rescuers wade through the water.", COPYRIGHT: "© Agência Brasil"}
        )
    ) == {"caption": "Rescuers wade through the water.", "copyright_notice": "© Agência Brasil"}
    assert read(
        images.with_xmp(
            jpeg(), images.xmp_packet(description="A quiet street.", rights="© Łódź Press")
        )
    ) == {"caption": "A quiet street.", "copyright_notice": "© Łódź Press"}
    assert read(exif(EXIF_IMAGE_DESCRIPTION="Dusk.", EXIF_COPYRIGHT="Reuters")) == {
        "caption": "Dusk.",
        "copyright_notice": "Reuters",
    }


def test_a_broken_xmp_packet_is_ignored_not_an_error():
    data = images.with_xmp(jpeg(), b"<x:xmpmeta><rdf:RDF><unclosed>")
    assert read(data) == {}


def test_an_xmp_packet_with_entity_expansion_is_ignored():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&b;</x:xmpmeta>'
    )
    assert read(images.with_xmp(jpeg(), bomb)) == {}
