"""Interval math for every number perftrust shows: one module, used by the metric tables and the reports.

Three kinds of interval, each checked by simulation in tests/test_metrics_coverage.py:

- ``wilson`` / ``wilson_bounds``: the Wilson score interval of k successes out of n. For a person's
  rate over cases (commitments, pull requests, review requests, commits, weeks). It assumes the n
  cases are independent trials with one probability; cases of one person that hang together (weeks
  of a busy stretch, commitments of one milestone) make it too narrow, and the tables say so.
- ``team_rate`` / ``team_rate_bounds``: a team's pooled rate (members' numerators summed over their
  denominators summed) with an interval that treats the PERSON as the unit that varies: cases of one
  person are not independent, and a team of 29 people is not 1,969 coin flips. The variance is the
  delete-one-person jackknife of the pooled rate (a closed form, computed from per-person sums: no
  resampling), the interval is a Student t interval on the logit scale with Satterthwaite degrees
  of freedom (Bell and McCaffrey's for a weighted mean: fewer than people - 1 when a few people hold
  most of the cases). A pooled rate of exactly 0 or 1 (or all people with the same rate) has no
  spread to estimate: then the Wilson interval with n = the number of people and the same t quantile.
  Fewer than 2 people with cases: no interval (NULL).
- ``median_bounds`` / ``median_ranks``: the distribution-free interval of a median from two order
  statistics (the binomial argument), interpolated between neighbouring order statistics as
  Hettmansperger and Sheather (1986) do so that it is close to 95 % rather than anywhere between
  95 % and 99 %. Needs n >= 6 (with 5 or fewer values no pair of order statistics reaches 95 %).
  Assumes independent values; with ties (whole days) it covers more often than 95 %. For one person.
- ``team_median`` / ``team_median_bounds``: a team's median (of all its members' values pooled) with
  an interval that treats the PERSON as the unit, as team rates do: Woodruff's (1952) interval.
  The share of pooled values at or below the median, p = 0.5, is a pooled rate like any other: its
  standard error is team_rate's delete-one-person jackknife (from each person's count at or below
  the median and their number of values) with the same Satterthwaite t; the interval of p, 0.5 -/+ t
  se, is turned back into values through the pooled order statistics (the smallest value whose
  empirical CDF reaches 0.5 - t se, and the one after the largest that stays below 0.5 + t se).
  All people at exactly one half have no spread to estimate: then se = sqrt(0.25 / people). Needs 2
  people and 6 values (NULL otherwise). Closed form: one pass over people, no resampling.

Scalar functions need only the standard library (the report imports them without Polars); the
``*_bounds`` functions return Polars expressions and import Polars when called.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from pipeline.metrics.settings import Z_95

if TYPE_CHECKING:
    import polars as pl

LEVEL = 0.95
MEDIAN_MIN_N = 6  # the smallest n whose widest order-statistic interval reaches 95 %
_T_TABLE_MAX_DF = 60.0  # t quantiles are tabulated below this many degrees of freedom (0.1 steps)
_MEDIAN_TABLE_MAX_N = 400  # exact binomial ranks up to this n, a normal approximation above


# -- Wilson ----------------------------------------------------------------------------------------


def wilson(successes: float, n: float, z: float = Z_95) -> tuple[float | None, float | None]:
    """Wilson score interval of successes out of n (None, None when n is 0); exact 0 and 1 at the edges."""
    if n <= 0:
        return None, None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / denominator
    lower = 0.0 if successes <= 0 else min(1.0, max(0.0, centre - half))
    upper = 1.0 if successes >= n else min(1.0, max(0.0, centre + half))
    return lower, upper


def wilson_bounds(successes: pl.Expr, n: pl.Expr, z: float | pl.Expr = Z_95) -> tuple[pl.Expr, pl.Expr]:
    """Wilson score interval for successes out of n as expressions (NULL when n is 0)."""
    import polars as pl

    zz = z if isinstance(z, pl.Expr) else pl.lit(z)
    p = successes / n
    denominator = 1 + zz * zz / n
    centre = (p + zz * zz / (2 * n)) / denominator
    half = zz * ((p * (1 - p) / n + zz * zz / (4 * n * n)).clip(lower_bound=0.0).sqrt()) / denominator
    safe = n > 0
    # Exact at the edges (floating point leaves 1e-17 where the formula gives 0 or 1).
    lower = pl.when(safe).then(pl.when(successes <= 0).then(0.0).otherwise((centre - half).clip(0.0, 1.0)))
    upper = pl.when(safe).then(pl.when(successes >= n).then(1.0).otherwise((centre + half).clip(0.0, 1.0)))
    return lower, upper


# -- Student t quantiles (no SciPy) -----------------------------------------------------------------


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with df degrees of freedom (t >= 0)."""
    return 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + t * t))


def _t_density(t: float, df: float) -> float:
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1) / 2 * math.log1p(t * t / df))


def _cornish_fisher(df: float, z: float = Z_95) -> float:
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * df**4)
    )


@cache
def t_quantile(df: float, level: float = LEVEL) -> float:
    """The two-sided `level` quantile of Student's t (df > 0, real): 12.706 for df 1, 1.96 as df grows."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    tail = (1.0 - level) / 2.0
    if df >= 3 and level == LEVEL:
        t = _cornish_fisher(df)  # within 1 % from df 3: Newton finishes in a few steps
    else:
        lo, hi = 0.0, 1.0
        while t_upper_tail(hi, df) > tail:
            lo, hi = hi, hi * 2.0
        for _ in range(40):
            mid = (lo + hi) / 2.0
            lo, hi = (mid, hi) if t_upper_tail(mid, df) > tail else (lo, mid)
        t = (lo + hi) / 2.0
    for _ in range(6):
        step = (tail - t_upper_tail(t, df)) / _t_density(t, df)
        t -= step
        if abs(step) < 1e-12:
            break
    return t


@cache
def _t_table() -> dict[float, float]:
    """Quantiles for df 1.0, 1.1, ... below _T_TABLE_MAX_DF."""
    steps = round((_T_TABLE_MAX_DF - 1.0) * 10)
    return {round(1.0 + i / 10, 1): t_quantile(round(1.0 + i / 10, 1)) for i in range(steps)}


def t_quantile_expr(df: pl.Expr) -> pl.Expr:
    """Two-sided 95 % t quantile per row, for real df >= 1 (NULL below 1). Below _T_TABLE_MAX_DF the df
    is rounded DOWN to a tenth (a slightly wider interval, never a narrower one); above it, the
    Cornish-Fisher expansion (error under 1e-6 there)."""
    import polars as pl

    table = _t_table()
    key = (df * 10).floor() / 10
    z, nu = Z_95, df
    expansion = (
        z
        + (z**3 + z) / (4 * nu)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * nu**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * nu**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * nu**4)
    )
    looked_up = key.round(1).replace_strict(table, default=None, return_dtype=pl.Float64)
    return (
        pl.when(df < 1.0)
        .then(None)
        .when(df < _T_TABLE_MAX_DF - 0.1)
        .then(looked_up)
        .otherwise(expansion)
        .cast(pl.Float64)
    )


# -- team rates: pooled over people, the person as the unit --------------------------------------------


def team_rate(pairs: Iterable[tuple[float, float]]) -> tuple[float | None, float | None, float | None]:
    """(pooled rate, lower, upper) of a team from its members' (numerator, denominator) pairs.

    The same arithmetic as team_rate_bounds (see the module docstring); members with a denominator of
    0 are not counted. The rate is None without cases; the bounds are None with fewer than 2 people."""
    members = [(float(y), float(n)) for y, n in pairs if n and n > 0]
    total_y = sum(y for y, _ in members)
    total_n = sum(n for _, n in members)
    if total_n <= 0:
        return None, None, None
    rate = total_y / total_n
    people = len(members)
    if people < 2:
        return rate, None, None
    deltas = sorted((y - rate * n) / (total_n - n) for y, n in members)
    mean = sum(deltas) / people
    variance = (people - 1) / people * sum(sorted((d - mean) ** 2 for d in deltas))
    weights = sorted(n / total_n for _, n in members)
    a = sorted(w * w / (1 - w) for w in weights)
    df = 1.0 / (sum(w * w for w in weights) + sum(a) ** 2 - sum(x * x for x in a))
    t = t_quantile(math.floor(df * 10) / 10 if df < _T_TABLE_MAX_DF - 0.1 else df)
    if 0.0 < rate < 1.0 and variance > 1e-300:
        se = math.sqrt(variance) / (rate * (1 - rate))
        centre = math.log(rate / (1 - rate))
        return rate, 1 / (1 + math.exp(-(centre - t * se))), 1 / (1 + math.exp(-(centre + t * se)))
    lower, upper = wilson(rate * people, people, t)
    return rate, lower, upper


def team_rate_terms(
    numerator: pl.Expr, denominator: pl.Expr, team_numerator: pl.Expr, team_denominator: pl.Expr
) -> list[pl.Expr]:
    """Aggregations over one team's member rows (one row per person: their numerator and
    denominator, beside the team's totals) that team_rate_bounds needs. Sort the rows first (by
    person): sums of floating-point numbers in another order differ in the last bit. delta is the change of the
    pooled rate when the person is left out, up to sign: (y - R n) / (N - n)."""
    import polars as pl

    member = denominator > 0
    weight = denominator / team_denominator
    delta = (numerator - team_numerator / team_denominator * denominator) / (team_denominator - denominator)
    a = weight * weight / (1 - weight)
    # Floating-point sums depend on the order of their terms, and the rows come in any order: each
    # term is collected as a sorted list here (Polars drops a sort in front of a plain sum) and summed
    # by team_rate_sums, so that a rerun gives the same bits.
    return [
        member.sum().cast(pl.Int64).alias("_people"),
        delta.filter(member).sort().alias("_sum_d"),
        (delta * delta).filter(member).sort().alias("_sum_dd"),
        (weight * weight).filter(member).sort().alias("_sum_ww"),
        a.filter(member).sort().alias("_sum_a"),
        (a * a).filter(member).sort().alias("_sum_aa"),
    ]


TEAM_RATE_SUMS = ("_sum_d", "_sum_dd", "_sum_ww", "_sum_a", "_sum_aa")


def team_rate_sums(prefix: str = "") -> list[pl.Expr]:
    """The sorted lists of team_rate_terms (named prefix + _sum_*) turned into their sums."""
    import polars as pl

    return [pl.col(f"{prefix}{name}").list.sum() for name in TEAM_RATE_SUMS]


def _jackknife_variance_and_t(
    people: pl.Expr, sum_d: pl.Expr, sum_dd: pl.Expr, sum_ww: pl.Expr, sum_a: pl.Expr, sum_aa: pl.Expr
) -> tuple[pl.Expr, pl.Expr]:
    """The delete-one-person jackknife variance of a pooled share and its Satterthwaite t, from the
    sums of team_rate_terms (people as a float): what team rates and team medians share."""
    variance = ((people - 1) / people * (sum_dd - sum_d * sum_d / people)).clip(lower_bound=0.0)
    return variance, t_quantile_expr(1.0 / (sum_ww + sum_a * sum_a - sum_aa))


def team_rate_bounds(
    rate: pl.Expr,
    people: pl.Expr,
    sum_d: pl.Expr,
    sum_dd: pl.Expr,
    sum_ww: pl.Expr,
    sum_a: pl.Expr,
    sum_aa: pl.Expr,
) -> tuple[pl.Expr, pl.Expr]:
    """Lower and upper bound of a pooled team rate from the sums of team_rate_terms (NULL below 2 people)."""
    import polars as pl

    c = people.cast(pl.Float64)
    variance, t = _jackknife_variance_and_t(c, sum_d, sum_dd, sum_ww, sum_a, sum_aa)
    inside = (rate > 0) & (rate < 1) & (variance > 1e-300)
    se = variance.sqrt() / (rate * (1 - rate))
    centre = (rate / (1 - rate)).log()
    logit_lower = 1 / (1 + (-(centre - t * se)).exp())
    logit_upper = 1 / (1 + (-(centre + t * se)).exp())
    edge_lower, edge_upper = wilson_bounds(rate * c, c, t)
    enough = people >= 2
    lower = pl.when(enough).then(pl.when(inside).then(logit_lower).otherwise(edge_lower))
    upper = pl.when(enough).then(pl.when(inside).then(logit_upper).otherwise(edge_upper))
    return lower, upper


# -- medians: order statistics ----------------------------------------------------------------------


def _binomial_half_cdf(n: int, upto: float) -> list[float]:
    """P(Bin(n, 1/2) <= j) for j = 0, 1, ... until it exceeds `upto` (or j reaches n // 2)."""
    pmf = math.exp(-n * math.log(2.0))
    out = [pmf]
    for j in range(n // 2):
        pmf *= (n - j) / (j + 1)
        out.append(out[-1] + pmf)
        if out[-1] > upto:
            break
    return out


@cache
def median_ranks(n: int, level: float = LEVEL) -> tuple[int, float] | None:
    """(k, lambda) of the interpolated order-statistic interval of a median of n values, or None
    (n < 6). The interval is [(1-l) x_(k) + l x_(k+1), (1-l) x_(n-k+1) + l x_(n-k)], 1-based order
    statistics; [x_(k), x_(n-k+1)] alone covers with probability gamma_k = 1 - 2 P(Bin(n,1/2) <= k-1)
    >= level, and lambda (Hettmansperger and Sheather) moves both ends inwards towards level."""
    if n < MEDIAN_MIN_N:
        return None
    if n > _MEDIAN_TABLE_MAX_N:
        # Normal approximation with continuity correction; the interpolation no longer matters.
        k = math.floor(n / 2 - Z_95 * math.sqrt(n) / 2 + 0.5)
        return max(k, 1), 0.0
    cdf = _binomial_half_cdf(n, (1 - level) / 2)
    k = 1
    while k < len(cdf) and 1 - 2 * cdf[k] >= level:  # gamma_{k+1} = 1 - 2 P(B <= k)
        k += 1
    gamma_k = 1 - 2 * cdf[k - 1]
    gamma_next = 1 - 2 * cdf[k] if k < len(cdf) else 0.0
    if gamma_k - gamma_next <= 0:
        return k, 0.0
    i = (gamma_k - level) / (gamma_k - gamma_next)
    lam = (n - k) * i / (k + (n - 2 * k) * i)
    return k, lam


def median_interval(values: Iterable[float]) -> tuple[float | None, float | None]:
    """The interval of median_ranks for a list of values (None, None below 6 values)."""
    ordered = sorted(v for v in values if v is not None and not math.isnan(v))
    ranks = median_ranks(len(ordered))
    if ranks is None:
        return None, None
    k, lam = ranks
    n = len(ordered)
    lower = (1 - lam) * ordered[k - 1] + lam * ordered[k]
    upper = (1 - lam) * ordered[n - k] + lam * ordered[n - k - 1]
    return lower, upper


@cache
def _median_table() -> tuple[dict[int, int], dict[int, float]]:
    ks: dict[int, int] = {}
    lams: dict[int, float] = {}
    for n in range(MEDIAN_MIN_N, _MEDIAN_TABLE_MAX_N + 1):
        ranks = median_ranks(n)
        assert ranks is not None
        ks[n], lams[n] = ranks
    return ks, lams


def median_bounds(sorted_values: pl.Expr, n: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Bounds of median_interval as expressions over a list column of values sorted ascending (no
    nulls) and its length n; NULL below 6 values."""
    import polars as pl

    ks, lams = _median_table()
    large = n > _MEDIAN_TABLE_MAX_N
    k_large = (n.cast(pl.Float64) / 2 - Z_95 * n.cast(pl.Float64).sqrt() / 2 + 0.5).floor().cast(pl.Int64)
    k = pl.when(large).then(k_large).otherwise(n.replace_strict(ks, default=None, return_dtype=pl.Int64))
    lam = pl.when(large).then(0.0).otherwise(n.replace_strict(lams, default=None, return_dtype=pl.Float64))
    lower = (1 - lam) * sorted_values.list.get(k - 1, null_on_oob=True) + lam * sorted_values.list.get(
        k, null_on_oob=True
    )
    upper = (1 - lam) * sorted_values.list.get(n - k, null_on_oob=True) + lam * sorted_values.list.get(
        n - k - 1, null_on_oob=True
    )
    enough = n >= MEDIAN_MIN_N
    return pl.when(enough).then(lower), pl.when(enough).then(upper)


# -- team medians: Woodruff's interval, the person as the unit ----------------------------------------


def _team_median_se(people: int, deltas: list[float], df: float) -> tuple[float, float]:
    variance = (people - 1) / people * sum(sorted((d - sum(deltas) / people) ** 2 for d in deltas))
    if variance <= 1e-300:
        variance = 0.25 / people
    t = t_quantile(math.floor(df * 10) / 10 if df < _T_TABLE_MAX_DF - 0.1 else df)
    return math.sqrt(variance), t


def team_median(groups: Iterable[Iterable[float]]) -> tuple[float | None, float | None, float | None]:
    """(median, lower, upper) of a team from its members' values (one iterable per person), the
    arithmetic of team_median_bounds (see the module docstring). The median is None without values;
    the bounds are None with fewer than 2 people with values or fewer than 6 values."""
    members = [sorted(float(v) for v in g if v is not None and not math.isnan(v)) for g in groups]
    members = [m for m in members if m]
    pooled = sorted(v for m in members for v in m)
    total = len(pooled)
    if not total:
        return None, None, None
    middle = total // 2
    median = pooled[middle] if total % 2 else (pooled[middle - 1] + pooled[middle]) / 2
    people = len(members)
    if people < 2 or total < MEDIAN_MIN_N:
        return median, None, None
    share = sum(sum(1 for v in m if v <= median) for m in members) / total
    deltas = [(sum(1 for v in m if v <= median) - share * len(m)) / (total - len(m)) for m in members]
    weights = [len(m) / total for m in members]
    a = sorted(w * w / (1 - w) for w in weights)
    df = 1.0 / (sum(sorted(w * w for w in weights)) + sum(a) ** 2 - sum(x * x for x in a))
    se, t = _team_median_se(people, deltas, df)
    low_rank = min(max(math.ceil(total * (0.5 - t * se)), 1), total)
    high_rank = min(max(math.floor(total * (0.5 + t * se)) + 1, 1), total)
    return median, pooled[low_rank - 1], pooled[high_rank - 1]


def team_median_bounds(
    sorted_values: pl.Expr,
    people: pl.Expr,
    sum_d: pl.Expr,
    sum_dd: pl.Expr,
    sum_ww: pl.Expr,
    sum_a: pl.Expr,
    sum_aa: pl.Expr,
) -> tuple[pl.Expr, pl.Expr]:
    """Lower and upper bound of a team median from the team's pooled values (a list sorted
    ascending, no nulls) and the sums of team_rate_terms over its people, each person's numerator
    being their count of values at or below the median and their denominator their number of
    values (NULL below 2 people or 6 values)."""
    import polars as pl

    c = people.cast(pl.Float64)
    total = sorted_values.list.len()
    variance, t = _jackknife_variance_and_t(c, sum_d, sum_dd, sum_ww, sum_a, sum_aa)
    variance = pl.when(variance > 1e-300).then(variance).otherwise(0.25 / c)
    half = t * variance.sqrt()
    n = total.cast(pl.Float64)
    low_rank = (n * (0.5 - half)).ceil().clip(1.0, n).cast(pl.Int64)
    high_rank = ((n * (0.5 + half)).floor() + 1).clip(1.0, n).cast(pl.Int64)
    enough = (people >= 2) & (total >= MEDIAN_MIN_N)
    lower = pl.when(enough).then(sorted_values.list.get(low_rank - 1, null_on_oob=True))
    upper = pl.when(enough).then(sorted_values.list.get(high_rank - 1, null_on_oob=True))
    return lower, upper
