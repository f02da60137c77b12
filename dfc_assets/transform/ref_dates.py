"""StatCan ``REF_DATE`` values and the period each one covers.

Forms (``dfc-domain.md`` §7):

- ``YYYY``        the calendar year: Jan 1 .. Dec 31
- ``YYYY-MM``     the month: its first .. last day
- ``YYYY-MM-DD``  that day: start == end
- ``YYYY/YYYY``   a fiscal year of twelve months starting in ``fiscal_year_start_month`` of
                  the first year (default July, as in table 17100022 whose years run Jul-Jun;
                  tables on the federal April-March year pass 4). The second year must be the
                  first plus one.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

DEFAULT_FISCAL_YEAR_START_MONTH = 7

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FISCAL = re.compile(r"^(\d{4})/(\d{4})$")


class InvalidRefDate(ValueError):
    pass


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def reference_period(text: str, *, fiscal_year_start_month: int = DEFAULT_FISCAL_YEAR_START_MONTH) -> tuple[date, date]:
    """(first day, last day) of the period a REF_DATE names; raises InvalidRefDate otherwise."""
    value = text.strip()
    try:
        if match := _DAY.match(value):
            day = date(int(match[1]), int(match[2]), int(match[3]))
            return day, day
        if match := _MONTH.match(value):
            year, month = int(match[1]), int(match[2])
            return date(year, month, 1), _month_end(year, month)
        if match := _YEAR.match(value):
            year = int(match[1])
            return date(year, 1, 1), date(year, 12, 31)
        if match := _FISCAL.match(value):
            first, second = int(match[1]), int(match[2])
            if second != first + 1:
                raise InvalidRefDate(f"fiscal REF_DATE {text!r}: the second year must follow the first")
            start = date(first, fiscal_year_start_month, 1)
            end_month = (fiscal_year_start_month - 2) % 12 + 1
            end_year = first if fiscal_year_start_month == 1 else second
            return start, _month_end(end_year, end_month)
    except ValueError as error:  # e.g. month 13, Feb 30
        if isinstance(error, InvalidRefDate):
            raise
        raise InvalidRefDate(f"REF_DATE {text!r} is not a real date: {error}") from None
    raise InvalidRefDate(f"REF_DATE {text!r} is none of YYYY, YYYY-MM, YYYY-MM-DD, YYYY/YYYY")
