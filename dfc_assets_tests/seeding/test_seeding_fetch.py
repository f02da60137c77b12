"""Feeds and .torrent files are fetched within an overall deadline: a trickling server cannot stall a poll."""

import httpx
import pytest

from dfc_assets.seeding.offers import fetch_bytes

from ..torrent.range_server import RangeServer, ServerBehaviour


def test_a_trickling_feed_is_given_up_at_the_deadline(tmp_path):
    (tmp_path / "feed.xml").write_bytes(b"<rss>" + b" " * 200_000 + b"</rss>")  # about 20 s at 512 bytes per 0.05 s
    # the deadline also bounds each read: long enough that a stall of a loaded machine is not what ends the slow one
    with RangeServer(tmp_path, ServerBehaviour(trickle=0.05)) as slow, RangeServer(tmp_path) as fast, httpx.Client() as http:
        with pytest.raises(OSError, match="did not arrive within 5 s"):
            fetch_bytes(http, slow.url + "feed.xml", "torrent feed", deadline=5)
        assert fetch_bytes(http, fast.url + "feed.xml", "torrent feed", deadline=30).startswith(b"<rss>")
        with pytest.raises(OSError, match="torrent feed .* answered HTTP 404"):
            fetch_bytes(http, fast.url + "missing.xml", "torrent feed")
