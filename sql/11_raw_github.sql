-- raw_github__*: GitHub REST payloads kept whole, with the envelope (repo, url, fetched_at, run_id).
-- Upserted on natural keys (delete + insert per page, in one transaction), so a re-run never duplicates.

CREATE TABLE IF NOT EXISTS raw_github__repositories (
    repo VARCHAR PRIMARY KEY,
    full_name VARCHAR NOT NULL,
    payload JSON NOT NULL,
    url VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL
);
COMMENT ON TABLE raw_github__repositories IS 'GET /repos/{owner}/{repo} as GitHub returned it. Key: repo.';
COMMENT ON COLUMN raw_github__repositories.repo IS 'Repository key (the owner/name perftrust was asked to sync).';
COMMENT ON COLUMN raw_github__repositories.full_name IS 'owner/name GitHub reports now (differs after a rename or transfer).';
COMMENT ON COLUMN raw_github__repositories.payload IS 'The JSON object, whole.';
COMMENT ON COLUMN raw_github__repositories.url IS 'API path it came from.';
COMMENT ON COLUMN raw_github__repositories.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__repositories.run_id IS 'Run that fetched it.';

CREATE TABLE IF NOT EXISTS raw_github__issues (
    repo VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    is_pull_request BOOLEAN NOT NULL,
    updated_at TIMESTAMP,
    payload JSON NOT NULL,
    url VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    gone_reason VARCHAR,
    PRIMARY KEY (repo, number)
);
COMMENT ON TABLE raw_github__issues IS 'Items of GET /repos/{owner}/{repo}/issues (issues and pull requests: GitHub lists both there). Key: (repo, number).';
COMMENT ON COLUMN raw_github__issues.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__issues.number IS 'Issue or pull request number.';
COMMENT ON COLUMN raw_github__issues.is_pull_request IS 'The item is a pull request (has a pull_request key).';
COMMENT ON COLUMN raw_github__issues.updated_at IS 'The item''s updated_at (UTC): the incremental cursor''s field.';
COMMENT ON COLUMN raw_github__issues.payload IS 'The JSON object, whole.';
COMMENT ON COLUMN raw_github__issues.url IS 'API path of the list page it came from.';
COMMENT ON COLUMN raw_github__issues.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__issues.run_id IS 'Run that fetched it.';
COMMENT ON COLUMN raw_github__issues.gone_reason IS 'transferred:owner/name or deleted, when the item left the repository; NULL while it is there.';

CREATE TABLE IF NOT EXISTS raw_github__timeline_events (
    repo VARCHAR NOT NULL,
    issue_number INTEGER NOT NULL,
    event_index INTEGER NOT NULL,
    event VARCHAR,
    payload JSON NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, issue_number, event_index)
);
COMMENT ON TABLE raw_github__timeline_events IS 'GET /repos/{owner}/{repo}/issues/{number}/timeline, refetched whole when the item changes. Key: (repo, issue_number, event_index).';
COMMENT ON COLUMN raw_github__timeline_events.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__timeline_events.issue_number IS 'Issue or pull request number.';
COMMENT ON COLUMN raw_github__timeline_events.event_index IS 'Position in the timeline (0-based).';
COMMENT ON COLUMN raw_github__timeline_events.event IS 'Event type: assigned, unassigned, milestoned, demilestoned, closed, reopened, commented, reviewed, review_requested, review_request_removed, ready_for_review, renamed, cross-referenced, merged, ...';
COMMENT ON COLUMN raw_github__timeline_events.payload IS 'The JSON object, whole.';
COMMENT ON COLUMN raw_github__timeline_events.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__timeline_events.run_id IS 'Run that fetched it.';

CREATE TABLE IF NOT EXISTS raw_github__pull_requests (
    repo VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    updated_at TIMESTAMP,
    payload JSON NOT NULL,
    url VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, number)
);
COMMENT ON TABLE raw_github__pull_requests IS 'Items of GET /repos/{owner}/{repo}/pulls (draft, merged_at, head/base, requested reviewers). Key: (repo, number).';
COMMENT ON COLUMN raw_github__pull_requests.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__pull_requests.number IS 'Pull request number.';
COMMENT ON COLUMN raw_github__pull_requests.updated_at IS 'updated_at (UTC).';
COMMENT ON COLUMN raw_github__pull_requests.payload IS 'The JSON object, whole.';
COMMENT ON COLUMN raw_github__pull_requests.url IS 'API path of the list page.';
COMMENT ON COLUMN raw_github__pull_requests.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__pull_requests.run_id IS 'Run that fetched it.';

CREATE TABLE IF NOT EXISTS raw_github__reviews (
    repo VARCHAR NOT NULL,
    pull_number INTEGER NOT NULL,
    review_id BIGINT NOT NULL,
    payload JSON NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, pull_number, review_id)
);
COMMENT ON TABLE raw_github__reviews IS 'GET /repos/{owner}/{repo}/pulls/{number}/reviews, refetched whole when the pull request changes.';
COMMENT ON COLUMN raw_github__reviews.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__reviews.pull_number IS 'Pull request number.';
COMMENT ON COLUMN raw_github__reviews.review_id IS 'GitHub review id.';
COMMENT ON COLUMN raw_github__reviews.payload IS 'The JSON object, whole.';
COMMENT ON COLUMN raw_github__reviews.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__reviews.run_id IS 'Run that fetched it.';

CREATE TABLE IF NOT EXISTS raw_github__review_comments (
    repo VARCHAR NOT NULL,
    comment_id BIGINT NOT NULL,
    updated_at TIMESTAMP,
    payload JSON NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, comment_id)
);
COMMENT ON TABLE raw_github__review_comments IS 'GET /repos/{owner}/{repo}/pulls/comments (comments on pull request diffs). Key: (repo, comment_id).';
COMMENT ON COLUMN raw_github__review_comments.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__review_comments.comment_id IS 'GitHub comment id.';
COMMENT ON COLUMN raw_github__review_comments.updated_at IS 'updated_at (UTC).';
COMMENT ON COLUMN raw_github__review_comments.payload IS 'The JSON object, whole.';
COMMENT ON COLUMN raw_github__review_comments.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__review_comments.run_id IS 'Run that fetched it.';

CREATE TABLE IF NOT EXISTS raw_github__milestones (
    repo VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    payload JSON NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    deleted_at TIMESTAMP,
    PRIMARY KEY (repo, number)
);
COMMENT ON TABLE raw_github__milestones IS 'GET /repos/{owner}/{repo}/milestones?state=all. Key: (repo, number). A milestone GitHub no longer lists keeps its last payload and gets deleted_at.';
COMMENT ON COLUMN raw_github__milestones.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__milestones.number IS 'Milestone number.';
COMMENT ON COLUMN raw_github__milestones.payload IS 'The JSON object, whole.';
COMMENT ON COLUMN raw_github__milestones.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__milestones.run_id IS 'Run that fetched it.';
COMMENT ON COLUMN raw_github__milestones.deleted_at IS 'When a sync first found it gone from GitHub (UTC); NULL while it exists.';

CREATE TABLE IF NOT EXISTS raw_github__due_date_observations (
    repo VARCHAR NOT NULL,
    milestone_number INTEGER NOT NULL,
    due_on TIMESTAMP,
    first_observed_at TIMESTAMP NOT NULL,
    last_observed_at TIMESTAMP NOT NULL,
    first_run_id VARCHAR NOT NULL,
    last_run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, milestone_number, first_observed_at)
);
COMMENT ON TABLE raw_github__due_date_observations IS 'The due date each run saw on each milestone, one row per stretch of runs that saw the same value: the history GitHub itself does not keep.';
COMMENT ON COLUMN raw_github__due_date_observations.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__due_date_observations.milestone_number IS 'Milestone number.';
COMMENT ON COLUMN raw_github__due_date_observations.due_on IS 'due_on as GitHub stored it (UTC timestamp; NULL = no due date).';
COMMENT ON COLUMN raw_github__due_date_observations.first_observed_at IS 'First run that saw this value (UTC).';
COMMENT ON COLUMN raw_github__due_date_observations.last_observed_at IS 'Latest run that saw this value (UTC).';
COMMENT ON COLUMN raw_github__due_date_observations.first_run_id IS 'The first run.';
COMMENT ON COLUMN raw_github__due_date_observations.last_run_id IS 'The latest run.';

CREATE TABLE IF NOT EXISTS raw_github__commit_authors (
    repo VARCHAR NOT NULL,
    email VARCHAR NOT NULL,
    sha VARCHAR NOT NULL,
    login VARCHAR,
    user_id BIGINT,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, email)
);
COMMENT ON TABLE raw_github__commit_authors IS 'The GitHub account behind a commit author email, from GET /repos/{owner}/{repo}/commits/{sha} for one commit per email. Joins git identities to GitHub logins.';
COMMENT ON COLUMN raw_github__commit_authors.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__commit_authors.email IS 'Author email as written in the commit (git side).';
COMMENT ON COLUMN raw_github__commit_authors.sha IS 'The commit that was asked about.';
COMMENT ON COLUMN raw_github__commit_authors.login IS 'GitHub login of the author; NULL if GitHub links the email to no account.';
COMMENT ON COLUMN raw_github__commit_authors.user_id IS 'GitHub user id.';
COMMENT ON COLUMN raw_github__commit_authors.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__commit_authors.run_id IS 'Run that fetched it.';

-- GitHub Projects (ProjectsV2), read through GraphQL by pipeline/github_projects.py.
CREATE TABLE IF NOT EXISTS raw_github__project_items (
    repo VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    count_project_items INTEGER NOT NULL,
    payload JSON NOT NULL,
    url VARCHAR NOT NULL,
    fetched_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, number)
);
COMMENT ON TABLE raw_github__project_items IS 'The GitHub Projects entries of one issue or pull request (GraphQL Issue.projectItems / PullRequest.projectItems, every page, with each entry''s project and date and iteration field values), refetched whole when the item changed, while it is open, and once for every item. Key: (repo, number); an item on no project has a row with an empty list.';
COMMENT ON COLUMN raw_github__project_items.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__project_items.number IS 'Issue or pull request number.';
COMMENT ON COLUMN raw_github__project_items.count_project_items IS 'Projects the item is on (entries in payload).';
COMMENT ON COLUMN raw_github__project_items.payload IS 'JSON array of ProjectV2Item nodes as GitHub returned them: id, isArchived, project { id number title url closed owner { login } }, fieldValues { nodes } (date and iteration values with their field''s name).';
COMMENT ON COLUMN raw_github__project_items.url IS 'API path it came from (/graphql).';
COMMENT ON COLUMN raw_github__project_items.fetched_at IS 'When it was fetched (UTC).';
COMMENT ON COLUMN raw_github__project_items.run_id IS 'Run that fetched it.';

CREATE TABLE IF NOT EXISTS raw_github__project_due_observations (
    repo VARCHAR NOT NULL,
    number INTEGER NOT NULL,
    project_id VARCHAR NOT NULL,
    field_name VARCHAR NOT NULL,
    due_source VARCHAR NOT NULL,
    project_owner VARCHAR,
    project_number INTEGER,
    project_title VARCHAR,
    due_date DATE,
    iteration_title VARCHAR,
    iteration_start_date DATE,
    iteration_duration INTEGER,
    first_observed_at TIMESTAMP NOT NULL,
    last_observed_at TIMESTAMP NOT NULL,
    first_run_id VARCHAR NOT NULL,
    last_run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, number, project_id, field_name, first_observed_at)
);
COMMENT ON TABLE raw_github__project_due_observations IS 'The due date each run saw on each (item, project, field) candidate, one row per stretch of runs that saw the same date (GitHub keeps no history of field changes): date fields whose name is in [github].due_date_fields and every iteration field. A value cleared, or the item taken off the project, starts a stretch with due_date NULL.';
COMMENT ON COLUMN raw_github__project_due_observations.repo IS 'Repository key.';
COMMENT ON COLUMN raw_github__project_due_observations.number IS 'Issue or pull request number.';
COMMENT ON COLUMN raw_github__project_due_observations.project_id IS 'GraphQL node id of the project.';
COMMENT ON COLUMN raw_github__project_due_observations.field_name IS 'Name of the date or iteration field (as named when first seen in this stretch).';
COMMENT ON COLUMN raw_github__project_due_observations.due_source IS 'project_date (a date field) or project_iteration (an iteration field: due on the iteration''s last day).';
COMMENT ON COLUMN raw_github__project_due_observations.project_owner IS 'Login of the organization or user owning the project.';
COMMENT ON COLUMN raw_github__project_due_observations.project_number IS 'Project number (per owner).';
COMMENT ON COLUMN raw_github__project_due_observations.project_title IS 'Project title when last seen.';
COMMENT ON COLUMN raw_github__project_due_observations.due_date IS 'The due date: the date field''s value, or the iteration''s start + duration - 1 day; NULL = no value (cleared or taken off the project).';
COMMENT ON COLUMN raw_github__project_due_observations.iteration_title IS 'Iteration title (iteration fields).';
COMMENT ON COLUMN raw_github__project_due_observations.iteration_start_date IS 'Iteration start date.';
COMMENT ON COLUMN raw_github__project_due_observations.iteration_duration IS 'Iteration length in days.';
COMMENT ON COLUMN raw_github__project_due_observations.first_observed_at IS 'First run that saw this value (UTC).';
COMMENT ON COLUMN raw_github__project_due_observations.last_observed_at IS 'Latest run that saw this value (UTC).';
COMMENT ON COLUMN raw_github__project_due_observations.first_run_id IS 'The first run.';
COMMENT ON COLUMN raw_github__project_due_observations.last_run_id IS 'The latest run.';
