-- stg_github__*: GitHub payloads typed and renamed, one row per source entity, no joins.

-- ISO 8601 text from GitHub ('2024-05-01T07:00:00Z', offsets allowed) -> naive UTC timestamp.
CREATE OR REPLACE MACRO perftrust_utc(text) AS timezone('UTC', CAST(text AS TIMESTAMPTZ));
-- Text from repositories may carry NUL bytes (GitHub accepts them): strip them for safe display.
CREATE OR REPLACE MACRO perftrust_clean_text(text) AS replace(text, chr(0), '');

CREATE OR REPLACE VIEW stg_github__issues AS
SELECT
    repo,
    number,
    CAST(payload->>'$.id' AS BIGINT) AS issue_id,
    perftrust_clean_text(payload->>'$.title') AS title,
    perftrust_clean_text(payload->>'$.body') AS body,
    payload->>'$.state' AS state,
    payload->>'$.state_reason' AS state_reason,
    is_pull_request,
    payload->>'$.user.login' AS author_login,
    CAST(payload->>'$.user.id' AS BIGINT) AS author_user_id,
    payload->>'$.user.type' AS author_type,
    json_extract_string(payload, '$.assignees[*].login') AS assignee_logins,
    json_extract_string(payload, '$.labels[*].name') AS label_names,
    CAST(payload->>'$.milestone.number' AS INTEGER) AS milestone_number,
    perftrust_utc(payload->>'$.created_at') AS created_at,
    perftrust_utc(payload->>'$.updated_at') AS updated_at,
    perftrust_utc(payload->>'$.closed_at') AS closed_at,
    CAST(payload->>'$.comments' AS INTEGER) AS count_comments,
    payload->>'$.html_url' AS html_url,
    gone_reason,
    fetched_at,
    run_id
FROM raw_github__issues;
COMMENT ON VIEW stg_github__issues IS 'raw_github__issues typed: one row per issue or pull request (as an issue).';
COMMENT ON COLUMN stg_github__issues.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__issues.number IS 'Issue or pull request number.';
COMMENT ON COLUMN stg_github__issues.issue_id IS 'GitHub id of the issue.';
COMMENT ON COLUMN stg_github__issues.title IS 'Title (NUL bytes removed).';
COMMENT ON COLUMN stg_github__issues.body IS 'Body (NUL bytes removed).';
COMMENT ON COLUMN stg_github__issues.state IS 'open or closed.';
COMMENT ON COLUMN stg_github__issues.state_reason IS 'completed, not_planned, reopened, duplicate or NULL.';
COMMENT ON COLUMN stg_github__issues.is_pull_request IS 'A pull request seen through the issues API.';
COMMENT ON COLUMN stg_github__issues.author_login IS 'Login of the author; NULL for a deleted (ghost) account.';
COMMENT ON COLUMN stg_github__issues.author_user_id IS 'GitHub user id of the author.';
COMMENT ON COLUMN stg_github__issues.author_type IS 'User, Bot or Organization.';
COMMENT ON COLUMN stg_github__issues.assignee_logins IS 'Current assignees.';
COMMENT ON COLUMN stg_github__issues.label_names IS 'Current labels.';
COMMENT ON COLUMN stg_github__issues.milestone_number IS 'Current milestone (NULL if none).';
COMMENT ON COLUMN stg_github__issues.created_at IS 'Created (UTC).';
COMMENT ON COLUMN stg_github__issues.updated_at IS 'Last updated (UTC).';
COMMENT ON COLUMN stg_github__issues.closed_at IS 'Last closed (UTC); NULL while open.';
COMMENT ON COLUMN stg_github__issues.count_comments IS 'Number of comments.';
COMMENT ON COLUMN stg_github__issues.html_url IS 'Link to the item on GitHub.';
COMMENT ON COLUMN stg_github__issues.gone_reason IS 'transferred:owner/name or deleted when it left the repository.';
COMMENT ON COLUMN stg_github__issues.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__issues.run_id IS 'Run that fetched it.';

CREATE OR REPLACE VIEW stg_github__pull_requests AS
SELECT
    repo,
    number,
    CAST(payload->>'$.id' AS BIGINT) AS pull_request_id,
    perftrust_clean_text(payload->>'$.title') AS title,
    perftrust_clean_text(payload->>'$.body') AS body,
    payload->>'$.state' AS state,
    coalesce(CAST(payload->>'$.draft' AS BOOLEAN), false) AS is_draft,
    payload->>'$.user.login' AS author_login,
    payload->>'$.user.type' AS author_type,
    perftrust_utc(payload->>'$.created_at') AS created_at,
    perftrust_utc(payload->>'$.updated_at') AS updated_at,
    perftrust_utc(payload->>'$.closed_at') AS closed_at,
    perftrust_utc(payload->>'$.merged_at') AS merged_at,
    payload->>'$.merge_commit_sha' AS merge_commit_sha,
    payload->>'$.base.ref' AS base_ref,
    payload->>'$.head.ref' AS head_ref,
    payload->>'$.head.sha' AS head_sha,
    payload->>'$.head.repo.full_name' AS head_repo_full_name,
    json_extract_string(payload, '$.requested_reviewers[*].login') AS requested_reviewer_logins,
    payload->>'$.html_url' AS html_url,
    fetched_at,
    run_id
FROM raw_github__pull_requests;
COMMENT ON VIEW stg_github__pull_requests IS 'raw_github__pull_requests typed: one row per pull request.';
COMMENT ON COLUMN stg_github__pull_requests.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__pull_requests.number IS 'Pull request number.';
COMMENT ON COLUMN stg_github__pull_requests.pull_request_id IS 'GitHub id of the pull request.';
COMMENT ON COLUMN stg_github__pull_requests.title IS 'Title.';
COMMENT ON COLUMN stg_github__pull_requests.body IS 'Description.';
COMMENT ON COLUMN stg_github__pull_requests.state IS 'open or closed.';
COMMENT ON COLUMN stg_github__pull_requests.is_draft IS 'Currently a draft.';
COMMENT ON COLUMN stg_github__pull_requests.author_login IS 'Author login (NULL for a ghost).';
COMMENT ON COLUMN stg_github__pull_requests.author_type IS 'User or Bot.';
COMMENT ON COLUMN stg_github__pull_requests.created_at IS 'Opened (UTC).';
COMMENT ON COLUMN stg_github__pull_requests.updated_at IS 'Last updated (UTC).';
COMMENT ON COLUMN stg_github__pull_requests.closed_at IS 'Closed (UTC).';
COMMENT ON COLUMN stg_github__pull_requests.merged_at IS 'Merged (UTC); NULL if not merged.';
COMMENT ON COLUMN stg_github__pull_requests.merge_commit_sha IS 'The merge (or squash) commit.';
COMMENT ON COLUMN stg_github__pull_requests.base_ref IS 'Target branch.';
COMMENT ON COLUMN stg_github__pull_requests.head_ref IS 'Source branch.';
COMMENT ON COLUMN stg_github__pull_requests.head_sha IS 'Head commit.';
COMMENT ON COLUMN stg_github__pull_requests.head_repo_full_name IS 'Repository of the source branch; NULL when that fork was deleted.';
COMMENT ON COLUMN stg_github__pull_requests.requested_reviewer_logins IS 'Reviewers requested and not yet answered.';
COMMENT ON COLUMN stg_github__pull_requests.html_url IS 'Link on GitHub.';
COMMENT ON COLUMN stg_github__pull_requests.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__pull_requests.run_id IS 'Run that fetched it.';

CREATE OR REPLACE VIEW stg_github__timeline_events AS
SELECT
    repo,
    issue_number,
    event_index,
    event,
    CAST(payload->>'$.id' AS BIGINT) AS event_id,
    coalesce(payload->>'$.actor.login', payload->>'$.user.login') AS actor_login,
    perftrust_utc(coalesce(payload->>'$.created_at', payload->>'$.submitted_at')) AS created_at,
    payload->>'$.assignee.login' AS assignee_login,
    payload->>'$.requested_reviewer.login' AS requested_reviewer_login,
    payload->>'$.requested_team.slug' AS requested_team_slug,
    payload->>'$.milestone.title' AS milestone_title,
    payload->>'$.rename.from' AS renamed_from,
    payload->>'$.rename.to' AS renamed_to,
    payload->>'$.state' AS review_state,
    payload->>'$.state_reason' AS state_reason,
    payload->>'$.source.issue.repository.full_name' AS source_repo_full_name,
    CAST(payload->>'$.source.issue.number' AS INTEGER) AS source_issue_number,
    payload->>'$.commit_id' AS commit_sha,
    perftrust_clean_text(payload->>'$.body') AS body,
    fetched_at,
    run_id
FROM raw_github__timeline_events;
COMMENT ON VIEW stg_github__timeline_events IS 'raw_github__timeline_events typed: one row per timeline event of an issue or pull request.';
COMMENT ON COLUMN stg_github__timeline_events.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__timeline_events.issue_number IS 'Issue or pull request number.';
COMMENT ON COLUMN stg_github__timeline_events.event_index IS 'Position in the timeline (0-based).';
COMMENT ON COLUMN stg_github__timeline_events.event IS 'Event type.';
COMMENT ON COLUMN stg_github__timeline_events.event_id IS 'GitHub id of the event (the comment or review id for commented / reviewed).';
COMMENT ON COLUMN stg_github__timeline_events.actor_login IS 'Who did it (the reviewer for reviewed, the author for commented).';
COMMENT ON COLUMN stg_github__timeline_events.created_at IS 'When (UTC; submitted_at for reviews).';
COMMENT ON COLUMN stg_github__timeline_events.assignee_login IS 'assigned / unassigned: the person (un)assigned.';
COMMENT ON COLUMN stg_github__timeline_events.requested_reviewer_login IS 'review_requested / review_request_removed: the reviewer.';
COMMENT ON COLUMN stg_github__timeline_events.requested_team_slug IS 'review_requested / review_request_removed: the team, when a team was requested.';
COMMENT ON COLUMN stg_github__timeline_events.milestone_title IS 'milestoned / demilestoned: the milestone title (GitHub gives no number here).';
COMMENT ON COLUMN stg_github__timeline_events.renamed_from IS 'renamed: the old title.';
COMMENT ON COLUMN stg_github__timeline_events.renamed_to IS 'renamed: the new title.';
COMMENT ON COLUMN stg_github__timeline_events.review_state IS 'reviewed: approved, changes_requested, commented or dismissed.';
COMMENT ON COLUMN stg_github__timeline_events.state_reason IS 'closed: completed, not_planned or duplicate (when GitHub gives it).';
COMMENT ON COLUMN stg_github__timeline_events.source_repo_full_name IS 'cross-referenced: repository of the referencing issue or pull request.';
COMMENT ON COLUMN stg_github__timeline_events.source_issue_number IS 'cross-referenced: its number.';
COMMENT ON COLUMN stg_github__timeline_events.commit_sha IS 'The commit an event refers to (closed by a commit, merged, referenced).';
COMMENT ON COLUMN stg_github__timeline_events.body IS 'commented / reviewed: the text.';
COMMENT ON COLUMN stg_github__timeline_events.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__timeline_events.run_id IS 'Run that fetched it.';

CREATE OR REPLACE VIEW stg_github__reviews AS
SELECT
    repo,
    pull_number,
    review_id,
    payload->>'$.user.login' AS reviewer_login,
    payload->>'$.user.type' AS reviewer_type,
    payload->>'$.state' AS state,
    perftrust_utc(payload->>'$.submitted_at') AS submitted_at,
    payload->>'$.commit_id' AS commit_sha,
    perftrust_clean_text(payload->>'$.body') AS body,
    payload->>'$.html_url' AS html_url,
    fetched_at,
    run_id
FROM raw_github__reviews;
COMMENT ON VIEW stg_github__reviews IS 'raw_github__reviews typed: one row per review.';
COMMENT ON COLUMN stg_github__reviews.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__reviews.pull_number IS 'Pull request number.';
COMMENT ON COLUMN stg_github__reviews.review_id IS 'GitHub review id.';
COMMENT ON COLUMN stg_github__reviews.reviewer_login IS 'Reviewer login (NULL for a ghost).';
COMMENT ON COLUMN stg_github__reviews.reviewer_type IS 'User or Bot.';
COMMENT ON COLUMN stg_github__reviews.state IS 'APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or PENDING.';
COMMENT ON COLUMN stg_github__reviews.submitted_at IS 'Submitted (UTC); NULL while pending.';
COMMENT ON COLUMN stg_github__reviews.commit_sha IS 'Commit reviewed.';
COMMENT ON COLUMN stg_github__reviews.body IS 'Review text.';
COMMENT ON COLUMN stg_github__reviews.html_url IS 'Link on GitHub.';
COMMENT ON COLUMN stg_github__reviews.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__reviews.run_id IS 'Run that fetched it.';

CREATE OR REPLACE VIEW stg_github__review_comments AS
SELECT
    repo,
    comment_id,
    CAST(regexp_extract(payload->>'$.pull_request_url', '/pulls/([0-9]+)$', 1) AS INTEGER) AS pull_number,
    CAST(payload->>'$.pull_request_review_id' AS BIGINT) AS review_id,
    CAST(payload->>'$.in_reply_to_id' AS BIGINT) AS in_reply_to_id,
    payload->>'$.user.login' AS author_login,
    perftrust_utc(payload->>'$.created_at') AS created_at,
    perftrust_utc(payload->>'$.updated_at') AS updated_at,
    payload->>'$.path' AS path,
    perftrust_clean_text(payload->>'$.body') AS body,
    payload->>'$.html_url' AS html_url,
    fetched_at,
    run_id
FROM raw_github__review_comments;
COMMENT ON VIEW stg_github__review_comments IS 'raw_github__review_comments typed: one row per comment on a pull request diff.';
COMMENT ON COLUMN stg_github__review_comments.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__review_comments.comment_id IS 'GitHub comment id.';
COMMENT ON COLUMN stg_github__review_comments.pull_number IS 'Pull request number.';
COMMENT ON COLUMN stg_github__review_comments.review_id IS 'The review the comment belongs to.';
COMMENT ON COLUMN stg_github__review_comments.in_reply_to_id IS 'The comment this one answers, if any.';
COMMENT ON COLUMN stg_github__review_comments.author_login IS 'Author login.';
COMMENT ON COLUMN stg_github__review_comments.created_at IS 'Created (UTC).';
COMMENT ON COLUMN stg_github__review_comments.updated_at IS 'Updated (UTC).';
COMMENT ON COLUMN stg_github__review_comments.path IS 'File commented on.';
COMMENT ON COLUMN stg_github__review_comments.body IS 'Text.';
COMMENT ON COLUMN stg_github__review_comments.html_url IS 'Link on GitHub.';
COMMENT ON COLUMN stg_github__review_comments.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__review_comments.run_id IS 'Run that fetched it.';

CREATE OR REPLACE VIEW stg_github__milestones AS
SELECT
    repo,
    number,
    CAST(payload->>'$.id' AS BIGINT) AS milestone_id,
    perftrust_clean_text(payload->>'$.title') AS title,
    payload->>'$.state' AS state,
    perftrust_utc(payload->>'$.due_on') AS due_on,
    -- SPEC: a milestone's due date is the date part of due_on in UTC (GitHub stores 07:00/08:00 UTC).
    CAST(perftrust_utc(payload->>'$.due_on') AS DATE) AS due_date,
    perftrust_utc(payload->>'$.created_at') AS created_at,
    perftrust_utc(payload->>'$.closed_at') AS closed_at,
    payload->>'$.html_url' AS html_url,
    deleted_at,
    fetched_at,
    run_id
FROM raw_github__milestones;
COMMENT ON VIEW stg_github__milestones IS 'raw_github__milestones typed: one row per milestone.';
COMMENT ON COLUMN stg_github__milestones.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__milestones.number IS 'Milestone number.';
COMMENT ON COLUMN stg_github__milestones.milestone_id IS 'GitHub id.';
COMMENT ON COLUMN stg_github__milestones.title IS 'Title.';
COMMENT ON COLUMN stg_github__milestones.state IS 'open or closed.';
COMMENT ON COLUMN stg_github__milestones.due_on IS 'due_on as stored by GitHub (UTC timestamp).';
COMMENT ON COLUMN stg_github__milestones.due_date IS 'The due date: the date part of due_on in UTC.';
COMMENT ON COLUMN stg_github__milestones.created_at IS 'Created (UTC).';
COMMENT ON COLUMN stg_github__milestones.closed_at IS 'Closed (UTC).';
COMMENT ON COLUMN stg_github__milestones.html_url IS 'Link on GitHub.';
COMMENT ON COLUMN stg_github__milestones.deleted_at IS 'When a sync found it deleted (UTC).';
COMMENT ON COLUMN stg_github__milestones.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__milestones.run_id IS 'Run that fetched it.';

CREATE OR REPLACE VIEW stg_github__project_items AS
WITH entries AS (
    SELECT repo, number, unnest(json_extract(payload, '$[*]')) AS node, fetched_at, run_id
    FROM raw_github__project_items
)
SELECT
    repo,
    number,
    node->>'$.id' AS project_item_id,
    node->>'$.project.id' AS project_id,
    node->>'$.project.owner.login' AS project_owner,
    CAST(node->>'$.project.number' AS INTEGER) AS project_number,
    perftrust_clean_text(node->>'$.project.title') AS project_title,
    node->>'$.project.url' AS project_url,
    coalesce(CAST(node->>'$.project.closed' AS BOOLEAN), false) AS is_project_closed,
    coalesce(CAST(node->>'$.isArchived' AS BOOLEAN), false) AS is_archived,
    json_extract(node, '$.fieldValues.nodes') AS field_values,
    fetched_at,
    run_id
FROM entries;
COMMENT ON VIEW stg_github__project_items IS 'raw_github__project_items unnested: one row per (issue or pull request, project it is on).';
COMMENT ON COLUMN stg_github__project_items.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__project_items.number IS 'Issue or pull request number.';
COMMENT ON COLUMN stg_github__project_items.project_item_id IS 'GraphQL node id of the project item.';
COMMENT ON COLUMN stg_github__project_items.project_id IS 'GraphQL node id of the project.';
COMMENT ON COLUMN stg_github__project_items.project_owner IS 'Login of the organization or user owning the project.';
COMMENT ON COLUMN stg_github__project_items.project_number IS 'Project number (per owner).';
COMMENT ON COLUMN stg_github__project_items.project_title IS 'Project title.';
COMMENT ON COLUMN stg_github__project_items.project_url IS 'Link to the project on GitHub.';
COMMENT ON COLUMN stg_github__project_items.is_project_closed IS 'The project is closed.';
COMMENT ON COLUMN stg_github__project_items.is_archived IS 'The item is archived on that project (its values still count).';
COMMENT ON COLUMN stg_github__project_items.field_values IS 'The item''s date and iteration field values as GitHub sent them (JSON list; one row each in stg_github__project_field_values).';
COMMENT ON COLUMN stg_github__project_items.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__project_items.run_id IS 'Run that fetched it.';

CREATE OR REPLACE VIEW stg_github__project_field_values AS
WITH field_values AS (
    SELECT repo, number, project_item_id, project_id, project_owner, project_number, project_title,
           unnest(json_extract(field_values, '$[*]')) AS value, fetched_at, run_id
    FROM stg_github__project_items
)
SELECT
    repo,
    number,
    project_item_id,
    project_id,
    project_owner,
    project_number,
    project_title,
    value->>'$.field.name' AS field_name,
    CASE value->>'$.__typename' WHEN 'ProjectV2ItemFieldDateValue' THEN 'date' ELSE 'iteration' END AS value_type,
    CAST(value->>'$.date' AS DATE) AS date_value,
    value->>'$.title' AS iteration_title,
    CAST(value->>'$.startDate' AS DATE) AS iteration_start_date,
    CAST(value->>'$.duration' AS INTEGER) AS iteration_duration,
    CAST(CAST(value->>'$.startDate' AS DATE) + CAST(value->>'$.duration' AS INTEGER) - 1 AS DATE) AS iteration_last_day,
    perftrust_utc(value->>'$.updatedAt') AS updated_at,
    fetched_at,
    run_id
FROM field_values
WHERE value->>'$.__typename' IN ('ProjectV2ItemFieldDateValue', 'ProjectV2ItemFieldIterationValue');
COMMENT ON VIEW stg_github__project_field_values IS 'The date and iteration values of each project item: one row per (issue or pull request, project, field), every date and iteration field whatever its name (which ones are due dates: fct_due_date_observations).';
COMMENT ON COLUMN stg_github__project_field_values.repo IS 'Repository key.';
COMMENT ON COLUMN stg_github__project_field_values.number IS 'Issue or pull request number.';
COMMENT ON COLUMN stg_github__project_field_values.project_item_id IS 'GraphQL node id of the project item.';
COMMENT ON COLUMN stg_github__project_field_values.project_id IS 'GraphQL node id of the project.';
COMMENT ON COLUMN stg_github__project_field_values.project_owner IS 'Login of the project''s owner.';
COMMENT ON COLUMN stg_github__project_field_values.project_number IS 'Project number (per owner).';
COMMENT ON COLUMN stg_github__project_field_values.project_title IS 'Project title.';
COMMENT ON COLUMN stg_github__project_field_values.field_name IS 'Field name.';
COMMENT ON COLUMN stg_github__project_field_values.value_type IS 'date or iteration.';
COMMENT ON COLUMN stg_github__project_field_values.date_value IS 'A date field''s value.';
COMMENT ON COLUMN stg_github__project_field_values.iteration_title IS 'An iteration field''s iteration title.';
COMMENT ON COLUMN stg_github__project_field_values.iteration_start_date IS 'Its first day.';
COMMENT ON COLUMN stg_github__project_field_values.iteration_duration IS 'Its length in days.';
COMMENT ON COLUMN stg_github__project_field_values.iteration_last_day IS 'Its last day: start + duration - 1 (the due date an iteration gives).';
COMMENT ON COLUMN stg_github__project_field_values.updated_at IS 'When the value last changed (UTC).';
COMMENT ON COLUMN stg_github__project_field_values.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN stg_github__project_field_values.run_id IS 'Run that fetched it.';
