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
