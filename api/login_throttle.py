"""Throttling of failed sign-ins, per account e-mail and per client IP.

A sliding window: once ``max_failures`` failed sign-ins for one key fall inside the last ``window_s``
seconds, further attempts for that key are refused (HTTP 429) until the oldest of them leaves the
window. A successful sign-in clears the account's failures (not the IP's: one good password must not
reset a password-spraying client). Account keys are the typed e-mail, whether or not an account
exists, so the throttle itself tells nothing about which e-mails are registered.

The state is in memory, **per site process** (one per app instance, kept on ``app.state``): with
several uvicorn workers or replicas each counts on its own, so the effective limit is multiplied by
their number, and a restart forgets it. A shared store (the database or Redis) would be needed to
make it global. The number of tracked keys is bounded, so spraying unique e-mails cannot grow memory
without limit.
"""

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from studio.settings import get_settings

# Defaults for tests and direct use; the site reads STUDIO_LOGIN_* (see throttle_for).
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20  # higher: people behind one NAT share an address
WINDOW_S = 15 * 60
MAX_KEYS = 100_000  # per kind; the least recently failed keys are forgotten first


class _Window:
    """Failure times per key within a sliding window."""

    def __init__(self, limit: int, window_s: float, max_keys: int) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        fails = self._fails.get(key)
        if fails is None:
            return None
        while fails and fails[0] <= now - self.window_s:
            fails.popleft()
        if not fails:
            del self._fails[key]
            return None
        return fails

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        fails = self._recent(key, now)
        if fails is None or len(fails) < self.limit:
            return 0.0
        return fails[-self.limit] + self.window_s - now

    def fail(self, key: str, now: float) -> None:
        fails = self._recent(key, now)
        if fails is None:
            fails = self._fails[key] = deque(maxlen=self.limit)
        fails.append(now)
        self._fails.move_to_end(key)
        while len(self._fails) > self.max_keys:
            self._fails.popitem(last=False)

    def clear(self, key: str) -> None:
        self._fails.pop(key, None)


class LoginThrottle:
    def __init__(
        self,
        max_per_account: int = MAX_FAILURES_PER_ACCOUNT,
        max_per_ip: int = MAX_FAILURES_PER_IP,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self._accounts = _Window(max_per_account, window_s, max_keys)
        self._ips = _Window(max_per_ip, window_s, max_keys)
        self._clock = clock
        self._lock = threading.Lock()  # sign-in handlers run in a thread pool

    def retry_after(self, email: str, ip: str) -> int:
        """Whole seconds until this e-mail from this address may try again; 0 when it may now."""
        with self._lock:
            now = self._clock()
            wait = max(self._accounts.retry_after(email, now), self._ips.retry_after(ip, now))
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, email: str, ip: str) -> None:
        with self._lock:
            now = self._clock()
            self._accounts.fail(email, now)
            self._ips.fail(ip, now)

    def succeeded(self, email: str) -> None:
        with self._lock:
            self._accounts.clear(email)


def throttle_from_settings() -> LoginThrottle:
    """The site's throttle, as ``STUDIO_LOGIN_*`` configure it (``create_app`` keeps one per app)."""
    settings = get_settings()
    return LoginThrottle(settings.login_max_failures, settings.login_max_failures_per_ip, settings.login_window_seconds)


def wait_message(seconds: int) -> str:
    minutes = math.ceil(seconds / 60)
    when = f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many failed sign-ins. For your security, sign-in is paused; try again in {when}."
