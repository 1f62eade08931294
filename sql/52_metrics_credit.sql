-- Credit-sharing, ownership and help-seeking. Written by pipeline/metrics/credit_sharing.py,
-- ownership.py and help_seeking.py on every metrics run (rows replaced whole).
-- Every metric_* row is one subject and period: a person (contributor_id set, team_id NULL) or a team
-- (contributor_id NULL, team_id 'repo:<owner/name>' or 'all'); period_type week (ISO week, Monday
-- start), month, or window (the trailing window ending at as_of). Dates are in the configured time
-- zone; events after as_of are left out. A subject and period with no event has no row (read: zero).
-- No score, no rank: counts stay counts; every rate r has r, r_numerator, r_denominator, r_lower,
-- r_upper and is_enough_data_r (sql/50_metrics_follow.sql says how team rows pool their people and
-- how each interval is made) and is NULL below the minimum n; every row lists its evidence keys.
-- Bots get no rows (unless include_bots is configured).

CREATE TABLE IF NOT EXISTS fct_credits (
    credit_key VARCHAR NOT NULL,
    repo VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    giver_contributor_id VARCHAR NOT NULL,
    receiver_contributor_id VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    evidence_key VARCHAR NOT NULL
);
COMMENT ON TABLE fct_credits IS 'The who-credits-whom edge list: one row per credit event, as of the metrics run''s as_of. A credit trailer in a reachable commit (the author gives credit to the person named), or a submitted review of someone else''s pull request (the reviewer gives help to its author). Signed-off-by is not credit (it certifies the DCO and records who handled a patch). No self-credit: a giver equal to the receiver (same contributor, through any of their identities) gives no row, nor does a review of one''s own pull request. Bots neither give nor receive credit here, except that a human''s review of a bot''s pull request is kept with a NULL receiver. A person named twice in one commit under the same trailer is credited once. Key: credit_key.';
COMMENT ON COLUMN fct_credits.credit_key IS 'Deterministic key: git:trailer:<repo>@<sha>#<trailer_index> (fct_commit_trailers) or github:review:<owner/name>#<pr>/<review_id> (fct_reviews.review_key).';
COMMENT ON COLUMN fct_credits.repo IS 'Repository key.';
COMMENT ON COLUMN fct_credits.kind IS 'The trailer in lower case (co-authored-by; reviewed-by, acked-by, tested-by = review credit; reported-by, suggested-by, helped-by = other credit), or review for a review given on another''s pull request.';
COMMENT ON COLUMN fct_credits.giver_contributor_id IS 'Who gives: for a trailer the commit author who wrote it; for a review the reviewer (who helped).';
COMMENT ON COLUMN fct_credits.receiver_contributor_id IS 'Who receives: for a trailer the person named (who helped); for a review the pull request''s author (who was helped), NULL when that author is a bot or a deleted account.';
COMMENT ON COLUMN fct_credits.occurred_at IS 'When (UTC): the commit''s author time, or the review''s submitted_at.';
COMMENT ON COLUMN fct_credits.evidence_key IS 'What shows it: git:commit:<repo>@<sha> for a trailer, the review_key for a review.';

CREATE TABLE IF NOT EXISTS metric_credit_sharing (
    contributor_id VARCHAR,
    team_id VARCHAR,
    period_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    count_coauthor_credits_given BIGINT NOT NULL,
    count_coauthor_credits_received BIGINT NOT NULL,
    count_review_credits_given BIGINT NOT NULL,
    count_review_credits_received BIGINT NOT NULL,
    count_other_trailer_credits_given BIGINT NOT NULL,
    count_other_trailer_credits_received BIGINT NOT NULL,
    count_reviews_given_on_others_prs BIGINT NOT NULL,
    count_reviews_received_on_own_prs BIGINT NOT NULL,
    count_distinct_people_credited BIGINT NOT NULL,
    count_distinct_people_helped BIGINT NOT NULL,
    count_credit_events BIGINT NOT NULL,
    evidence_keys VARCHAR[] NOT NULL
);
COMMENT ON TABLE metric_credit_sharing IS 'Credit-sharing per subject and period, from fct_credits (each credit dated by fct_credits.occurred_at). Counts, no rates: how much credit a person gives and receives is shown, not judged. Team rows are totals over the team''s credit events (a credit between two members counts once as given and once as received); their distinct counts are distinct people across the team.';
COMMENT ON COLUMN metric_credit_sharing.contributor_id IS 'The person (dim_contributors); NULL on team rows.';
COMMENT ON COLUMN metric_credit_sharing.team_id IS 'repo:<owner/name> or all; NULL on person rows.';
COMMENT ON COLUMN metric_credit_sharing.period_type IS 'week, month or window.';
COMMENT ON COLUMN metric_credit_sharing.period_start IS 'First day of the period.';
COMMENT ON COLUMN metric_credit_sharing.period_end IS 'Last day of the period (for window: the as_of date).';
COMMENT ON COLUMN metric_credit_sharing.count_coauthor_credits_given IS 'Co-authored-by trailers naming someone else in one''s own commits.';
COMMENT ON COLUMN metric_credit_sharing.count_coauthor_credits_received IS 'Co-authored-by trailers naming this person in someone else''s commits.';
COMMENT ON COLUMN metric_credit_sharing.count_review_credits_given IS 'Reviewed-by, Acked-by and Tested-by trailers naming someone else in one''s own commits.';
COMMENT ON COLUMN metric_credit_sharing.count_review_credits_received IS 'Reviewed-by, Acked-by and Tested-by trailers naming this person in someone else''s commits.';
COMMENT ON COLUMN metric_credit_sharing.count_other_trailer_credits_given IS 'Reported-by, Suggested-by and Helped-by trailers naming someone else in one''s own commits.';
COMMENT ON COLUMN metric_credit_sharing.count_other_trailer_credits_received IS 'Reported-by, Suggested-by and Helped-by trailers naming this person in someone else''s commits.';
COMMENT ON COLUMN metric_credit_sharing.count_reviews_given_on_others_prs IS 'Submitted reviews (any state but pending) on pull requests by someone else, a bot''s included.';
COMMENT ON COLUMN metric_credit_sharing.count_reviews_received_on_own_prs IS 'Submitted reviews by someone else on this person''s pull requests.';
COMMENT ON COLUMN metric_credit_sharing.count_distinct_people_credited IS 'Distinct people named in the credit trailers one gave.';
COMMENT ON COLUMN metric_credit_sharing.count_distinct_people_helped IS 'Distinct people one helped: authors of the pull requests one reviewed, and commit authors who named one in a credit trailer (bots excluded).';
COMMENT ON COLUMN metric_credit_sharing.count_credit_events IS 'Credit events behind the row (given or received): the n, and the length of evidence_keys.';
COMMENT ON COLUMN metric_credit_sharing.evidence_keys IS 'The fct_credits.credit_key of every credit behind the row, sorted.';

CREATE TABLE IF NOT EXISTS metric_ownership (
    contributor_id VARCHAR,
    team_id VARCHAR,
    period_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    count_commits BIGINT NOT NULL,
    count_self_reverts BIGINT NOT NULL,
    count_reverted_by_others BIGINT NOT NULL,
    count_fixups BIGINT NOT NULL,
    evidence_keys VARCHAR[] NOT NULL,
    note VARCHAR NOT NULL
);
COMMENT ON TABLE metric_ownership IS 'Ownership (admitting mistakes) per subject and period: self-reverts and fix-ups of one''s own work, as counts. Higher is not worse: reverting or fixing one''s own work openly is the practice shown, so there is no rate and nothing to minimise. Reachable, non-merge commits only, dated by author time.';
COMMENT ON COLUMN metric_ownership.contributor_id IS 'The person (dim_contributors); NULL on team rows.';
COMMENT ON COLUMN metric_ownership.team_id IS 'repo:<owner/name> or all; NULL on person rows.';
COMMENT ON COLUMN metric_ownership.period_type IS 'week, month or window.';
COMMENT ON COLUMN metric_ownership.period_start IS 'First day of the period.';
COMMENT ON COLUMN metric_ownership.period_end IS 'Last day of the period (for window: the as_of date).';
COMMENT ON COLUMN metric_ownership.count_commits IS 'Reachable non-merge commits authored: the context (n) for the counts beside it.';
COMMENT ON COLUMN metric_ownership.count_self_reverts IS 'Reverts ("This reverts commit <sha>") of one''s own commits, made by oneself, on the revert''s date. A revert whose target is not loaded or is ambiguous is no one''s.';
COMMENT ON COLUMN metric_ownership.count_reverted_by_others IS 'One''s commits reverted by someone else (a bot included), counted for the reverted commit''s author on the revert''s date. Context, not an admission.';
COMMENT ON COLUMN metric_ownership.count_fixups IS 'Fix-ups of one''s own work (each commit once; not reverts): (a) subject fixup!/squash!/amend! S where one authored a commit with subject S in the same repository in the 14 days before; (b) a "Fixes: <commit id>" line, or a subject starting with the word fix (Fix, Fixes, Fixed, fix:, fix(scope):) whose message names a commit id, resolving to one''s own earlier commit (any age); (c) a subject starting with the word fix that changes a file whose previous change in the repository was one''s own, within the 14 days before.';
COMMENT ON COLUMN metric_ownership.evidence_keys IS 'git:commit:<repo>@<sha> of the self-reverts, fix-ups and reverts by others behind the row, sorted (plain commits behind count_commits are not listed).';
COMMENT ON COLUMN metric_ownership.note IS 'How to read the row: counts, not rates; higher is not worse; a conversation starter about performance trust, not a verdict on a person.';

CREATE TABLE IF NOT EXISTS metric_help_seeking (
    contributor_id VARCHAR,
    team_id VARCHAR,
    period_type VARCHAR NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    count_prs_opened BIGINT NOT NULL,
    count_prs_with_review_requested BIGINT NOT NULL,
    count_reviews_requested BIGINT NOT NULL,
    count_draft_prs_opened_early BIGINT NOT NULL,
    count_commits_authored BIGINT NOT NULL,
    count_coauthored_commits BIGINT NOT NULL,
    review_request_rate DOUBLE,
    review_request_rate_numerator BIGINT NOT NULL,
    review_request_rate_denominator BIGINT NOT NULL,
    review_request_rate_lower DOUBLE,
    review_request_rate_upper DOUBLE,
    is_enough_data_review_request_rate BOOLEAN NOT NULL,
    draft_early_rate DOUBLE,
    draft_early_rate_numerator BIGINT NOT NULL,
    draft_early_rate_denominator BIGINT NOT NULL,
    draft_early_rate_lower DOUBLE,
    draft_early_rate_upper DOUBLE,
    is_enough_data_draft_early_rate BOOLEAN NOT NULL,
    coauthored_commit_rate DOUBLE,
    coauthored_commit_rate_numerator BIGINT NOT NULL,
    coauthored_commit_rate_denominator BIGINT NOT NULL,
    coauthored_commit_rate_lower DOUBLE,
    coauthored_commit_rate_upper DOUBLE,
    is_enough_data_coauthored_commit_rate BOOLEAN NOT NULL,
    evidence_keys VARCHAR[] NOT NULL
);
COMMENT ON TABLE metric_help_seeking IS 'Help-seeking per subject and period: reviews asked for, pull requests opened as drafts, co-authored commits. Pull requests count in the period they were opened, review requests on their date, commits on their author date. Team rows are totals.';
COMMENT ON COLUMN metric_help_seeking.contributor_id IS 'The person (dim_contributors); NULL on team rows.';
COMMENT ON COLUMN metric_help_seeking.team_id IS 'repo:<owner/name> or all; NULL on person rows.';
COMMENT ON COLUMN metric_help_seeking.period_type IS 'week, month or window.';
COMMENT ON COLUMN metric_help_seeking.period_start IS 'First day of the period.';
COMMENT ON COLUMN metric_help_seeking.period_end IS 'Last day of the period (for window: the as_of date).';
COMMENT ON COLUMN metric_help_seeking.count_prs_opened IS 'Pull requests opened.';
COMMENT ON COLUMN metric_help_seeking.count_prs_with_review_requested IS 'Of those, the ones whose author asked for a review (review_requested by the author, at any time up to as_of).';
COMMENT ON COLUMN metric_help_seeking.count_reviews_requested IS 'review_requested events made by a pull request''s own author (a person or a team asked), on their date. GitHub records CODEOWNERS requests as made by the author, so they count too.';
COMMENT ON COLUMN metric_help_seeking.count_draft_prs_opened_early IS 'Pull requests opened as drafts: the first ready_for_review / convert_to_draft event is ready_for_review, or there is neither and the pull request is a draft now.';
COMMENT ON COLUMN metric_help_seeking.count_commits_authored IS 'Reachable non-merge commits authored.';
COMMENT ON COLUMN metric_help_seeking.count_coauthored_commits IS 'Of those, the ones naming at least one other person in a Co-authored-by trailer (fct_credits: bots and oneself do not count).';
COMMENT ON COLUMN metric_help_seeking.review_request_rate IS 'Share of pull requests opened whose author asked for a review; NULL below the minimum n.';
COMMENT ON COLUMN metric_help_seeking.review_request_rate_numerator IS 'count_prs_with_review_requested.';
COMMENT ON COLUMN metric_help_seeking.review_request_rate_denominator IS 'count_prs_opened: the n.';
COMMENT ON COLUMN metric_help_seeking.review_request_rate_lower IS 'Lower end of the 95% interval of review_request_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_help_seeking.review_request_rate_upper IS 'Upper end of the 95% interval of review_request_rate (see review_request_rate_lower).';
COMMENT ON COLUMN metric_help_seeking.is_enough_data_review_request_rate IS 'n reaches the configured minimum; otherwise a report says "not enough data".';
COMMENT ON COLUMN metric_help_seeking.draft_early_rate IS 'Share of pull requests opened as drafts; NULL below the minimum n.';
COMMENT ON COLUMN metric_help_seeking.draft_early_rate_numerator IS 'count_draft_prs_opened_early.';
COMMENT ON COLUMN metric_help_seeking.draft_early_rate_denominator IS 'count_prs_opened: the n.';
COMMENT ON COLUMN metric_help_seeking.draft_early_rate_lower IS 'Lower end of the 95% interval of draft_early_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_help_seeking.draft_early_rate_upper IS 'Upper end of the 95% interval of draft_early_rate (see draft_early_rate_lower).';
COMMENT ON COLUMN metric_help_seeking.is_enough_data_draft_early_rate IS 'n reaches the configured minimum; otherwise a report says "not enough data".';
COMMENT ON COLUMN metric_help_seeking.coauthored_commit_rate IS 'Share of commits authored that are co-authored; NULL below the minimum n.';
COMMENT ON COLUMN metric_help_seeking.coauthored_commit_rate_numerator IS 'count_coauthored_commits.';
COMMENT ON COLUMN metric_help_seeking.coauthored_commit_rate_denominator IS 'count_commits_authored: the n.';
COMMENT ON COLUMN metric_help_seeking.coauthored_commit_rate_lower IS 'Lower end of the 95% interval of coauthored_commit_rate. Person rows: Wilson score interval, which takes the cases as independent trials. Team rows: the pooled rate''s interval over people (cases of one person are not independent): delete-one-person jackknife, logit scale, Student t with Satterthwaite degrees of freedom; NULL with fewer than 2 people. NULL when the denominator is 0.';
COMMENT ON COLUMN metric_help_seeking.coauthored_commit_rate_upper IS 'Upper end of the 95% interval of coauthored_commit_rate (see coauthored_commit_rate_lower).';
COMMENT ON COLUMN metric_help_seeking.is_enough_data_coauthored_commit_rate IS 'n reaches the configured minimum; otherwise a report says "not enough data".';
COMMENT ON COLUMN metric_help_seeking.evidence_keys IS 'Keys behind the row, sorted: github:pr:... of the pull requests opened, github:review_request:... of the requests, git:commit:<repo>@<sha> of the co-authored commits (plain commits behind count_commits_authored are not listed).';
