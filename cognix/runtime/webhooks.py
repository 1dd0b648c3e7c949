"""Webhook delivery: start/output/logs/completed events, throttling, each prediction's webhooks in event order.

Deliberate differences from upstream: a prediction's webhooks are delivered one after another, in the order of
their events (upstream sends each independently, so `start` could arrive after the first `output`, and `output`
after `completed`); pending deliveries are bounded (COGNIX_WEBHOOK_QUEUE_MAX): beyond it non-terminal webhooks are
dropped with a warning.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable

from cognix.runtime.files import safe_url

log = logging.getLogger("cognix.runtime.webhooks")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRIES = 12


class WebhookDispatcher:
    """One per server: shares an HTTP client and the bound on pending deliveries."""

    def __init__(
        self, *, token: str | None, throttle: float, queue_max: int, user_agent: str
    ) -> None:
        self.token = token
        self.throttle = throttle
        self.queue_max = queue_max
        self.user_agent = user_agent
        self.pending = 0
        self.tasks: set[asyncio.Task] = set()
        self._client: Any = None

    @property
    def client(self) -> Any:
        """A shared httpx.AsyncClient, imported on first use (httpx is slow to import; most servers never send)."""
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=30.0)
        return self._client

    async def drain(self, timeout: float) -> None:
        """Wait (bounded) for deliveries still in flight, e.g. terminal webhooks at shutdown."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def sender(
        self, url: str, events: frozenset[str], trace_headers: dict[str, str]
    ) -> WebhookSender:
        return WebhookSender(self, url, events, trace_headers)

    async def post(
        self, url: str, body: dict[str, Any], headers: dict[str, str], *, terminal: bool
    ) -> None:
        import httpx

        data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        attempts = MAX_RETRIES if terminal else 1
        for attempt in range(attempts):
            try:
                resp = await self.client.post(url, content=data, headers=headers)
                if resp.status_code not in RETRY_STATUSES:
                    return
                problem = f"HTTP {resp.status_code}"
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt + 1 < attempts:
                await asyncio.sleep(0.1 * 2 ** min(attempt, 10))
        log.warning(
            "webhook to %s failed after %d attempt(s): %s", safe_url(url), attempts, problem.replace(url, safe_url(url))
        )


class _Body:
    """A webhook's body: taken as it was at the event, or, once a later event updated it, made when it goes out."""

    __slots__ = ("body", "make")

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.make: Callable[[], dict[str, Any]] | None = None

    def take(self) -> dict[str, Any]:
        return self.make() if self.make is not None else self.body


class WebhookSender:
    """Sends one prediction's webhooks, in order of events, honouring the filter and the throttle."""

    def __init__(
        self,
        hub: WebhookDispatcher,
        url: str,
        events: frozenset[str],
        trace: dict[str, str],
    ) -> None:
        self.hub = hub
        self.url = url
        self.events = events
        self.headers = {
            "Content-Type": "application/json",
            "User-Agent": hub.user_agent,
            **trace,
        }
        if hub.token:
            self.headers["Authorization"] = f"Bearer {hub.token}"
        self.last_throttled = 0.0
        self.last: asyncio.Task | None = None  # the latest delivery: the next one starts when it has finished
        self.waiting: _Body | None = None  # a non-terminal delivery waiting for the one before it

    def send(self, event: str, snapshot: Callable[[], dict[str, Any]]) -> None:
        """Non-terminal event: throttled (start, logs), fire-and-forget, dropped when the queue is full.

        Bodies are snapshots, each carrying all output and logs so far: while a delivery waits for the one before
        it, later events don't queue more requests but update that waiting one, whose body is taken when it goes
        out. 10,000 streamed tokens then cost a handful of requests, not 10,000, and no snapshot per token."""
        if event not in self.events:
            return
        if event in ("start", "logs"):
            now = time.monotonic()
            if now - self.last_throttled < self.hub.throttle:
                return
            self.last_throttled = now
        if self.waiting is not None:
            self.waiting.make = snapshot
            return
        if self.hub.pending >= self.hub.queue_max:
            log.warning(
                "webhook queue full (%d pending, COGNIX_WEBHOOK_QUEUE_MAX): dropped %s webhook",
                self.hub.pending,
                event,
            )
            return
        self._chain(_Body(snapshot()), terminal=False)

    def _chain(self, body: _Body, *, terminal: bool) -> asyncio.Task:
        """Deliver after this prediction's previous webhook (whatever its outcome), so they arrive in event order."""
        previous = self.last
        if not terminal and previous is not None and not previous.done():
            self.waiting = body

        async def deliver() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            if self.waiting is body:
                self.waiting = None
            await self.hub.post(self.url, body.take(), self.headers, terminal=terminal)

        self.hub.pending += 1
        task = asyncio.get_running_loop().create_task(deliver())
        self.hub.tasks.add(task)

        def finished(t: asyncio.Task) -> None:
            self.hub.pending -= 1
            self.hub.tasks.discard(t)

        task.add_done_callback(finished)
        self.last = task
        return task

    def complete(self, body: dict[str, Any]) -> asyncio.Task | None:
        """Terminal event: sent after every earlier webhook of the prediction, retried with backoff."""
        if "completed" not in self.events:
            return None
        return self._chain(_Body(body), terminal=True)
