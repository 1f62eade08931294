-- Follow-through (SPEC: the heart). Written by pipeline/metrics/follow_through.py and expectations.py.
-- Every metric_* row is one subject and period: a person (contributor_id set, team_id NULL) or a team
-- (contributor_id NULL, team_id 'repo:<owner/name>' or 'all'); period_type week (ISO week, Monday
-- start), month, or window (the trailing window ending at as_of). Dates are in the configured time
-- zone. No score, no rank.
-- Every rate or ratio r has six columns: r, r_numerator, r_denominator (the n), r_lower and r_upper
-- (its 95% interval), is_enough_data_r (r is NULL below the configured minimum n); count_* columns
-- beside them stay as they were. A team row's rate is its members' pooled rate (numerators summed
-- over denominators summed), the figure the report shows; its interval treats the person as the unit
-- (cases of one person are not independent): delete-one-person jackknife variance, logit scale,
-- Student t with Satterthwaite degrees of freedom (pipeline/metrics/intervals.py). A person row's
-- interval is Wilson's, which takes the cases as independent trials. Every median m has m, m_lower,
-- m_upper and is_enough_data_m: order statistics on person rows (6 values or more), Woodruff's interval
-- over people on team rows (2 people, 6 values or more). tests/test_metrics_naming.py checks the pattern.

CREATE TABLE IF NOT EXISTS fct_commitments (
    commitment_key VARCHAR PRIMARY KEY,
    repo VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    item_key VARCHAR NOT NULL,
    is_pull_request BOOLEAN NOT NULL,
    assignee_login VARCHAR NOT NULL,
    contributor_id VARCHAR,
    is_assignee_bot BOOLEAN NOT NULL,
    milestone_number INTEGER,
    due_date_source VARCHAR NOT NULL,
    due_date DATE NOT NULL,
    due_project_owner VARCHAR,
    due_project_number INTEGER,
    due_project_title VARCHAR,
    due_field_name VARCHAR,
    due_evidence VARCHAR,
    assigned_at TIMESTAMP,
    unassigned_at TIMESTAMP,
    closed_at TIMESTAMP,
    outcome VARCHAR NOT NULL,
    slip_days BIGINT,
    warned_before_due BOOLEAN NOT NULL,
    due_moved_after_passed BOOLEAN NOT NULL,
    html_url VARCHAR
);
COMMENT ON TABLE fct_commitments IS 'One row per commitment: (assignee, issue or pull request, due date), as of the metrics run''s as_of. Everyone ever assigned to an item with a due date has one; no assignee or no due date, no commitment.';
COMMENT ON COLUMN fct_commitments.commitment_key IS 'Deterministic key github:commitment:owner/name#number/login.';
COMMENT ON COLUMN fct_commitments.repo IS 'Repository key.';
COMMENT ON COLUMN fct_commitments.number IS 'Issue or pull request number.';
COMMENT ON COLUMN fct_commitments.item_key IS 'github:issue:owner/name#N or github:pr:owner/name#N (fct_issues.issue_key / fct_pull_requests.pull_request_key).';
COMMENT ON COLUMN fct_commitments.is_pull_request IS 'The item is a pull request.';
COMMENT ON COLUMN fct_commitments.assignee_login IS 'The person who committed (was assigned).';
COMMENT ON COLUMN fct_commitments.contributor_id IS 'The assignee as a contributor (dim_contributors).';
COMMENT ON COLUMN fct_commitments.is_assignee_bot IS 'The assignee is a bot (kept here, left out of metrics).';
COMMENT ON COLUMN fct_commitments.milestone_number IS 'The milestone the item had at as_of (its last milestoned/demilestoned event, else the current one).';
COMMENT ON COLUMN fct_commitments.due_date_source IS 'Where the due date came from, by SPEC''s precedence: project_date (a GitHub Projects date field named in [github].due_date_fields), else project_iteration (a Projects iteration field), else milestone. Between projects: the lowest project number, then owner login, then field name (sql/41 perftrust_project_due_at).';
COMMENT ON COLUMN fct_commitments.due_date IS 'The due date as the latest sync up to as_of saw it (the earliest sync''s when none was that early): the project date field''s value, the iteration''s last day (start + duration - 1), or the date part of the milestone''s due_on in UTC.';
COMMENT ON COLUMN fct_commitments.due_project_owner IS 'Login of the organization or user owning the project the due date came from (project sources; NULL for milestone); a pseudonym under --pseudonymize, as it may name a person.';
COMMENT ON COLUMN fct_commitments.due_project_number IS 'Number of that project (per owner: github.com/orgs/OWNER/projects/N).';
COMMENT ON COLUMN fct_commitments.due_project_title IS 'Title of that project.';
COMMENT ON COLUMN fct_commitments.due_field_name IS 'The project date or iteration field the due date came from (NULL for milestone).';
COMMENT ON COLUMN fct_commitments.due_evidence IS 'Where the due date came from, as reports show it: Project "Roadmap", field "Target date" / Project "Roadmap", iteration "Sprint 4" of field "Sprint" / Milestone "v1.2".';
COMMENT ON COLUMN fct_commitments.assigned_at IS 'First assignment of this person (UTC); the item''s creation when GitHub shows no assignment event.';
COMMENT ON COLUMN fct_commitments.unassigned_at IS 'When the person was last unassigned (UTC); NULL if still assigned at as_of.';
COMMENT ON COLUMN fct_commitments.closed_at IS 'Last close before as_of (UTC); NULL if open then.';
COMMENT ON COLUMN fct_commitments.outcome IS 'on_time (closed as completed, or merged, by the end of the due date), late (after), overdue (open, past due), pending (open, not yet due), dropped (closed as not planned, PR closed unmerged, or unassigned after the due date), handed_off (unassigned on or before the due date). Closing while assigned wins over a later unassignment; a reopened item counts by its last close; issues closed without a state_reason count as completed.';
COMMENT ON COLUMN fct_commitments.slip_days IS 'Late ones: close date minus due date, whole days (dates in the configured time zone).';
COMMENT ON COLUMN fct_commitments.warned_before_due IS 'The assignee commented on the item, or changed its milestone, by the end of the due date (whichever source gave it; others'' comments do not count; a project date change is not one: GitHub does not say who made it).';
COMMENT ON COLUMN fct_commitments.due_moved_after_passed IS 'The due date was moved after it had passed: the item''s GitHub Projects due date seen at a run differed from the one the run before saw, whose day had passed by then (a date cleared, or the item taken off the project, counts too); or, when the milestone gives the due date, the milestone''s date changed at a run after the old date, or the item left its milestone after that milestone''s date.';
COMMENT ON COLUMN fct_commitments.html_url IS 'Link to the item on GitHub.';

CREATE TABLE IF NOT EXISTS metric_follow_through (
    contributor_id VARCHAR,
    team_id VARCHAR,
    period_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    count_commitments BIGINT NOT NULL,
    count_on_time BIGINT NOT NULL,
    count_late BIGINT NOT NULL,
    count_overdue BIGINT NOT NULL,
    count_pending BIGINT NOT NULL,
    count_dropped BIGINT NOT NULL,
    count_handed_off BIGINT NOT NULL,
    count_on_time_denominator BIGINT NOT NULL,
    on_time_rate DOUBLE,
    on_time_rate_numerator BIGINT NOT NULL,
    on_time_rate_denominator BIGINT NOT NULL,
    on_time_rate_lower DOUBLE,
    on_time_rate_upper DOUBLE,
    is_enough_data_on_time_rate BOOLEAN NOT NULL,
    slip_days_median DOUBLE,
    slip_days_median_lower DOUBLE,
    slip_days_median_upper DOUBLE,
    is_enough_data_slip_days_median BOOLEAN NOT NULL,
    count_prs_merged BIGINT NOT NULL,
    count_prs_closed_unmerged BIGINT NOT NULL,
    count_prs_resolved BIGINT NOT NULL,
    pr_completion_rate DOUBLE,
    pr_completion_rate_numerator BIGINT NOT NULL,
    pr_completion_rate_denominator BIGINT NOT NULL,
    pr_completion_rate_lower DOUBLE,
    pr_completion_rate_upper DOUBLE,
    is_enough_data_pr_completion_rate BOOLEAN NOT NULL,
    count_review_requests_answered BIGINT NOT NULL,
    count_review_requests_answered_late BIGINT NOT NULL,
    count_review_requests_dropped BIGINT NOT NULL,
    count_review_requests_pending BIGINT NOT NULL,
    count_review_requests_removed BIGINT NOT NULL,
    count_review_requests_due BIGINT NOT NULL,
    review_follow_through_rate DOUBLE,
    review_follow_through_rate_numerator BIGINT NOT NULL,
    review_follow_through_rate_denominator BIGINT NOT NULL,
    review_follow_through_rate_lower DOUBLE,
    review_follow_through_rate_upper DOUBLE,
    is_enough_data_review_follow_through_rate BOOLEAN NOT NULL,
    review_response_hours_median DOUBLE,
    review_response_hours_median_lower DOUBLE,
    review_response_hours_median_upper DOUBLE,
    is_enough_data_review_response_hours_median BOOLEAN NOT NULL,
    evidence_keys VARCHAR[] NOT NULL
);
COMMENT ON TABLE metric_follow_through IS 'Follow-through per person or team and period: commitments by due date, pull requests by close date, review requests by request date. Conversation starters, not verdicts.';
COMMENT ON COLUMN metric_follow_through.contributor_id IS 'The person (dim_contributors); NULL on team rows.';
COMMENT ON COLUMN metric_follow_through.team_id IS 'repo:<owner/name> or all on team rows; NULL on person rows.';
COMMENT ON COLUMN metric_follow_through.period_type IS 'week, month or window (trailing window ending at as_of).';
COMMENT ON COLUMN metric_follow_through.period_start IS 'First day of the period.';
COMMENT ON COLUMN metric_follow_through.period_end IS 'Last day of the period.';
COMMENT ON COLUMN metric_follow_through.count_commitments IS 'Commitments due in the period (all outcomes).';
COMMENT ON COLUMN metric_follow_through.count_on_time IS 'Closed as completed by the end of the due date.';
COMMENT ON COLUMN metric_follow_through.count_late IS 'Closed as completed after the due date.';
COMMENT ON COLUMN metric_follow_through.count_overdue IS 'Still open past the due date at as_of.';
COMMENT ON COLUMN metric_follow_through.count_pending IS 'Open, not yet due (not counted in the rate).';
COMMENT ON COLUMN metric_follow_through.count_dropped IS 'Closed as not planned, or unassigned after the due date.';
COMMENT ON COLUMN metric_follow_through.count_handed_off IS 'Unassigned on or before the due date (not counted against anyone).';
COMMENT ON COLUMN metric_follow_through.count_on_time_denominator IS 'on_time + late + overdue + dropped: the n of on_time_rate.';
COMMENT ON COLUMN metric_follow_through.on_time_rate IS 'on_time_rate_numerator / on_time_rate_denominator (count_on_time / count_on_time_denominator); NULL below the minimum n. Team rows: the members'' pooled rate (their numerators summed over their denominators summed).';
COMMENT ON COLUMN metric_follow_through.on_time_rate_lower IS 'Lower end of the 95% interval of on_time_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_follow_through.on_time_rate_upper IS 'Upper end of the 95% interval of on_time_rate (see on_time_rate_lower).';
COMMENT ON COLUMN metric_follow_through.is_enough_data_on_time_rate IS 'n reaches the configured minimum (default 5).';
COMMENT ON COLUMN metric_follow_through.slip_days_median IS 'Median days late of the late commitments; n = count_late.';
COMMENT ON COLUMN metric_follow_through.count_prs_merged IS 'Own pull requests merged (by close date).';
COMMENT ON COLUMN metric_follow_through.count_prs_closed_unmerged IS 'Own pull requests closed without merging.';
COMMENT ON COLUMN metric_follow_through.count_prs_resolved IS 'Merged + closed unmerged: the n of pr_completion_rate.';
COMMENT ON COLUMN metric_follow_through.pr_completion_rate IS 'Merged / resolved (pr_completion_rate_numerator / pr_completion_rate_denominator); NULL below the minimum n. Team rows: pooled over members.';
COMMENT ON COLUMN metric_follow_through.pr_completion_rate_lower IS 'Lower end of the 95% interval of pr_completion_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_follow_through.pr_completion_rate_upper IS 'Upper end of the 95% interval of pr_completion_rate (see pr_completion_rate_lower).';
COMMENT ON COLUMN metric_follow_through.is_enough_data_pr_completion_rate IS 'n reaches the minimum.';
COMMENT ON COLUMN metric_follow_through.count_review_requests_answered IS 'Review requests to the person answered (their first review after the request) within review_response_hours (default 48).';
COMMENT ON COLUMN metric_follow_through.count_review_requests_answered_late IS 'Answered after review_response_hours.';
COMMENT ON COLUMN metric_follow_through.count_review_requests_dropped IS 'Not answered (nor withdrawn) and older than review_response_hours at as_of, even if the PR was merged meanwhile.';
COMMENT ON COLUMN metric_follow_through.count_review_requests_pending IS 'Not answered yet, still within review_response_hours (not counted).';
COMMENT ON COLUMN metric_follow_through.count_review_requests_removed IS 'Withdrawn before any answer (not counted against the reviewer).';
COMMENT ON COLUMN metric_follow_through.count_review_requests_due IS 'answered + answered late + dropped: the n of review_follow_through_rate.';
COMMENT ON COLUMN metric_follow_through.review_follow_through_rate IS 'Answered in time / due (review_follow_through_rate_numerator / review_follow_through_rate_denominator); NULL below the minimum n. Team rows: pooled over members.';
COMMENT ON COLUMN metric_follow_through.review_follow_through_rate_lower IS 'Lower end of the 95% interval of review_follow_through_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_follow_through.review_follow_through_rate_upper IS 'Upper end of the 95% interval of review_follow_through_rate (see review_follow_through_rate_lower).';
COMMENT ON COLUMN metric_follow_through.is_enough_data_review_follow_through_rate IS 'n reaches the minimum.';
COMMENT ON COLUMN metric_follow_through.review_response_hours_median IS 'Median hours from request to answer (answered and answered late); n = count_review_requests_answered + count_review_requests_answered_late.';
COMMENT ON COLUMN metric_follow_through.evidence_keys IS 'Keys of the commitments, pull requests and review requests behind a person row (fct_commitments.commitment_key, fct_pull_requests.pull_request_key, fct_review_requests.review_request_key). Empty on team rows: their evidence is their members'' rows.';
COMMENT ON COLUMN metric_follow_through.on_time_rate_numerator IS 'The numerator of on_time_rate: count_on_time (a copy, under the name every rate''s numerator has).';
COMMENT ON COLUMN metric_follow_through.on_time_rate_denominator IS 'The denominator (n) of on_time_rate: count_on_time_denominator (a copy). On team rows: the sum over the team''s people.';
COMMENT ON COLUMN metric_follow_through.pr_completion_rate_numerator IS 'The numerator of pr_completion_rate: count_prs_merged (a copy, under the name every rate''s numerator has).';
COMMENT ON COLUMN metric_follow_through.pr_completion_rate_denominator IS 'The denominator (n) of pr_completion_rate: count_prs_resolved (a copy). On team rows: the sum over the team''s people.';
COMMENT ON COLUMN metric_follow_through.review_follow_through_rate_numerator IS 'The numerator of review_follow_through_rate: count_review_requests_answered (a copy, under the name every rate''s numerator has).';
COMMENT ON COLUMN metric_follow_through.review_follow_through_rate_denominator IS 'The denominator (n) of review_follow_through_rate: count_review_requests_due (a copy). On team rows: the sum over the team''s people.';
COMMENT ON COLUMN metric_follow_through.slip_days_median_lower IS 'Lower end of the 95% interval of slip_days_median. Person rows: order-statistic 95% interval of the median (distribution-free: two order statistics, interpolated between neighbours as Hettmansperger and Sheather do); assumes independent values (whole days have ties: then it covers more often than 95%); NULL below 6 values. Team rows: the team median (of all its members'' values pooled) with Woodruff''s interval over people: the share of values at or below the median, 0.5, gets the team rates'' interval (delete-one-person jackknife, Student t with Satterthwaite degrees of freedom: values of one person are not independent) and is turned back into values through the pooled order statistics; NULL below 2 people or 6 values.';
COMMENT ON COLUMN metric_follow_through.slip_days_median_upper IS 'Upper end of the 95% interval of slip_days_median (see slip_days_median_lower).';
COMMENT ON COLUMN metric_follow_through.is_enough_data_slip_days_median IS 'At least the configured minimum (default 5) of values behind slip_days_median; reports say "not enough data" below it.';
COMMENT ON COLUMN metric_follow_through.review_response_hours_median_lower IS 'Lower end of the 95% interval of review_response_hours_median. Person rows: order-statistic 95% interval of the median (distribution-free: two order statistics, interpolated between neighbours as Hettmansperger and Sheather do); assumes independent values (whole days have ties: then it covers more often than 95%); NULL below 6 values. Team rows: the team median (of all its members'' values pooled) with Woodruff''s interval over people: the share of values at or below the median, 0.5, gets the team rates'' interval (delete-one-person jackknife, Student t with Satterthwaite degrees of freedom: values of one person are not independent) and is turned back into values through the pooled order statistics; NULL below 2 people or 6 values.';
COMMENT ON COLUMN metric_follow_through.review_response_hours_median_upper IS 'Upper end of the 95% interval of review_response_hours_median (see review_response_hours_median_lower).';
COMMENT ON COLUMN metric_follow_through.is_enough_data_review_response_hours_median IS 'At least the configured minimum (default 5) of values behind review_response_hours_median; reports say "not enough data" below it.';
