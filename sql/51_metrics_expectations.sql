CREATE TABLE IF NOT EXISTS metric_expectations (
    contributor_id VARCHAR,
    team_id VARCHAR,
    period_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    count_commitments_resolved BIGINT NOT NULL,
    count_slipped BIGINT NOT NULL,
    count_slipped_warned BIGINT NOT NULL,
    warned_rate DOUBLE,
    warned_rate_numerator BIGINT NOT NULL,
    warned_rate_denominator BIGINT NOT NULL,
    warned_rate_lower DOUBLE,
    warned_rate_upper DOUBLE,
    is_enough_data_warned_rate BOOLEAN NOT NULL,
    count_due_moved_after_passed BIGINT NOT NULL,
    evidence_keys VARCHAR[] NOT NULL
);
COMMENT ON TABLE metric_expectations IS 'Managing expectations per person or team and period (by due date): of the commitments that slipped (late, overdue or dropped), the share where the assignee spoke up before the due date; and due dates moved after they had passed.';
COMMENT ON COLUMN metric_expectations.contributor_id IS 'The person; NULL on team rows.';
COMMENT ON COLUMN metric_expectations.team_id IS 'repo:<owner/name> or all on team rows; NULL on person rows.';
COMMENT ON COLUMN metric_expectations.period_type IS 'week, month or window.';
COMMENT ON COLUMN metric_expectations.period_start IS 'First day of the period.';
COMMENT ON COLUMN metric_expectations.period_end IS 'Last day of the period.';
COMMENT ON COLUMN metric_expectations.count_commitments_resolved IS 'Commitments due in the period, pending ones left out.';
COMMENT ON COLUMN metric_expectations.count_slipped IS 'Late, overdue or dropped commitments: the n of warned_rate. (Handed off ones did not slip.)';
COMMENT ON COLUMN metric_expectations.count_slipped_warned IS 'Of those, the assignee commented or changed the milestone by the end of the due date.';
COMMENT ON COLUMN metric_expectations.warned_rate IS 'warned_rate_numerator / warned_rate_denominator; NULL below the minimum n. Team rows: the members'' pooled rate.';
COMMENT ON COLUMN metric_expectations.warned_rate_lower IS 'Lower end of the 95% interval of warned_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_expectations.warned_rate_upper IS 'Upper end of the 95% interval of warned_rate (see warned_rate_lower).';
COMMENT ON COLUMN metric_expectations.is_enough_data_warned_rate IS 'n reaches the minimum.';
COMMENT ON COLUMN metric_expectations.count_due_moved_after_passed IS 'Commitments whose due date was moved after it had passed.';
COMMENT ON COLUMN metric_expectations.evidence_keys IS 'fct_commitments.commitment_key of the slipped and moved commitments (person rows; empty on team rows).';
COMMENT ON COLUMN metric_expectations.warned_rate_numerator IS 'The numerator of warned_rate: count_slipped_warned (a copy).';
COMMENT ON COLUMN metric_expectations.warned_rate_denominator IS 'The denominator (n) of warned_rate: count_slipped (a copy). On team rows: the sum over the team''s people.';
