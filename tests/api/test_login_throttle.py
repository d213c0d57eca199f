"""The sign-in throttle's sliding window, on a fake clock."""

from api.login_throttle import LoginThrottle, wait_message


def test_sliding_window_per_account_and_per_address() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_per_account=3, max_per_ip=4, window_s=100, clock=lambda: now[0])
    for t in (0, 10, 20):
        now[0] = t
        assert throttle.retry_after("a@x.co", "1.1.1.1") == 0
        throttle.failed("a@x.co", "1.1.1.1")
    assert throttle.retry_after("a@x.co", "2.2.2.2") == 80  # the account, from any address
    assert throttle.retry_after("b@x.co", "1.1.1.1") == 0  # the address is below its own limit
    now[0] = 100.5  # the first failure left the window
    assert throttle.retry_after("a@x.co", "1.1.1.1") == 0
    throttle.failed("a@x.co", "1.1.1.1")
    assert throttle.retry_after("a@x.co", "1.1.1.1") == 10  # until the failure at t=10 leaves
    throttle.failed("b@x.co", "1.1.1.1")
    assert throttle.retry_after("c@x.co", "1.1.1.1") == 10  # four failures from this address in the window
    throttle.succeeded("a@x.co")  # clears the account, not the address
    assert throttle.retry_after("a@x.co", "3.3.3.3") == 0
    assert throttle.retry_after("a@x.co", "1.1.1.1") == 10


def test_tracked_keys_are_bounded() -> None:
    throttle = LoginThrottle(max_per_account=1, max_per_ip=10**9, max_keys=100, clock=lambda: 0.0)
    for i in range(1000):
        throttle.failed(f"{i}@x.co", "1.1.1.1")
    assert len(throttle._accounts._fails) == 100
    assert throttle.retry_after("999@x.co", "9.9.9.9") > 0


def test_wait_message_says_when() -> None:
    assert wait_message(45).endswith("try again in 45 seconds.")
    assert wait_message(60).endswith("try again in 1 minute.")
    assert wait_message(61).endswith("try again in 2 minutes.")
