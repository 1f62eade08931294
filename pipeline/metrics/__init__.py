"""Performance-trust metrics: one module per signal family, each a set of Polars lazy transforms.

No composite score and no rank anywhere: every rate r carries r_numerator, r_denominator and a 95%
interval (r_lower, r_upper: intervals.py), is NULL below the minimum n, and every row lists the
evidence keys behind it. A team row's rate is its people's pooled rate.
"""
