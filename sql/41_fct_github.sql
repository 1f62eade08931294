-- fct_*: GitHub facts users query. Keys follow github:<kind>:<owner/name>#<number>.

CREATE OR REPLACE VIEW fct_milestones AS
SELECT repo, number, 'github:milestone:' || repo || '#' || number AS milestone_key, milestone_id, title, state,
       due_on, due_date, created_at, closed_at, deleted_at IS NOT NULL AS is_deleted, html_url
FROM stg_github__milestones;
COMMENT ON VIEW fct_milestones IS 'One row per milestone. A milestone''s due date (due_date) is the date part of due_on in UTC.';
COMMENT ON COLUMN fct_milestones.repo IS 'Repository key.';
COMMENT ON COLUMN fct_milestones.number IS 'Milestone number.';
COMMENT ON COLUMN fct_milestones.milestone_key IS 'Deterministic key github:milestone:owner/name#number.';
COMMENT ON COLUMN fct_milestones.milestone_id IS 'GitHub id.';
COMMENT ON COLUMN fct_milestones.title IS 'Title.';
COMMENT ON COLUMN fct_milestones.state IS 'open or closed.';
COMMENT ON COLUMN fct_milestones.due_on IS 'due_on as GitHub stores it (UTC).';
COMMENT ON COLUMN fct_milestones.due_date IS 'Due date (date part of due_on in UTC); NULL when there is none.';
COMMENT ON COLUMN fct_milestones.created_at IS 'Created (UTC).';
COMMENT ON COLUMN fct_milestones.closed_at IS 'Closed (UTC).';
COMMENT ON COLUMN fct_milestones.is_deleted IS 'GitHub no longer has it.';
COMMENT ON COLUMN fct_milestones.html_url IS 'Link on GitHub.';

CREATE OR REPLACE VIEW fct_due_date_observations AS
SELECT repo, milestone_number, due_on, CAST(due_on AS DATE) AS due_date, first_observed_at, last_observed_at,
       first_run_id, last_run_id, 'milestone' AS due_source, CAST(NULL AS INTEGER) AS number,
       CAST(NULL AS VARCHAR) AS project_owner, CAST(NULL AS INTEGER) AS project_number,
       CAST(NULL AS VARCHAR) AS project_title, CAST(NULL AS VARCHAR) AS field_name,
       CAST(NULL AS VARCHAR) AS iteration_title
FROM raw_github__due_date_observations
UNION ALL
SELECT repo, NULL, NULL, due_date, first_observed_at, last_observed_at, first_run_id, last_run_id, due_source,
       number, project_owner, project_number, project_title, field_name, iteration_title
FROM raw_github__project_due_observations;
COMMENT ON VIEW fct_due_date_observations IS 'Every due date candidate as seen run after run, one row per stretch of runs that saw the same value: milestones (due_source milestone: one per milestone) and GitHub Projects values (project_date, project_iteration: one per item, project and field). A due date moved after it passed shows as a new row whose first_observed_at is later than the old due_date.';
COMMENT ON COLUMN fct_due_date_observations.repo IS 'Repository key.';
COMMENT ON COLUMN fct_due_date_observations.milestone_number IS 'Milestone number (milestone rows).';
COMMENT ON COLUMN fct_due_date_observations.due_on IS 'due_on seen (UTC; NULL = no due date; milestone rows).';
COMMENT ON COLUMN fct_due_date_observations.due_date IS 'The due date seen: the date part of due_on (UTC), a project date field''s value, or an iteration''s last day (start + duration - 1); NULL = none.';
COMMENT ON COLUMN fct_due_date_observations.first_observed_at IS 'First run that saw it (UTC).';
COMMENT ON COLUMN fct_due_date_observations.last_observed_at IS 'Latest run that saw it (UTC).';
COMMENT ON COLUMN fct_due_date_observations.first_run_id IS 'First run that saw it.';
COMMENT ON COLUMN fct_due_date_observations.last_run_id IS 'Latest run that saw it.';
COMMENT ON COLUMN fct_due_date_observations.due_source IS 'milestone, project_date (a GitHub Projects date field named in [github].due_date_fields) or project_iteration (an iteration field).';
COMMENT ON COLUMN fct_due_date_observations.number IS 'Issue or pull request number (project rows; a milestone''s items: fct_issues.milestone_number).';
COMMENT ON COLUMN fct_due_date_observations.project_owner IS 'Login of the project''s owner (project rows).';
COMMENT ON COLUMN fct_due_date_observations.project_number IS 'Project number, per owner (project rows).';
COMMENT ON COLUMN fct_due_date_observations.project_title IS 'Project title (project rows).';
COMMENT ON COLUMN fct_due_date_observations.field_name IS 'The date or iteration field (project rows).';
COMMENT ON COLUMN fct_due_date_observations.iteration_title IS 'The iteration (project_iteration rows).';

-- SPEC precedence of an item's due date: a GitHub Projects date field, else an iteration's last day,
-- else the milestone's due date. Several project candidates of one kind (two projects, or two due
-- fields on one project): the lowest project number wins, then the owner's login, then the field
-- name (alphabetical), then the project's node id. Each candidate is taken as known at as_of: the
-- latest observation made by then, else the earliest one (as milestones are).
CREATE OR REPLACE MACRO perftrust_project_due_at(as_of) AS TABLE
WITH known AS (
    SELECT *, row_number() OVER (
                  PARTITION BY repo, number, project_id, field_name
                  ORDER BY (first_observed_at <= as_of) DESC,
                           CASE WHEN first_observed_at <= as_of THEN first_observed_at END DESC,
                           first_observed_at) AS pick
    FROM raw_github__project_due_observations
), ranked AS (
    SELECT *, row_number() OVER (
                  PARTITION BY repo, number
                  ORDER BY CASE due_source WHEN 'project_date' THEN 1 ELSE 2 END, project_number,
                           project_owner, field_name, project_id) AS due_rank
    FROM known WHERE pick = 1 AND due_date IS NOT NULL
)
SELECT repo, number, due_date, due_source, project_owner AS due_project_owner,
       project_number AS due_project_number, project_title AS due_project_title, field_name AS due_field_name,
       iteration_title AS due_iteration_title,
       CASE due_source WHEN 'project_date' THEN 'Project "' || project_title || '", field "' || field_name || '"'
            ELSE 'Project "' || project_title || '", iteration "' || iteration_title || '" of field "'
                 || field_name || '"' END AS due_evidence
FROM ranked WHERE due_rank = 1;

CREATE OR REPLACE VIEW fct_item_due_dates AS
WITH items AS (
    SELECT repo, number, is_pull_request, milestone_number FROM stg_github__issues WHERE gone_reason IS NULL
), project AS (
    SELECT * FROM perftrust_project_due_at(TIMESTAMP '9999-12-31')
)
SELECT
    i.repo,
    i.number,
    CASE WHEN i.is_pull_request THEN 'github:pr:' ELSE 'github:issue:' END || i.repo || '#' || i.number AS item_key,
    coalesce(p.due_date, m.due_date) AS due_date,
    CASE WHEN p.due_date IS NOT NULL THEN p.due_source WHEN m.due_date IS NOT NULL THEN 'milestone' END AS due_source,
    p.due_project_owner,
    p.due_project_number,
    p.due_project_title,
    p.due_field_name,
    p.due_iteration_title,
    i.milestone_number,
    m.due_date AS milestone_due_date,
    CASE WHEN p.due_date IS NOT NULL THEN p.due_evidence
         WHEN m.due_date IS NOT NULL THEN 'Milestone "' || m.title || '"' END AS due_evidence
FROM items i
LEFT JOIN project p ON p.repo = i.repo AND p.number = i.number
LEFT JOIN stg_github__milestones m ON m.repo = i.repo AND m.number = i.milestone_number
WHERE p.due_date IS NOT NULL OR m.due_date IS NOT NULL;
COMMENT ON VIEW fct_item_due_dates IS 'The due date of each issue and pull request that has one, as last synced, by SPEC''s precedence: a GitHub Projects date field, else an iteration''s last day, else the milestone''s due date; between projects the lowest project number, then owner login, then field name. fct_commitments applies the same rule as of its as_of.';
COMMENT ON COLUMN fct_item_due_dates.repo IS 'Repository key.';
COMMENT ON COLUMN fct_item_due_dates.number IS 'Issue or pull request number.';
COMMENT ON COLUMN fct_item_due_dates.item_key IS 'fct_issues.issue_key or fct_pull_requests.pull_request_key.';
COMMENT ON COLUMN fct_item_due_dates.due_date IS 'The due date.';
COMMENT ON COLUMN fct_item_due_dates.due_source IS 'project_date, project_iteration or milestone.';
COMMENT ON COLUMN fct_item_due_dates.due_project_owner IS 'Owner login of the project it came from (project sources).';
COMMENT ON COLUMN fct_item_due_dates.due_project_number IS 'Number of that project.';
COMMENT ON COLUMN fct_item_due_dates.due_project_title IS 'Title of that project.';
COMMENT ON COLUMN fct_item_due_dates.due_field_name IS 'The date or iteration field it came from.';
COMMENT ON COLUMN fct_item_due_dates.due_iteration_title IS 'The iteration (project_iteration).';
COMMENT ON COLUMN fct_item_due_dates.milestone_number IS 'The item''s current milestone.';
COMMENT ON COLUMN fct_item_due_dates.milestone_due_date IS 'That milestone''s due date (kept visible when a project date wins).';
COMMENT ON COLUMN fct_item_due_dates.due_evidence IS 'Where the due date came from, for reports: Project "Roadmap", field "Target date" / Project "Roadmap", iteration "Sprint 4" of field "Sprint" / Milestone "v1.2".';

CREATE OR REPLACE VIEW fct_issues AS
SELECT
    i.repo,
    i.number,
    'github:issue:' || i.repo || '#' || i.number AS issue_key,
    i.title,
    i.state,
    i.state_reason,
    i.author_login,
    i.author_type = 'Bot' AS is_author_bot,
    i.assignee_logins,
    i.label_names,
    i.milestone_number,
    m.due_date AS milestone_due_date,
    i.created_at,
    i.updated_at,
    i.closed_at,
    i.count_comments,
    i.gone_reason,
    i.html_url
FROM stg_github__issues i
LEFT JOIN stg_github__milestones m ON m.repo = i.repo AND m.number = i.milestone_number
WHERE NOT i.is_pull_request;
COMMENT ON VIEW fct_issues IS 'One row per issue (pull requests, which GitHub also lists as issues, are in fct_pull_requests). Key: issue_key.';
COMMENT ON COLUMN fct_issues.repo IS 'Repository key.';
COMMENT ON COLUMN fct_issues.number IS 'Issue number.';
COMMENT ON COLUMN fct_issues.issue_key IS 'Deterministic key github:issue:owner/name#number.';
COMMENT ON COLUMN fct_issues.title IS 'Title.';
COMMENT ON COLUMN fct_issues.state IS 'open or closed.';
COMMENT ON COLUMN fct_issues.state_reason IS 'completed, not_planned, reopened, duplicate or NULL.';
COMMENT ON COLUMN fct_issues.author_login IS 'Author (NULL for a ghost).';
COMMENT ON COLUMN fct_issues.is_author_bot IS 'The author is a GitHub bot account.';
COMMENT ON COLUMN fct_issues.assignee_logins IS 'Current assignees (history: fct timeline events assigned/unassigned).';
COMMENT ON COLUMN fct_issues.label_names IS 'Current labels.';
COMMENT ON COLUMN fct_issues.milestone_number IS 'Current milestone.';
COMMENT ON COLUMN fct_issues.milestone_due_date IS 'Its due date (UTC date part of due_on).';
COMMENT ON COLUMN fct_issues.created_at IS 'Created (UTC).';
COMMENT ON COLUMN fct_issues.updated_at IS 'Last updated (UTC).';
COMMENT ON COLUMN fct_issues.closed_at IS 'Last closed (UTC).';
COMMENT ON COLUMN fct_issues.count_comments IS 'Comments.';
COMMENT ON COLUMN fct_issues.gone_reason IS 'transferred:owner/name or deleted when it left the repository.';
COMMENT ON COLUMN fct_issues.html_url IS 'Link on GitHub.';

CREATE OR REPLACE VIEW fct_pull_requests AS
WITH merged_by AS (
    SELECT repo, issue_number, arg_max(actor_login, created_at) AS merged_by_login
    FROM stg_github__timeline_events WHERE event = 'merged' GROUP BY ALL
)
SELECT
    p.repo,
    p.number,
    'github:pr:' || p.repo || '#' || p.number AS pull_request_key,
    p.title,
    p.state,
    p.is_draft,
    p.merged_at IS NOT NULL AS is_merged,
    p.author_login,
    p.author_type = 'Bot' AS is_author_bot,
    i.assignee_logins,
    i.label_names,
    i.milestone_number,
    m.due_date AS milestone_due_date,
    p.requested_reviewer_logins,
    p.created_at,
    p.updated_at,
    p.closed_at,
    p.merged_at,
    mb.merged_by_login,
    p.merge_commit_sha,
    p.base_ref,
    p.head_ref,
    p.head_repo_full_name,
    length(coalesce(trim(p.body), '')) AS body_length,
    p.html_url
FROM stg_github__pull_requests p
LEFT JOIN stg_github__issues i ON i.repo = p.repo AND i.number = p.number
LEFT JOIN stg_github__milestones m ON m.repo = i.repo AND m.number = i.milestone_number
LEFT JOIN merged_by mb ON mb.repo = p.repo AND mb.issue_number = p.number;
COMMENT ON VIEW fct_pull_requests IS 'One row per pull request. Key: pull_request_key.';
COMMENT ON COLUMN fct_pull_requests.repo IS 'Repository key.';
COMMENT ON COLUMN fct_pull_requests.number IS 'Pull request number.';
COMMENT ON COLUMN fct_pull_requests.pull_request_key IS 'Deterministic key github:pr:owner/name#number.';
COMMENT ON COLUMN fct_pull_requests.title IS 'Title.';
COMMENT ON COLUMN fct_pull_requests.state IS 'open or closed.';
COMMENT ON COLUMN fct_pull_requests.is_draft IS 'Currently a draft.';
COMMENT ON COLUMN fct_pull_requests.is_merged IS 'Merged.';
COMMENT ON COLUMN fct_pull_requests.author_login IS 'Author (NULL for a ghost).';
COMMENT ON COLUMN fct_pull_requests.is_author_bot IS 'The author is a GitHub bot account.';
COMMENT ON COLUMN fct_pull_requests.assignee_logins IS 'Current assignees.';
COMMENT ON COLUMN fct_pull_requests.label_names IS 'Current labels.';
COMMENT ON COLUMN fct_pull_requests.milestone_number IS 'Current milestone.';
COMMENT ON COLUMN fct_pull_requests.milestone_due_date IS 'Its due date.';
COMMENT ON COLUMN fct_pull_requests.requested_reviewer_logins IS 'Reviewers requested and not yet answered (history: fct_review_requests).';
COMMENT ON COLUMN fct_pull_requests.created_at IS 'Opened (UTC).';
COMMENT ON COLUMN fct_pull_requests.updated_at IS 'Last updated (UTC).';
COMMENT ON COLUMN fct_pull_requests.closed_at IS 'Closed (UTC).';
COMMENT ON COLUMN fct_pull_requests.merged_at IS 'Merged (UTC).';
COMMENT ON COLUMN fct_pull_requests.merged_by_login IS 'Who merged it (from the merged timeline event).';
COMMENT ON COLUMN fct_pull_requests.merge_commit_sha IS 'Merge or squash commit (joins fct_commits.sha).';
COMMENT ON COLUMN fct_pull_requests.base_ref IS 'Target branch.';
COMMENT ON COLUMN fct_pull_requests.head_ref IS 'Source branch.';
COMMENT ON COLUMN fct_pull_requests.head_repo_full_name IS 'Repository of the source branch; NULL when the fork was deleted.';
COMMENT ON COLUMN fct_pull_requests.body_length IS 'Characters in the description (trimmed).';
COMMENT ON COLUMN fct_pull_requests.html_url IS 'Link on GitHub.';

CREATE OR REPLACE VIEW fct_reviews AS
SELECT
    v.repo,
    v.pull_number,
    v.review_id,
    'github:review:' || v.repo || '#' || v.pull_number || '/' || v.review_id AS review_key,
    v.reviewer_login,
    v.reviewer_type = 'Bot' AS is_reviewer_bot,
    v.state,
    v.submitted_at,
    p.author_login AS pull_request_author_login,
    v.reviewer_login IS NOT DISTINCT FROM p.author_login AS is_own_pull_request,
    v.html_url
FROM stg_github__reviews v
LEFT JOIN stg_github__pull_requests p ON p.repo = v.repo AND p.number = v.pull_number;
COMMENT ON VIEW fct_reviews IS 'One row per pull request review. Key: review_key.';
COMMENT ON COLUMN fct_reviews.repo IS 'Repository key.';
COMMENT ON COLUMN fct_reviews.pull_number IS 'Pull request number.';
COMMENT ON COLUMN fct_reviews.review_id IS 'GitHub review id.';
COMMENT ON COLUMN fct_reviews.review_key IS 'Deterministic key github:review:owner/name#pr/review_id.';
COMMENT ON COLUMN fct_reviews.reviewer_login IS 'Reviewer (NULL for a ghost).';
COMMENT ON COLUMN fct_reviews.is_reviewer_bot IS 'The reviewer is a bot account.';
COMMENT ON COLUMN fct_reviews.state IS 'APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING.';
COMMENT ON COLUMN fct_reviews.submitted_at IS 'Submitted (UTC).';
COMMENT ON COLUMN fct_reviews.pull_request_author_login IS 'Author of the reviewed pull request.';
COMMENT ON COLUMN fct_reviews.is_own_pull_request IS 'The reviewer wrote the pull request (a reply, not a review of someone else''s work).';
COMMENT ON COLUMN fct_reviews.html_url IS 'Link on GitHub.';

-- SPEC: a review request is one review_requested event for a person. It is answered by that
-- person's first review (any state) after it; removed if review_request_removed came first;
-- otherwise unanswered, even if the pull request was merged or closed meanwhile.
CREATE OR REPLACE VIEW fct_review_requests AS
WITH requests AS (
    SELECT repo, issue_number AS pull_number, event_index, created_at AS requested_at,
           actor_login AS requested_by_login, requested_reviewer_login AS reviewer_login, requested_team_slug
    FROM stg_github__timeline_events
    WHERE event = 'review_requested'
), removals AS (
    SELECT r.repo, r.pull_number, r.event_index, min(e.created_at) AS removed_at
    FROM requests r
    JOIN stg_github__timeline_events e
        ON e.repo = r.repo AND e.issue_number = r.pull_number AND e.event = 'review_request_removed'
        AND e.requested_reviewer_login = r.reviewer_login AND e.event_index > r.event_index
    GROUP BY ALL
), answers AS (
    SELECT r.repo, r.pull_number, r.event_index, min(v.submitted_at) AS answered_at,
           arg_min(v.review_id, v.submitted_at) AS answer_review_id
    FROM requests r
    JOIN stg_github__reviews v
        ON v.repo = r.repo AND v.pull_number = r.pull_number AND v.reviewer_login = r.reviewer_login
        AND v.submitted_at >= r.requested_at
    GROUP BY ALL
)
SELECT
    r.repo,
    r.pull_number,
    r.event_index,
    'github:review_request:' || r.repo || '#' || r.pull_number || '/' || r.event_index AS review_request_key,
    r.reviewer_login,
    r.requested_team_slug,
    r.requested_by_login,
    r.requested_at,
    CASE WHEN a.answered_at IS NULL OR x.removed_at < a.answered_at THEN x.removed_at END AS removed_at,
    CASE WHEN x.removed_at IS NULL OR a.answered_at <= x.removed_at THEN a.answered_at END AS answered_at,
    CASE WHEN x.removed_at IS NULL OR a.answered_at <= x.removed_at THEN a.answer_review_id END AS answer_review_id,
    CASE
        WHEN r.reviewer_login IS NULL THEN 'team_request'
        WHEN a.answered_at IS NOT NULL AND (x.removed_at IS NULL OR a.answered_at <= x.removed_at) THEN 'answered'
        WHEN x.removed_at IS NOT NULL THEN 'removed'
        ELSE 'unanswered'
    END AS status,
    CASE WHEN x.removed_at IS NULL OR a.answered_at <= x.removed_at
         THEN date_diff('second', r.requested_at, a.answered_at) / 3600.0 END AS response_hours
FROM requests r
LEFT JOIN removals x USING (repo, pull_number, event_index)
LEFT JOIN answers a USING (repo, pull_number, event_index);
COMMENT ON VIEW fct_review_requests IS 'One row per review_requested event: when it was answered (the reviewer''s first review after it, any state), removed, or neither. Key: review_request_key.';
COMMENT ON COLUMN fct_review_requests.repo IS 'Repository key.';
COMMENT ON COLUMN fct_review_requests.pull_number IS 'Pull request number.';
COMMENT ON COLUMN fct_review_requests.event_index IS 'Position of the request in the timeline.';
COMMENT ON COLUMN fct_review_requests.review_request_key IS 'Deterministic key github:review_request:owner/name#pr/event_index.';
COMMENT ON COLUMN fct_review_requests.reviewer_login IS 'The person asked; NULL when a team was asked.';
COMMENT ON COLUMN fct_review_requests.requested_team_slug IS 'The team asked, for team requests.';
COMMENT ON COLUMN fct_review_requests.requested_by_login IS 'Who asked.';
COMMENT ON COLUMN fct_review_requests.requested_at IS 'When (UTC).';
COMMENT ON COLUMN fct_review_requests.removed_at IS 'When the request was withdrawn before any answer (UTC).';
COMMENT ON COLUMN fct_review_requests.answered_at IS 'The reviewer''s first review after the request, if before any removal (UTC).';
COMMENT ON COLUMN fct_review_requests.answer_review_id IS 'That review (fct_reviews.review_id).';
COMMENT ON COLUMN fct_review_requests.status IS 'answered, removed, unanswered or team_request.';
COMMENT ON COLUMN fct_review_requests.response_hours IS 'Hours from request to answer.';
