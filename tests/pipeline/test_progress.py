"""Progress lines: totals and an ETA when the total is known, and a last line at the end of a bundle."""

import logging

from kgpipe.pipeline.transforms import LogProgressFn


def _lines(caplog, total, elements, every_seconds):
    progress = LogProgressFn("documents tagged", every_seconds=every_seconds, total=total)
    progress.setup()
    with caplog.at_level(logging.INFO, logger="kgpipe.progress"):
        for element in range(elements):
            assert list(progress.process(element)) == [element]
        progress.finish_bundle()
    return [r.getMessage() for r in caplog.records if r.name == "kgpipe.progress"]


def test_lines_show_share_rate_and_eta_then_a_last_line(caplog):
    lines = _lines(caplog, total=4, elements=4, every_seconds=0.0)
    assert [line.split(",")[0] for line in lines] == [f"documents tagged: {n} of ~4 ({n * 25}%)" for n in (1, 2, 3, 4)]
    assert all("ETA" in line for line in lines[:-1]) and " in 0m00s" in lines[-1]


def test_the_last_count_is_logged_even_between_periodic_lines(caplog):
    lines = _lines(caplog, total=None, elements=7, every_seconds=3600.0)
    assert len(lines) == 1 and lines[0].startswith("documents tagged: 7 (")
