-- metric_consistency and metric_communication: written by pipeline/metrics/consistency.py and
-- pipeline/metrics/communication.py (DELETE + INSERT BY NAME on every metrics run).
-- Rows: one per subject and period. A person row has contributor_id set and team_id NULL; a team row
-- has contributor_id NULL and team_id 'repo:<owner/name>' (everyone active in that repository) or
-- 'all' (everyone). Periods: ISO week (Monday-Sunday), calendar month, and the trailing window of
-- window_days ending at as_of; a row exists only where the subject did something in the period.
-- Never a score, never a rank: every rate or ratio r has r, r_numerator, r_denominator, r_lower,
-- r_upper and is_enough_data_r (sql/50_metrics_follow.sql says how team rows pool their people and
-- how each interval is made) and is NULL below min_n (default 5); medians are NULL below min_n cases
-- too; every median m has m_lower, m_upper (order statistics on person rows, Woodruff's interval over
-- people on team rows) and is_enough_data_m; evidence_keys lists
-- the commits, pull requests, issues, reviews and comments behind the row. Bots get no rows.
-- Evidence keys: git:commit:<repo>@<sha>, github:pr:<repo>#<n>, github:issue:<repo>#<n>,
-- github:review:<repo>#<pr>/<id>, github:comment:<repo>#<n>/<comment id>,
-- github:review_comment:<repo>#<pr>/<comment id>.

CREATE TABLE IF NOT EXISTS metric_consistency (
    contributor_id VARCHAR,
    team_id VARCHAR,
    period_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    observed_start DATE,
    observed_end DATE,
    count_commits_authored BIGINT,
    count_prs_opened BIGINT,
    count_issues_opened BIGINT,
    count_reviews_submitted BIGINT,
    count_comments_written BIGINT,
    count_active_days BIGINT,
    active_weeks_ratio DOUBLE,
    active_weeks_ratio_numerator BIGINT,
    active_weeks_ratio_denominator BIGINT,
    active_weeks_ratio_lower DOUBLE,
    active_weeks_ratio_upper DOUBLE,
    is_enough_data_active_weeks_ratio BOOLEAN,
    weeks_with_anyone_active_ratio DOUBLE,
    weeks_with_anyone_active_ratio_numerator BIGINT,
    weeks_with_anyone_active_ratio_denominator BIGINT,
    weeks_with_anyone_active_ratio_lower DOUBLE,
    weeks_with_anyone_active_ratio_upper DOUBLE,
    is_enough_data_weeks_with_anyone_active_ratio BOOLEAN,
    weekly_activity_cv DOUBLE,
    is_enough_data_weekly_activity_cv BOOLEAN,
    longest_gap_days BIGINT,
    count_prs_merged BIGINT,
    pr_cycle_time_median_hours DOUBLE,
    pr_cycle_time_median_hours_lower DOUBLE,
    pr_cycle_time_median_hours_upper DOUBLE,
    is_enough_data_pr_cycle_time_median_hours BOOLEAN,
    pr_cycle_time_iqr_hours DOUBLE,
    is_enough_data_pr_cycle_time BOOLEAN,
    revert_rate DOUBLE,
    revert_rate_numerator BIGINT,
    revert_rate_denominator BIGINT,
    revert_rate_lower DOUBLE,
    revert_rate_upper DOUBLE,
    is_enough_data_revert_rate BOOLEAN,
    evidence_keys VARCHAR[] NOT NULL
);
COMMENT ON TABLE metric_consistency IS 'Consistency signals (be reliable and consistent) per contributor or team and period: active weeks, weekly-activity variation, longest gap, pull-request cycle time, revert rate of own commits. Activity = a reachable commit authored (merges included), a pull request or issue opened, a review submitted (replies on one''s own pull request included: GitHub records them as reviews) or a comment written on an issue or pull-request conversation, on its calendar date in the configured time zone, up to as_of. Conversation starters about performance trust, not verdicts on a person; no score, no rank.';
COMMENT ON COLUMN metric_consistency.contributor_id IS 'The person (dim_contributors.contributor_id); NULL on team rows.';
COMMENT ON COLUMN metric_consistency.team_id IS 'repo:<owner/name> (everyone active in that repository) or all (everyone); NULL on person rows.';
COMMENT ON COLUMN metric_consistency.period_type IS 'week (ISO week, Monday to Sunday), month (calendar month) or window (the trailing window of window_days days ending at as_of).';
COMMENT ON COLUMN metric_consistency.period_start IS 'First day of the period.';
COMMENT ON COLUMN metric_consistency.period_end IS 'Last day of the period (may be after as_of for the current week or month).';
COMMENT ON COLUMN metric_consistency.observed_start IS 'First day the activity measures look at: the later of period_start and the subject''s first activity on record (nobody is counted inactive before they first appear).';
COMMENT ON COLUMN metric_consistency.observed_end IS 'Last day the activity measures look at: the earlier of period_end and the as_of date (the current period is not over yet).';
COMMENT ON COLUMN metric_consistency.count_commits_authored IS 'Reachable commits authored in the period (merges included).';
COMMENT ON COLUMN metric_consistency.count_prs_opened IS 'Pull requests opened in the period.';
COMMENT ON COLUMN metric_consistency.count_issues_opened IS 'Issues opened in the period.';
COMMENT ON COLUMN metric_consistency.count_reviews_submitted IS 'Reviews submitted in the period (any state but pending).';
COMMENT ON COLUMN metric_consistency.count_comments_written IS 'Comments written on issues and pull-request conversations in the period (commented timeline events).';
COMMENT ON COLUMN metric_consistency.count_active_days IS 'Distinct days with any activity in the period.';
COMMENT ON COLUMN metric_consistency.active_weeks_ratio IS 'Active weeks / weeks (active_weeks_ratio_numerator / active_weeks_ratio_denominator); NULL below min_n weeks. NULL on week rows: one week is always 0/1 or 1/1 and says nothing. Team rows: the members'' pooled person-weeks (the weeks in which each member was active, summed, over the weeks each member was observed, summed): the figure the report shows. The share of weeks in which anyone in the team was active is weeks_with_anyone_active_ratio.';
COMMENT ON COLUMN metric_consistency.active_weeks_ratio_numerator IS 'Person rows: ISO weeks overlapping the observed span with at least one active day inside the span. Team rows: the sum over their members (for repo:* teams, each member''s active weeks in that repository). NULL on week rows.';
COMMENT ON COLUMN metric_consistency.active_weeks_ratio_denominator IS 'Person rows: ISO weeks overlapping the observed span (observed_start to observed_end), partial weeks at either end included; also the n of weekly_activity_cv. Team rows: the sum over their members (for repo:* teams, each member observed from their first activity in that repository on record). NULL on week rows.';
COMMENT ON COLUMN metric_consistency.active_weeks_ratio_lower IS 'Lower end of the 95% interval of active_weeks_ratio. Person rows: Wilson score interval, which takes the weeks as independent trials; busy and quiet stretches make weeks hang together, so for someone whose activity comes in streaks it is too narrow. Team rows: the pooled rate''s interval over people (delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people), which holds however each person''s weeks hang together.';
COMMENT ON COLUMN metric_consistency.active_weeks_ratio_upper IS 'Upper end of the 95% interval of active_weeks_ratio (see active_weeks_ratio_lower).';
COMMENT ON COLUMN metric_consistency.is_enough_data_active_weeks_ratio IS 'The denominator reaches min_n (else the ratio is NULL: not enough data).';
COMMENT ON COLUMN metric_consistency.weekly_activity_cv IS 'Coefficient of variation (population standard deviation / mean) of active DAYS per week (0-7, idle weeks as 0) over the row''s weeks; days, not events, so splitting work into more commits changes nothing. Lower = steadier. On team rows the team as one unit (days on which anyone was active) over weeks_with_anyone_active_ratio_denominator weeks. NULL below min_n weeks, on week rows, and without any activity.';
COMMENT ON COLUMN metric_consistency.is_enough_data_weekly_activity_cv IS 'The row covers at least min_n weeks (its own: a team''s are weeks_with_anyone_active_ratio_denominator).';
COMMENT ON COLUMN metric_consistency.longest_gap_days IS 'Longest run of consecutive calendar days without activity inside the observed span, including the run before the first and after the last active day; the whole span if there was no activity (a row can exist through a merged pull request alone).';
COMMENT ON COLUMN metric_consistency.count_prs_merged IS 'Pull requests by the subject merged in the period (dated by merged_at): the n of the cycle-time measures.';
COMMENT ON COLUMN metric_consistency.pr_cycle_time_median_hours IS 'Median hours from opened (created_at) to merged of those pull requests; NULL below min_n merged.';
COMMENT ON COLUMN metric_consistency.pr_cycle_time_iqr_hours IS 'Interquartile range (75th minus 25th percentile, linear interpolation) of the same hours: lower = more predictable. NULL below min_n merged.';
COMMENT ON COLUMN metric_consistency.is_enough_data_pr_cycle_time IS 'count_prs_merged reaches min_n (for the median and the IQR; the same as is_enough_data_pr_cycle_time_median_hours).';
COMMENT ON COLUMN metric_consistency.revert_rate IS 'Own commits reverted / own commits; NULL below min_n own commits. Own commits: reachable non-merge commits the subject authored in the period. Reverted: a reachable commit authored by as_of, by anyone (bots too, the subject too), says "This reverts commit <sha>" of it. Judged at as_of, so a later revert raises an old period''s rate.';
COMMENT ON COLUMN metric_consistency.revert_rate_numerator IS 'Own commits of the period reverted by as_of.';
COMMENT ON COLUMN metric_consistency.revert_rate_denominator IS 'Own non-merge reachable commits authored in the period (team rows: the sum over their people).';
COMMENT ON COLUMN metric_consistency.revert_rate_lower IS 'Lower end of the 95% interval of revert_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_consistency.revert_rate_upper IS 'Upper end of the 95% interval of revert_rate (see revert_rate_lower).';
COMMENT ON COLUMN metric_consistency.is_enough_data_revert_rate IS 'revert_rate_denominator reaches min_n.';
COMMENT ON COLUMN metric_consistency.evidence_keys IS 'Sorted keys of everything behind the row: the activity (commits, pull requests, issues, reviews, comments), the merged pull requests, and the commits that reverted the subject''s commits.';
COMMENT ON COLUMN metric_consistency.weeks_with_anyone_active_ratio IS 'Team rows only, the team as one unit: weeks in which anyone in the team was active / weeks since the team''s first activity on record in the period; NULL below min_n weeks, on week rows and on person rows (for a person that is active_weeks_ratio).';
COMMENT ON COLUMN metric_consistency.weeks_with_anyone_active_ratio_numerator IS 'ISO weeks overlapping the team''s observed span with at least one member active inside it (team rows, not week rows).';
COMMENT ON COLUMN metric_consistency.weeks_with_anyone_active_ratio_denominator IS 'ISO weeks overlapping the team''s observed span (observed_start to observed_end), partial weeks included; also the n of a team row''s weekly_activity_cv.';
COMMENT ON COLUMN metric_consistency.weeks_with_anyone_active_ratio_lower IS 'Lower end of the Wilson 95% interval of weeks_with_anyone_active_ratio: one series of weeks taken as independent trials (streaks make it too narrow).';
COMMENT ON COLUMN metric_consistency.weeks_with_anyone_active_ratio_upper IS 'Upper end of the Wilson 95% interval of weeks_with_anyone_active_ratio.';
COMMENT ON COLUMN metric_consistency.is_enough_data_weeks_with_anyone_active_ratio IS 'The denominator reaches min_n (team rows; false on person rows).';
COMMENT ON COLUMN metric_consistency.pr_cycle_time_median_hours_lower IS 'Lower end of the 95% interval of pr_cycle_time_median_hours. Person rows: order-statistic 95% interval of the median (distribution-free: two order statistics, interpolated between neighbours as Hettmansperger and Sheather do); assumes independent values (whole days have ties: then it covers more often than 95%). NULL below 6 values or min_n merged. Team rows: the team median (of all its members'' values pooled) with Woodruff''s interval over people: the share of values at or below the median, 0.5, gets the team rates'' interval (delete-one-person jackknife, Student t with Satterthwaite degrees of freedom: values of one person are not independent) and is turned back into values through the pooled order statistics; NULL below 2 people or 6 values.';
COMMENT ON COLUMN metric_consistency.pr_cycle_time_median_hours_upper IS 'Upper end of the 95% interval of pr_cycle_time_median_hours (see pr_cycle_time_median_hours_lower).';
COMMENT ON COLUMN metric_consistency.is_enough_data_pr_cycle_time_median_hours IS 'At least the configured minimum (default 5) of values behind pr_cycle_time_median_hours (merged ones); pr_cycle_time_median_hours is NULL below it.';

CREATE TABLE IF NOT EXISTS metric_communication (
    contributor_id VARCHAR,
    team_id VARCHAR,
    period_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    count_prs_opened BIGINT,
    pr_description_share DOUBLE,
    pr_description_share_numerator BIGINT,
    pr_description_share_denominator BIGINT,
    pr_description_share_lower DOUBLE,
    pr_description_share_upper DOUBLE,
    is_enough_data_pr_description_share BOOLEAN,
    pr_issue_link_share DOUBLE,
    pr_issue_link_share_numerator BIGINT,
    pr_issue_link_share_denominator BIGINT,
    pr_issue_link_share_lower DOUBLE,
    pr_issue_link_share_upper DOUBLE,
    is_enough_data_pr_issue_link_share BOOLEAN,
    count_review_comments_answered BIGINT,
    review_comment_response_median_hours DOUBLE,
    review_comment_response_median_hours_lower DOUBLE,
    review_comment_response_median_hours_upper DOUBLE,
    is_enough_data_review_comment_response_median_hours BOOLEAN,
    is_enough_data_review_comment_response BOOLEAN,
    evidence_keys VARCHAR[] NOT NULL
);
COMMENT ON TABLE metric_communication IS 'Communication signals (communicate clearly) per contributor or team and period: share of pull requests with a real description, share linked to an issue, hours to answer review comments on one''s own pull requests. Pull requests are dated by when they were opened (drafts and unmerged ones included) and judged by their text as it is now; answers are dated by the answer. Conversation starters about performance trust, not verdicts on a person; no score, no rank.';
COMMENT ON COLUMN metric_communication.contributor_id IS 'The person (dim_contributors.contributor_id); NULL on team rows.';
COMMENT ON COLUMN metric_communication.team_id IS 'repo:<owner/name> (everyone active in that repository) or all (everyone); NULL on person rows.';
COMMENT ON COLUMN metric_communication.period_type IS 'week (ISO week, Monday to Sunday), month (calendar month) or window (the trailing window of window_days days ending at as_of).';
COMMENT ON COLUMN metric_communication.period_start IS 'First day of the period.';
COMMENT ON COLUMN metric_communication.period_end IS 'Last day of the period.';
COMMENT ON COLUMN metric_communication.count_prs_opened IS 'Pull requests the subject opened in the period: the n of both shares.';
COMMENT ON COLUMN metric_communication.pr_description_share IS 'Pull requests with a non-trivial description / pull requests opened; NULL below min_n. Non-trivial: after removing HTML comments (template instructions), Markdown heading lines and task-list lines (- [ ] / - [x]) and collapsing whitespace, at least 30 characters remain, and that text (ignoring case) is not also the whole remaining text of pull requests by at least two other authors in the repository (three authors with the same text: an unfilled template or boilerplate).';
COMMENT ON COLUMN metric_communication.pr_description_share_numerator IS 'Pull requests opened in the period with a non-trivial description.';
COMMENT ON COLUMN metric_communication.pr_description_share_denominator IS 'Pull requests opened in the period.';
COMMENT ON COLUMN metric_communication.pr_description_share_lower IS 'Lower end of the 95% interval of pr_description_share. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_communication.pr_description_share_upper IS 'Upper end of the 95% interval of pr_description_share (see pr_description_share_lower).';
COMMENT ON COLUMN metric_communication.is_enough_data_pr_description_share IS 'The denominator reaches min_n.';
COMMENT ON COLUMN metric_communication.pr_issue_link_share IS 'Pull requests linked to an issue / pull requests opened; NULL below min_n. Linked: the description (outside HTML comments) uses a GitHub closing keyword (close(s|d), fix(es|ed), resolve(s|d), optional colon) before #N, owner/name#N or an issues URL; or an issue''s timeline has a cross-referenced event from the pull request; or the pull request''s timeline has a cross-referenced event from an issue; or it has more connected than disconnected events (Development sidebar). Timeline events after as_of do not count.';
COMMENT ON COLUMN metric_communication.pr_issue_link_share_numerator IS 'Pull requests opened in the period linked to an issue.';
COMMENT ON COLUMN metric_communication.pr_issue_link_share_denominator IS 'Pull requests opened in the period.';
COMMENT ON COLUMN metric_communication.pr_issue_link_share_lower IS 'Lower end of the 95% interval of pr_issue_link_share. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_communication.pr_issue_link_share_upper IS 'Upper end of the 95% interval of pr_issue_link_share (see pr_issue_link_share_lower).';
COMMENT ON COLUMN metric_communication.is_enough_data_pr_issue_link_share IS 'The denominator reaches min_n.';
COMMENT ON COLUMN metric_communication.count_review_comments_answered IS 'Review (diff) comments by another human on the subject''s pull requests that the subject answered, dated by the answer: the n of the median. Unanswered comments are not turned into a rate: many are settled by a code change rather than a reply.';
COMMENT ON COLUMN metric_communication.review_comment_response_median_hours IS 'Median hours from such a comment to the pull-request author''s first comment in the same thread (in_reply_to_id) at or after it; NULL below min_n answered. Conversation comments have no thread structure and are not used.';
COMMENT ON COLUMN metric_communication.is_enough_data_review_comment_response IS 'count_review_comments_answered reaches min_n (the same as is_enough_data_review_comment_response_median_hours, kept for queries written before).';
COMMENT ON COLUMN metric_communication.evidence_keys IS 'Sorted keys behind the row: the pull requests opened (github:pr:...) and the review comments answered (github:review_comment:<repo>#<pr>/<comment id>).';
COMMENT ON COLUMN metric_communication.review_comment_response_median_hours_lower IS 'Lower end of the 95% interval of review_comment_response_median_hours. Person rows: order-statistic 95% interval of the median (distribution-free: two order statistics, interpolated between neighbours as Hettmansperger and Sheather do); assumes independent values (whole days have ties: then it covers more often than 95%). NULL below 6 values or min_n answered. Team rows: the team median (of all its members'' values pooled) with Woodruff''s interval over people: the share of values at or below the median, 0.5, gets the team rates'' interval (delete-one-person jackknife, Student t with Satterthwaite degrees of freedom: values of one person are not independent) and is turned back into values through the pooled order statistics; NULL below 2 people or 6 values.';
COMMENT ON COLUMN metric_communication.review_comment_response_median_hours_upper IS 'Upper end of the 95% interval of review_comment_response_median_hours (see review_comment_response_median_hours_lower).';
COMMENT ON COLUMN metric_communication.is_enough_data_review_comment_response_median_hours IS 'At least the configured minimum (default 5) of values behind review_comment_response_median_hours (answered ones); review_comment_response_median_hours is NULL below it.';
