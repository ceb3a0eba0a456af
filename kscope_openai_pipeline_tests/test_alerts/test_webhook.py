"""One POST to a real loopback receiver: 2xx is delivered, anything else is a failure
described without the URL, and httpx's own log lines never show the URL either."""

from __future__ import annotations

import logging
import time

import pytest

from kscope_openai_pipeline.alerts import webhook
from kscope_openai_pipeline_tests.helpers.webhook_receiver import WebhookReceiver, refused_url

PAYLOAD = {"text": "hello", "blocks": []}


def test_a_2xx_is_a_delivery_of_exactly_the_payload() -> None:
    with WebhookReceiver() as hook:
        assert webhook.post(hook.url, PAYLOAD, timeout=5) == webhook.Delivery(True, 200)
        hook.answer(204)
        assert webhook.post(hook.url, PAYLOAD, timeout=5) == webhook.Delivery(True, 204)
    assert [(r.path, r.body, r.status) for r in hook.received] == [
        (f"/services/T0KSCOPE/B0ALERTS/{hook.token}", PAYLOAD, 200),
        (f"/services/T0KSCOPE/B0ALERTS/{hook.token}", PAYLOAD, 204),
    ]


@pytest.mark.parametrize("status", [500, 503, 404, 400, 302])
def test_any_other_status_is_a_failure(status: int) -> None:
    with WebhookReceiver() as hook:
        hook.answer(status)
        assert webhook.post(hook.url, PAYLOAD, timeout=5) == webhook.Delivery(
            False, status, f"HTTP {status}"
        )
    assert len(hook.received) == 1  # one attempt: retries are the outbox's business


def test_a_refused_connection_and_a_timeout_are_failures_not_exceptions() -> None:
    assert webhook.post(refused_url(), PAYLOAD, timeout=5) == webhook.Delivery(
        False, None, "connection refused"
    )
    with WebhookReceiver() as hook:
        hook.slow(3)
        started = time.monotonic()
        assert webhook.post(hook.url, PAYLOAD, timeout=0.5) == webhook.Delivery(
            False, None, "timeout"
        )
        assert time.monotonic() - started < 2.5  # bounded by the timeout, not the server
    assert webhook.post("not a url", PAYLOAD, timeout=1) == webhook.Delivery(
        False, None, "invalid webhook URL"
    )


def test_the_url_never_reaches_a_log_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with WebhookReceiver() as hook:
        webhook.post(hook.url, PAYLOAD, timeout=5)
        hook.answer(500)
        webhook.post(hook.url, PAYLOAD, timeout=5)
    webhook.post(refused_url(), PAYLOAD, timeout=5)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: POST <alert webhook>" in text  # httpx logged, redacted
    assert hook.token not in text and "B0ALERTS" not in text
    # outside a call the filter leaves other records alone
    logging.getLogger("httpx").info("GET %s", "http://example.com/v1/x")
    assert caplog.records[-1].getMessage() == "GET http://example.com/v1/x"
