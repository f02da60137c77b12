"""ZenodoClient: retries that are safe, errors that are clear, a token that never leaks."""

from __future__ import annotations

import time

import pytest

from dfc_assets.zenodo import DEFAULT_USER_AGENT, ZenodoClient, ZenodoError, ZenodoUncertainError, publish_version
from dfc_assets.zenodo.journal import MemoryJournal
from dfc_assets.zenodo.rate_limit import MemoryStore, RateLimiter

from .conftest import TOKEN, make_file, metadata


def test_a_custom_user_agent_is_sent(client, emulator):
    client.list_depositions()
    assert emulator.requests[-1].user_agent == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("dfc_assets/") and "python-requests" not in DEFAULT_USER_AGENT


class FakeTime:
    def __init__(self) -> None:
        self.now = time.time()
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_429_is_retried_after_retry_after(emulator):
    fake = FakeTime()
    limiter = RateLimiter(MemoryStore(), "test", clock=fake.clock, sleep=fake.sleep)
    with ZenodoClient(emulator.base_url, TOKEN, backoff=0.01, rate_limiter=limiter) as client:
        emulator.faults.add("list", 429, retry_after=7)
        assert client.list_depositions() == []
    assert sum(fake.waits) == pytest.approx(7.0, abs=1.0)  # it waited as told before asking again
    assert [r.status for r in emulator.requests if r.route == "list"] == [429, 200]


def test_a_429_that_outlasts_the_deadline_fails_with_a_clear_error(emulator):
    fake = FakeTime()
    limiter = RateLimiter(MemoryStore(), "test", clock=fake.clock, sleep=fake.sleep)
    with ZenodoClient(emulator.base_url, TOKEN, backoff=0.01, rate_limiter=limiter, rate_limit_deadline=30) as client:
        emulator.faults.add("list", 429, retry_after=3600)
        with pytest.raises(ZenodoError, match=r"rate limit, past its deadline .*\(Zenodo answered it 429 1 time\)") as raised:
            client.list_depositions()
    assert raised.value.status == 429 and TOKEN not in str(raised.value)
    assert sum(fake.waits) == 0  # it did not sleep an hour to find out


def test_slow_answers_time_out_and_are_retried(emulator):
    # a timeout that a loaded machine's stall does not reach, an answer held well past it
    with ZenodoClient(emulator.base_url, TOKEN, timeout=5, backoff=0.01) as client:
        emulator.faults.add("list", None, delay=10)
        assert client.list_depositions() == []
    assert [r.status for r in emulator.requests if r.route == "list"][-1] == 200


def test_the_emulator_serves_requests_concurrently(client, emulator):
    import threading

    emulator.faults.add("list", None, delay=8)  # under the client's timeout (10 s), long enough for the quick request
    slow_done = threading.Event()
    slow = threading.Thread(target=lambda: (client.list_depositions(), slow_done.set()))
    slow.start()
    while emulator.faults.pending():  # taken: the slow request is being held
        time.sleep(0.01)
    with ZenodoClient(emulator.base_url, TOKEN) as other:
        other.create_deposition({})
    assert not slow_done.is_set()  # the quick request was answered while the slow one was still held
    slow.join()


def test_429_on_a_post_is_retried_too(client, emulator):
    emulator.faults.add("create", 429, retry_after=1)
    client.create_deposition({"title": "x"})
    assert [r.status for r in emulator.requests if r.route == "create"] == [429, 201]


@pytest.mark.emulator(rate_limit_window=1)  # a 503's retry-after is the rest of the rate-limit window: 1 s, not up to 60
@pytest.mark.parametrize("status", [500, 502, 503, 504, "reset"])
def test_idempotent_requests_are_retried_on_server_errors(client, emulator, status):
    created = client.create_deposition({"title": "x"})
    emulator.faults.add("get", status, times=2)
    assert client.get_deposition(created["id"])["id"] == created["id"]
    assert len([r for r in emulator.requests if r.route == "get"]) == 3


@pytest.mark.parametrize("status", [500, 504, "reset"])
def test_a_failed_publish_is_reported_as_uncertain_not_retried(client, emulator, status):
    created = client.create_deposition(metadata())
    emulator.faults.add("publish", status, after=True)
    with pytest.raises(ZenodoUncertainError) as raised:
        client.publish(created["id"])
    assert "may have taken effect" in str(raised.value)
    assert len([r for r in emulator.requests if r.route == "publish"]) == 1


def test_retries_give_up_with_a_clear_error(emulator):
    with ZenodoClient(emulator.base_url, TOKEN, max_retries=2, backoff=0.01) as client:
        emulator.faults.add("list", 500, times=5)
        with pytest.raises(ZenodoError) as raised:
            client.list_depositions()
    assert raised.value.status == 500
    assert "GET /api/deposit/depositions answered 500" in str(raised.value)


def test_validation_errors_name_the_fields(client):
    created = client.create_deposition({})
    with pytest.raises(ZenodoError) as raised:
        client.publish(created["id"])
    assert raised.value.status == 400
    assert "metadata.creators" in str(raised.value) and "files.enabled" in str(raised.value)
    assert raised.value.has_message("Missing uploaded files")


def test_a_wrong_token_fails_before_any_upload_and_never_shows_the_token(emulator, tmp_path):
    canary = "canary-wrong-token-91ab"
    with ZenodoClient(emulator.base_url, canary, backoff=0.01) as client:
        with pytest.raises(ZenodoError) as raised:
            publish_version(client, dataset_id="d", version="1", metadata=metadata(), files=[make_file(tmp_path, "f.parquet", 100)],
                            concept_recid=None, journal=MemoryJournal())
    assert raised.value.status == 403 and "check the Zenodo token" in str(raised.value)
    assert canary not in str(raised.value) and canary not in repr(raised.value) and canary not in repr(client)
    assert not [r for r in emulator.requests if r.route == "bucket_put"]


def test_a_wrong_base_url_fails_with_a_clear_error(tmp_path):
    with ZenodoClient("http://127.0.0.1:9", TOKEN, max_retries=1, backoff=0.01) as client:
        with pytest.raises(ZenodoError) as raised:
            client.list_depositions()
    assert "check the base URL" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_the_api_suffix_of_a_base_url_is_tolerated(emulator):
    with ZenodoClient(emulator.base_url + "/api/", TOKEN) as client:
        assert client.base_url == emulator.base_url
        assert client.list_depositions() == []


def test_a_server_error_never_echoes_the_token(emulator):
    with ZenodoClient(emulator.base_url, TOKEN, max_retries=0) as client:
        emulator.faults.add("list", 502)
        with pytest.raises(ZenodoError) as raised:
            client.list_depositions()
    assert TOKEN not in str(raised.value)
