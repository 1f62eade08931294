"""What a metric computation is asked for: the moment, the window, the minimum n, the time zone.

Kept apart from common.py so that deciding whether metrics need computing at all (a run with
nothing new) does not import Polars.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from pipeline.config import check_as_of

Z_95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval


@dataclass(frozen=True)
class MetricSettings:
    as_of: datetime  # naive UTC: metrics see what was true then
    window_days: int = 90  # the trailing window ending at as_of
    min_n: int = 5  # below this many cases a rate is NULL ("not enough data")
    timezone: str = "UTC"  # dates (due dates, weeks, months) are compared as end of day here
    review_response_hours: float = 48.0  # a review answered later than this is "answered late"
    include_bots: bool = False
    pseudonymize: bool = False

    @property
    def as_of_date(self) -> date:
        return local_date_of(self.as_of, self.timezone)

    @property
    def window_start(self) -> date:
        return self.as_of_date - timedelta(days=self.window_days - 1)


def parse_as_of(text: str | None, timezone: str) -> datetime:
    """'YYYY-MM-DD' -> the end of that day in the time zone, as naive UTC; None -> now.

    Dates outside pipeline.config.MIN_AS_OF .. MAX_AS_OF are refused (ConfigError): near the ends of
    Python's calendar the end of the day in UTC, or the window before it, would not be a date."""
    if not text:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    day = check_as_of(text)
    end = datetime.combine(day, time(23, 59, 59), tzinfo=zoneinfo.ZoneInfo(timezone))
    return end.astimezone(UTC).replace(tzinfo=None)


def local_date_of(moment: datetime, timezone: str) -> date:
    """A naive-UTC moment as a calendar date in the time zone."""
    return moment.replace(tzinfo=UTC).astimezone(zoneinfo.ZoneInfo(timezone)).date()
