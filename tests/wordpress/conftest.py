import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image as PILImage

from articles.images import IPTC_BYLINE, IPTC_CREDIT, with_iptc

FIXTURES = Path(__file__).parent / "fixtures"


def jpeg(*, size=(640, 427), color=(40, 90, 160), iptc=None):
    buffer = io.BytesIO()
    PILImage.new("RGB", size, color).save(buffer, "JPEG", quality=70)
    data = buffer.getvalue()
    return with_iptc(data, iptc) if iptc else data


@pytest.fixture
def uploads(tmp_path):
    """A copy of wp-content/uploads with the fixture site's files (lost.jpg is missing)."""
    root = tmp_path / "uploads"
    (root / "2019/03").mkdir(parents=True)
    (root / "2019/03/crowds.jpg").write_bytes(jpeg())
    (root / "2019/03/agency.jpg").write_bytes(
        jpeg(color=(200, 40, 40), iptc={IPTC_BYLINE: "Ann Agent", IPTC_CREDIT: "AFP"})
    )
    return root


class Run:
    def __init__(self, stdout, problems_csv):
        self.stdout = stdout
        self.problems = list(csv.DictReader(problems_csv.open(encoding="utf-8")))

    def problems_of(self, wp_id):
        return [row["problem"] for row in self.problems if row["wordpress_id"] == str(wp_id)]


@pytest.fixture
def run_import(tmp_path):
    """Run the command as an operator would; returns its output and its problems CSV."""
    counter = {"n": 0}

    def run(*exports, **options):
        counter["n"] += 1
        problems_csv = tmp_path / f"problems-{counter['n']}.csv"
        out = io.StringIO()
        call_command(
            "import_wordpress", *map(str, exports), problems_csv=str(problems_csv),
            stdout=out, stderr=io.StringIO(), **options,
        )  # fmt: skip
        return Run(out.getvalue(), problems_csv)

    return run


@pytest.fixture
def site_export():
    return FIXTURES / "site.xml"


def cdata(text):
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def item(*, wp_id, post_type="post", title="A post", content="", excerpt="", status="publish",
         slug=None, date="2021-06-01 12:00:00", date_gmt="2021-06-01 10:00:00", creator="jdoe",
         terms=(), meta=None, link=None, extra="", password=""):  # fmt: skip
    """The XML of one WXR 1.2 <item>, as WordPress writes it."""
    slug = f"post-{wp_id}" if slug is None else slug
    parts = [
        f"<title>{cdata(title)}</title>",
        f"<link>{link or f'https://gazette.example.com/{date[:10].replace("-", "/")}/{slug}/'}</link>",
        f"<dc:creator>{cdata(creator)}</dc:creator>",
        f'<guid isPermaLink="false">https://gazette.example.com/?p={wp_id}</guid>',
        f"<content:encoded>{cdata(content)}</content:encoded>",
        f"<excerpt:encoded>{cdata(excerpt)}</excerpt:encoded>",
        f"<wp:post_id>{wp_id}</wp:post_id>",
        f"<wp:post_date>{cdata(date)}</wp:post_date>",
        f"<wp:post_date_gmt>{cdata(date_gmt)}</wp:post_date_gmt>",
        f"<wp:post_name>{cdata(slug)}</wp:post_name>",
        f"<wp:status>{cdata(status)}</wp:status>",
        f"<wp:post_type>{cdata(post_type)}</wp:post_type>",
        f"<wp:post_password>{cdata(password)}</wp:post_password>",
    ]
    for domain, nicename, name in terms:
        parts.append(f'<category domain="{domain}" nicename="{nicename}">{cdata(name)}</category>')
    for key, value in (meta or {}).items():
        parts.append(
            f"<wp:postmeta><wp:meta_key>{cdata(key)}</wp:meta_key>"
            f"<wp:meta_value>{cdata(value)}</wp:meta_value></wp:postmeta>"
        )
    return "<item>" + "".join(parts) + extra + "</item>"


def attachment(*, wp_id, path, parent=0, alt="", caption="", base="https://gazette.example.com"):
    url = f"{base}/wp-content/uploads/{path}"
    return item(
        wp_id=wp_id, post_type="attachment", title=path, excerpt=caption, status="inherit",
        slug=path.rsplit("/", 1)[-1].split(".")[0], link=f"{base}/?attachment_id={wp_id}",
        meta={"_wp_attached_file": path, "_wp_attachment_image_alt": alt},
        extra=f"<wp:post_parent>{parent}</wp:post_parent>"
        f"<wp:post_mime_type>image/jpeg</wp:post_mime_type>"
        f"<wp:attachment_url>{cdata(url)}</wp:attachment_url>",
    )  # fmt: skip


AUTHORS = (
    "<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[jdoe]]></wp:author_login>"
    "<wp:author_email><![CDATA[jane@gazette.example.com]]></wp:author_email>"
    "<wp:author_display_name><![CDATA[Jane Doe]]></wp:author_display_name></wp:author>"
)


def wxr(*items, base="https://gazette.example.com", version="1.2", header=AUTHORS,
        declaration='<?xml version="1.0" encoding="UTF-8" ?>'):  # fmt: skip
    return (
        f"{declaration}\n"
        f'<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/{version}/excerpt/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:wp="http://wordpress.org/export/{version}/">\n<channel>\n'
        f"<title>Gazette</title><link>{base}</link>"
        f"<wp:wxr_version>{version}</wp:wxr_version>"
        f"<wp:base_site_url>{base}</wp:base_site_url><wp:base_blog_url>{base}</wp:base_blog_url>\n"
        f"{header}\n" + "\n".join(items) + "\n</channel>\n</rss>\n"
    )


@pytest.fixture
def export_file(tmp_path):
    """Write an export (text or bytes) to a file and return its path."""
    counter = {"n": 0}

    def write(content):
        counter["n"] += 1
        path = tmp_path / f"export-{counter['n']}.xml"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return write


@pytest.fixture
def media_server(uploads):
    """A real HTTP server serving the uploads folder at /wp-content/uploads/."""
    import functools
    import http.server
    import threading

    root = uploads.parent
    site = root / "site" / "wp-content"
    site.mkdir(parents=True)
    (site / "uploads").symlink_to(uploads)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/wp-content/uploads"
    server.shutdown()
    server.server_close()
