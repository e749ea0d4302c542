"""Replication values are compared as strings, so each is made canonical for its stream's precision
(`timestamps.normalize_timestamp`): a value already canonical is kept as it is (the check runs twice
per record, so it is a byte-shape test rather than a parse), every other ISO 8601 form is rewritten,
and a value that only looks like one (digits of another script) is never taken as canonical."""

from __future__ import annotations

import pytest

from tap_events.timestamps import normalize_timestamp, normalize_timestamps

CANONICAL = {
    "seconds": "2026-11-29T05:31:20Z",
    "milliseconds": "2026-11-29T05:31:20.123Z",
    "microseconds": "2026-11-29T05:31:20.123456Z",
}
OTHER_FORMS = {
    "2026-11-29T05:31:20+00:00": CANONICAL["seconds"],
    "2026-11-29T07:31:20+02:00": CANONICAL["seconds"],
    "2026-11-29 05:31:20Z": CANONICAL["seconds"],
    "2026-11-29T05:31:20z": CANONICAL["seconds"],
    "2026-11-29T05:31:20.123Z": CANONICAL["seconds"],
    "2026-11-29T05:31:20.12345Z": CANONICAL["seconds"],
}


@pytest.mark.parametrize(("precision", "value"), CANONICAL.items())
def test_a_canonical_value_is_kept_as_it_is(precision, value):
    assert normalize_timestamp(value, precision) is value


@pytest.mark.parametrize(("value", "expected"), OTHER_FORMS.items())
def test_every_other_form_is_rewritten(value, expected):
    assert normalize_timestamp(value) == expected


@pytest.mark.parametrize("precision", CANONICAL)
def test_a_canonical_value_of_another_precision_is_rewritten(precision):
    for other, value in CANONICAL.items():
        if other != precision:
            assert normalize_timestamp(value, precision) != value


#: 2026-11-29T05:31:20Z with Arabic-Indic digits for the date: `\d` of a regex matches them.
ARABIC_INDIC_DATE = "\u0662\u0660\u0662\u0666-\u0661\u0661-\u0662\u0669T05:31:20Z"


def test_digits_of_another_script_are_not_taken_as_canonical():
    with pytest.raises(ValueError, match="isoformat"):
        normalize_timestamp(ARABIC_INDIC_DATE)


def test_a_page_of_canonical_values_is_taken_as_it_is_and_any_other_page_value_by_value():
    canonical = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"]

    assert normalize_timestamps(canonical) is canonical
    assert normalize_timestamps(["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01Z"]) == canonical
