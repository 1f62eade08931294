-- The settings the metric tables were last computed with: readers (the report, analysts) need the
-- as_of and window to say what a number covers, even when nobody was active in that window.

CREATE TABLE IF NOT EXISTS metric_runs (
    computed_at TIMESTAMP NOT NULL,
    as_of TIMESTAMP NOT NULL,
    as_of_date DATE NOT NULL,
    window_start DATE NOT NULL,
    window_days INTEGER NOT NULL,
    min_n INTEGER NOT NULL,
    timezone VARCHAR NOT NULL,
    review_response_hours DOUBLE NOT NULL,
    is_bots_included BOOLEAN NOT NULL,
    is_pseudonymized BOOLEAN NOT NULL
);
COMMENT ON TABLE metric_runs IS 'One row: the settings every metric_* table (and fct_commitments, fct_credits) was computed with. Replaced with them.';
COMMENT ON COLUMN metric_runs.computed_at IS 'When the metrics were computed (UTC).';
COMMENT ON COLUMN metric_runs.as_of IS 'The moment the metrics describe (UTC): nothing after it was counted.';
COMMENT ON COLUMN metric_runs.as_of_date IS 'as_of as a calendar date in the configured time zone: the last day of every window period.';
COMMENT ON COLUMN metric_runs.window_start IS 'First day of the trailing window (period_type = window).';
COMMENT ON COLUMN metric_runs.window_days IS 'Length of the trailing window in days.';
COMMENT ON COLUMN metric_runs.min_n IS 'Below this many cases a rate is NULL (not enough data).';
COMMENT ON COLUMN metric_runs.timezone IS 'Time zone in which dates (due dates, weeks, months) were compared.';
COMMENT ON COLUMN metric_runs.review_response_hours IS 'A review answered later than this many hours counts as answered late.';
COMMENT ON COLUMN metric_runs.is_bots_included IS 'Bots were counted in the metrics (default: left out).';
COMMENT ON COLUMN metric_runs.is_pseudonymized IS 'People in the metric tables are stable pseudonyms, not names, logins or emails.';
