"""Performance-trust metrics: one module per signal family, each a set of Polars lazy transforms.

No composite score and no rank anywhere: every rate carries its numerator, denominator and a Wilson
95% interval, is NULL below the minimum n, and every row lists the evidence keys behind it.
"""
