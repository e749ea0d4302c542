"""next_page_url is followed as given, but only on the configured host: credentials go nowhere else."""

from __future__ import annotations

from emulator import Emulator
from tests.common import MONITOR_EVENTS, twilio_config
from tests.tap_runner import catalog_selecting, run_tap_process


def test_next_page_url_is_followed_verbatim(emulator):
    config = twilio_config(emulator, page_size=5)

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode == 0, run.stderr
    follow_ups = [seen.url for seen in emulator.seen if "PageToken=" in seen.url]
    assert follow_ups, "a day with more than 5 events needs a second page"
    # Exactly the URL the server handed out: no parameter appended twice.
    assert all(url.count("PageSize=") == 1 and url.count("StartDate=") == 1 for url in follow_ups)


def test_a_foreign_next_page_url_is_refused_and_gets_no_credentials(emulator):
    with Emulator() as foreign:
        emulator.link_origin = foreign.base_url
        config = twilio_config(emulator, page_size=5)

        run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

        assert run.returncode != 0
        assert "refusing to follow next_page_url" in run.stderr
        assert foreign.base_url.split("//")[1] in run.stderr
        assert foreign.seen == [], "the foreign host must not even be contacted"


def test_a_next_page_url_cycle_is_detected(emulator):
    emulator.cycle_next_page_url = True
    config = twilio_config(emulator, page_size=5)

    run = run_tap_process(config, catalog=catalog_selecting(config, [MONITOR_EVENTS]))

    assert run.returncode != 0
    assert "pagination cycle" in run.stderr
