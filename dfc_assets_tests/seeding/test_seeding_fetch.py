"""Feeds and .torrent files are fetched within an overall deadline: a trickling server cannot stall a poll."""

import httpx
import pytest

from dfc_assets.seeding.offers import fetch_bytes

from ..torrent.range_server import RangeServer, ServerBehaviour


def test_a_trickling_feed_is_given_up_at_the_deadline(tmp_path):
    (tmp_path / "feed.xml").write_bytes(b"<rss>" + b" " * 20_000 + b"</rss>")  # about 2 s at 512 bytes per 0.05 s
    with RangeServer(tmp_path, ServerBehaviour(trickle=0.05)) as slow, RangeServer(tmp_path) as fast, httpx.Client() as http:
        with pytest.raises(OSError, match="did not arrive within 0.5 s"):
            fetch_bytes(http, slow.url + "feed.xml", "torrent feed", deadline=0.5)
        assert fetch_bytes(http, fast.url + "feed.xml", "torrent feed", deadline=0.5).startswith(b"<rss>")
        with pytest.raises(OSError, match="torrent feed .* answered HTTP 404"):
            fetch_bytes(http, fast.url + "missing.xml", "torrent feed")
