"""The real clock stopped at a chosen moment, for the code that reads it itself when no time is given."""

from freezegun import freeze_time

from qixian.legaltime.localtime import parse_local


def frozen_at(at: str, **options):
    """datetime.now, time.time and the rest stopped at `at`, Beijing time as officers write it (freezegun; `options`
    as freeze_time takes them, e.g. tick=True). Subprocesses keep the real clock."""
    return freeze_time(parse_local(at), **options)
