"""Judging the music: measures of composed events (``quality``) and the comparison of composed
pieces with held-out pieces and the n-gram baseline, with its report (``compare``). The names of
``compare`` are importable from here, as they were before the regrouping.

>>> from grandstaff.judging import judge, write_report
>>> result = judge(models="bach", samples=50, seed=0)       # doctest: +SKIP
"""

from .compare import BARS, KEYS, format_quality, judge, write_report

__all__ = ["BARS", "KEYS", "format_quality", "judge", "write_report"]
