import random
import shutil
import subprocess
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import zipf
from bench.newsroom_day import shares

WRK_DAY = Path(__file__).resolve().parents[2] / "bench" / "wrk_day.lua"


def test_zipf_weights_fall_as_one_over_rank_and_sum_to_one():
    weights = zipf.zipf_weights(4)
    assert sum(weights) == pytest.approx(1)
    assert weights[0] == pytest.approx(2 * weights[1]) == pytest.approx(4 * weights[3])


def test_picker_draws_ranks_in_proportion_to_their_weight():
    totals = zipf.cumulative(zipf.zipf_weights(10))
    rng = random.Random(3)
    drawn = Counter(zipf.pick(totals, rng.random()) for _ in range(100_000))
    assert drawn[0] / 100_000 == pytest.approx(zipf.zipf_weights(10)[0], abs=0.01)
    assert drawn[0] > drawn[1] > drawn[4] > drawn[9] > 0


def test_picker_never_falls_off_the_end():
    totals = zipf.cumulative(zipf.zipf_weights(3))
    assert totals[-1] == 1.0
    assert zipf.pick(totals, 0.0) == 0
    assert zipf.pick(totals, 0.9999999999) == 2


def test_home_ranks_first_then_sections_then_the_rest_once_each():
    ranked = zipf.rank_paths(
        home="/", sections=["/section/a/", "/section/b/"], others=["/x/", "/y/", "/x/", "/z/"]
    )
    assert ranked[:3] == ["/", "/section/a/", "/section/b/"]
    assert sorted(ranked[3:]) == ["/x/", "/y/", "/z/"]


def test_hit_share_counts_page_cache_and_varnish_hits():
    counts = {"200 hit -": 97, "200 miss -": 2, "503 - -": 1}
    assert shares(counts)["page_cache_hit"] == pytest.approx(0.97)
    assert shares(counts)["non_2xx"] == pytest.approx(0.01)
    through_varnish = {
        "200 miss hit": 80,
        "200 miss stale": 10,
        "200 hit miss": 5,
        "200 miss miss": 5,
    }
    assert shares(through_varnish)["varnish_hit"] == pytest.approx(0.90)
    assert shares(through_varnish)["varnish_stale"] == pytest.approx(0.10)
    assert shares(through_varnish)["cached"] == pytest.approx(0.95)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_readers_request_paths_by_weight_and_count_the_cache_header(tmp_path):
    seen = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen[self.path] += 1
            self.send_response(200)
            self.send_header("X-Page-Cache", "hit" if self.path == "/" else "miss")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda *args: None  # wrk hangs up mid-request when its time is up
    threading.Thread(target=server.serve_forever, daemon=True).start()
    table = tmp_path / "paths.txt"
    zipf.write_table(table, ["/", "/b/", "/c/"])
    try:
        output = subprocess.run(
            ["wrk", "-t1", "-c2", "-d1s", "-s", str(WRK_DAY),
             f"http://127.0.0.1:{server.server_port}/", "--", str(table)],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout  # fmt: skip
    finally:
        server.shutdown()
    assert set(seen) == {"/", "/b/", "/c/"}
    assert seen["/"] > seen["/b/"] > seen["/c/"]
    assert '"200 hit -"' in output and '"200 miss -"' in output
