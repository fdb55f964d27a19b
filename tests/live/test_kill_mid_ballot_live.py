"""The server killed (SIGKILL) in the middle of a ballot while hundreds of phones vote, then
restarted: every receipt a phone received stands for a paper stored exactly once, the phones
come back by themselves and finish voting, and the running totals equal the stored papers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import LiveServer
from tests.live.mid_ballot import (
    PHONES,
    assert_every_receipt_stored_once,
    open_secret_ranking,
    phones_of,
    retried,
    voting,
)

pytestmark = pytest.mark.live


def test_a_server_killed_mid_ballot_loses_and_doubles_no_vote(own_server: LiveServer,
                                                              tmp_path: Path):
    setup = open_secret_ranking()
    people = phones_of(own_server.app, own_server.env["SECRET_KEY"], setup, PHONES)
    with voting([own_server.url], setup, people, tmp_path) as voters:
        voters.wait_for_receipts(PHONES // 3)  # kill the server once a third hold a receipt
        own_server.kill()
        own_server.restart(tmp_path / "after-kill.log")
    report = voters.report
    print(f"{PHONES} phones; {retried(report)} sent their paper again after the kill")
    assert retried(report) > 0  # the kill came mid-burst: some phones had to try again
    assert_every_receipt_stored_once(setup, people, report)
