"""The per-address sign-in limit slows and blocks guessing, never a colleague.

A command room signs in from one address (its NAT or proxy): 30 wrong guesses there
must not lock every other account out. Past the limit that address gets "too many
attempts" for any wrong name or password (so it learns nothing), while a correct
password of an account that is not itself locked still signs in.
"""

from __future__ import annotations

import pytest

from coordination.auth.service import guess_delay

from .conftest import PASSWORD
from .support import csrf_from


@pytest.fixture
def no_delay(app):
    """The delay is checked on its own below; 30 sleeping failures would be a minute."""
    settings = app.config["COORDINATION"]
    app.config["COORDINATION"] = settings.model_copy(update={"login_delay_step_seconds": 0.0})
    yield app.config["COORDINATION"]
    app.config["COORDINATION"] = settings


def _login(client, username, password):
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def test_thirty_failures_from_one_address_do_not_refuse_another_account(
        app, client, make_user, no_delay):
    make_user("operator", username="colleague")
    limit = no_delay.login_max_failures_per_ip
    assert limit == 30
    for n in range(limit):
        assert _login(client, f"guess{n}", "wrong-pass").status_code == 401
    blocked = _login(client, "nobody-here", "wrong-pass")
    assert blocked.status_code == 429, "past the limit an unknown name is blocked"
    assert _login(client, "colleague", "wrong-pass").status_code == 429, \
        "a known name with a wrong password looks the same as an unknown one"
    signed_in = _login(client, "colleague", PASSWORD)
    assert signed_in.status_code == 302
    assert client.get("/ops").status_code == 200


def test_the_account_lockout_still_holds_from_a_busy_address(app, client, make_user, no_delay):
    make_user("operator", username="target")
    for n in range(no_delay.login_max_failures_per_ip):
        _login(client, f"guess{n}", "wrong-pass")
    for _ in range(no_delay.login_max_failures):
        _login(client, "target", "wrong-pass")
    assert _login(client, "target", PASSWORD).status_code == 429
    assert client.get("/ops").status_code == 302


def test_the_delay_grows_past_a_third_of_the_allowance_and_is_capped():
    assert guess_delay(0, 30, 0.2) == 0
    assert guess_delay(10, 30, 0.2) == 0
    assert guess_delay(11, 30, 0.2) == pytest.approx(0.2)
    assert guess_delay(20, 30, 0.2) == pytest.approx(2.0)
    assert guess_delay(500, 30, 0.2) == 3.0
