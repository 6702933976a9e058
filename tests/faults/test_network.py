"""A database that refuses, resets, stalls or slows its connections, behind the fault
proxy, on PostgreSQL and on MariaDB: every request that needs it is answered `503
DATABASE_UNAVAILABLE` within the configured timeouts, nothing is half-written, nothing
is logged with a traceback, and the kit recovers by itself."""

import pytest

from tests.faults.conftest import (
    CONNECT_TIMEOUT,
    MARGIN,
    STATEMENT_TIMEOUT,
    Faulty,
    assert_unavailable,
    login,
    timed,
    tracebacks,
    until_up,
)
from tests.faults.proxy import Fault

pytestmark = pytest.mark.single_pass

#: fault, whether pooled connections break too, the longest a 503 may take
CASES = {
    # the server is down: refused at once
    "refused": (Fault.REFUSE, True, MARGIN),
    # reset while connecting (the server crashed, a proxy dropped it)
    "reset": (Fault.RESET, True, MARGIN),
    # accepts connections and never answers: bounded by the connect timeout
    "hung": (Fault.STALL, True, CONNECT_TIMEOUT + MARGIN),
    # open connections stop answering: bounded by the statement timeout
    "stalled": (Fault.STALL, False, STATEMENT_TIMEOUT + MARGIN),
    # answers arrive, too late for the statement timeout
    "too slow": (Fault.SLOW, False, STATEMENT_TIMEOUT + MARGIN),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_fault_is_503_in_bounded_time_and_the_kit_recovers(
    faulty: Faulty, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    fault, break_pooled, bound = CASES[case]
    h = faulty.host
    headers = await h.headers()  # alice, and one login session
    faulty.proxy.delay = 2 * STATEMENT_TIMEOUT
    await faulty.proxy.set(fault)
    if break_pooled:
        faulty.proxy.reset_all()
    caplog.clear()

    for request in (
        lambda: h.client.get("/users/me", headers=headers),
        lambda: login(h),
        lambda: h.register("bob@example.com"),
    ):
        response, elapsed = await timed(request())
        assert_unavailable(response)
        assert elapsed < bound, f"{case}: 503 after {elapsed:.2f} s"
    assert tracebacks(caplog) == []

    await faulty.proxy.set(Fault.NONE)
    assert (await until_up(lambda: login(h))).status_code == 200
    assert (await h.client.get("/users/me", headers=headers)).status_code == 200
    assert await faulty.rows() == {"user": 1, "userkit_session": 2, "userkit_refresh_token": 2}
    assert await faulty.orphans() == 0
    assert tracebacks(caplog) == []


async def test_a_slow_database_within_the_timeouts_still_answers(faulty: Faulty) -> None:
    h = faulty.host
    headers = await h.headers()
    faulty.proxy.delay = STATEMENT_TIMEOUT / 10  # each round trip: 2 delays
    await faulty.proxy.set(Fault.SLOW)
    response, elapsed = await timed(h.client.get("/users/me", headers=headers))
    assert response.status_code == 200, response.text
    assert elapsed > STATEMENT_TIMEOUT / 5  # it did go through the slow proxy
