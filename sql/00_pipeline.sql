-- Bookkeeping: what each run did, and the incremental cursors of every source.
-- Tables here are created once and never dropped; views are recreated on every write connection.

CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id VARCHAR PRIMARY KEY,
    command VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    perftrust_version VARCHAR NOT NULL,
    count_steps INTEGER,
    count_failed_steps INTEGER,
    count_rows_added BIGINT,
    error_message VARCHAR
);
ALTER TABLE pipeline_runs ADD COLUMN IF NOT EXISTS count_api_requests BIGINT;
ALTER TABLE pipeline_runs ADD COLUMN IF NOT EXISTS count_not_modified BIGINT;
ALTER TABLE pipeline_runs ADD COLUMN IF NOT EXISTS rate_limit_remaining BIGINT;
ALTER TABLE pipeline_runs ADD COLUMN IF NOT EXISTS flow_run_id VARCHAR;
ALTER TABLE pipeline_runs ADD COLUMN IF NOT EXISTS duration_seconds DOUBLE;
COMMENT ON TABLE pipeline_runs IS 'One row per published perftrust run (sync, metrics, run), the history carried from database to database. A run that was killed or failed before publishing left the published database untouched and is not here (its error was printed, and is in the Prefect UI for flow runs).';
COMMENT ON COLUMN pipeline_runs.run_id IS 'Unique id of the run (UUID); every raw row carries the run_id that loaded it.';
COMMENT ON COLUMN pipeline_runs.command IS 'The CLI command or flow that started the run, e.g. sync or run.';
COMMENT ON COLUMN pipeline_runs.started_at IS 'When the run started (UTC).';
COMMENT ON COLUMN pipeline_runs.finished_at IS 'When the run ended (UTC); NULL if it was killed or is still running.';
COMMENT ON COLUMN pipeline_runs.status IS 'running, succeeded, partial (some steps failed) or failed.';
COMMENT ON COLUMN pipeline_runs.perftrust_version IS 'perftrust version that ran.';
COMMENT ON COLUMN pipeline_runs.count_steps IS 'Number of steps (one per source and repository) the run executed.';
COMMENT ON COLUMN pipeline_runs.count_failed_steps IS 'Number of steps that failed; see pipeline_run_steps.error_message.';
COMMENT ON COLUMN pipeline_runs.count_rows_added IS 'Raw rows added by all steps of the run.';
COMMENT ON COLUMN pipeline_runs.error_message IS 'Why the run failed as a whole, if it did.';
COMMENT ON COLUMN pipeline_runs.count_api_requests IS 'GitHub API requests made by all steps (per step: pipeline_run_steps).';
COMMENT ON COLUMN pipeline_runs.count_not_modified IS 'Of those, answered 304 Not Modified (free: GitHub does not count them against the quota).';
COMMENT ON COLUMN pipeline_runs.duration_seconds IS 'Wall time of the run up to its publishing, in seconds (per step: pipeline_run_steps.duration_seconds).';
COMMENT ON COLUMN pipeline_runs.flow_run_id IS 'Prefect flow run id when the run was the nightly flow (see it in the Prefect UI); NULL for runs without Prefect.';
COMMENT ON COLUMN pipeline_runs.rate_limit_remaining IS 'GitHub quota left at the end of the run (X-RateLimit-Remaining), if GitHub was asked.';

CREATE TABLE IF NOT EXISTS pipeline_run_steps (
    run_id VARCHAR NOT NULL,
    step VARCHAR NOT NULL,
    repo VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    duration_seconds DOUBLE,
    count_rows_added BIGINT,
    count_api_requests BIGINT,
    count_not_modified BIGINT,
    warnings VARCHAR[],
    error_message VARCHAR,
    details JSON,
    PRIMARY KEY (run_id, step, repo)
);
COMMENT ON TABLE pipeline_run_steps IS 'One row per run, step and repository: what each step did, its counts, warnings and errors.';
COMMENT ON COLUMN pipeline_run_steps.run_id IS 'The run (pipeline_runs.run_id).';
COMMENT ON COLUMN pipeline_run_steps.step IS 'What ran, e.g. git_sync.';
COMMENT ON COLUMN pipeline_run_steps.repo IS 'Repository key the step worked on (see dim_repositories.repo).';
COMMENT ON COLUMN pipeline_run_steps.status IS 'running, succeeded, unchanged (nothing new), empty (no commits) or failed.';
COMMENT ON COLUMN pipeline_run_steps.started_at IS 'When the step started (UTC).';
COMMENT ON COLUMN pipeline_run_steps.finished_at IS 'When the step ended (UTC).';
COMMENT ON COLUMN pipeline_run_steps.duration_seconds IS 'Wall time of the step in seconds.';
COMMENT ON COLUMN pipeline_run_steps.count_rows_added IS 'Raw rows the step added (for git: commits).';
COMMENT ON COLUMN pipeline_run_steps.count_api_requests IS 'API requests made (GitHub steps; 0 for git).';
COMMENT ON COLUMN pipeline_run_steps.count_not_modified IS 'Conditional requests answered 304 Not Modified (GitHub steps).';
COMMENT ON COLUMN pipeline_run_steps.warnings IS 'Things the user should know, e.g. a shallow clone (history incomplete).';
COMMENT ON COLUMN pipeline_run_steps.error_message IS 'Why the step failed, with the fix.';
COMMENT ON COLUMN pipeline_run_steps.details IS 'Step-specific figures as JSON (for git: refs read, commits removed as no longer reachable, trailers parsed, git processes used; rows_published: what the step changed in the database; kept_last_good_data: the step failed and its source kept its rows).';

CREATE TABLE IF NOT EXISTS sync_state (
    source VARCHAR NOT NULL,
    repo VARCHAR NOT NULL,
    cursor JSON NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (source, repo)
);
COMMENT ON TABLE sync_state IS 'Incremental cursor per source and repository. A cursor moves only after the data it covers is committed.';
COMMENT ON COLUMN sync_state.source IS 'git or github.';
COMMENT ON COLUMN sync_state.repo IS 'Repository key (dim_repositories.repo).';
COMMENT ON COLUMN sync_state.cursor IS 'Source-specific cursor as JSON; for git: the ref selection and the tip sha of every ref fully loaded.';
COMMENT ON COLUMN sync_state.updated_at IS 'When the cursor last moved (UTC).';
COMMENT ON COLUMN sync_state.run_id IS 'The run that moved it.';

CREATE TABLE IF NOT EXISTS pipeline_sources (
    source_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    repo VARCHAR NOT NULL,
    shard VARCHAR,
    first_synced_at TIMESTAMP,
    last_synced_at TIMESTAMP,
    last_synced_run_id VARCHAR,
    last_attempt_at TIMESTAMP,
    last_attempt_run_id VARCHAR,
    last_attempt_status VARCHAR,
    last_error_message VARCHAR,
    count_rows_inserted BIGINT,
    count_rows_deleted BIGINT
);
COMMENT ON TABLE pipeline_sources IS 'One row per source this database holds: the git history or the GitHub data of one repository (two independent sources). The database is the union of every source ever synced into its store; a source leaves it only through `perftrust forget`. A source whose last sync failed keeps the rows of its last good sync.';
COMMENT ON COLUMN pipeline_sources.source_id IS 'KIND:REPO, e.g. git:acme/api or github:acme/api (what `perftrust forget` takes).';
COMMENT ON COLUMN pipeline_sources.source IS 'git (a local clone) or github (the GitHub API).';
COMMENT ON COLUMN pipeline_sources.repo IS 'Repository key its rows carry (dim_repositories.repo, the repo column of every raw table).';
COMMENT ON COLUMN pipeline_sources.shard IS 'File in <db>.store/shards/ that keeps this source''s synced data between runs.';
COMMENT ON COLUMN pipeline_sources.first_synced_at IS 'When data of this source was first published (UTC).';
COMMENT ON COLUMN pipeline_sources.last_synced_at IS 'When its data was last refreshed from a sync (UTC); older than last_attempt_at when later syncs failed.';
COMMENT ON COLUMN pipeline_sources.last_synced_run_id IS 'The run of that refresh (pipeline_runs.run_id).';
COMMENT ON COLUMN pipeline_sources.last_attempt_at IS 'When a run last tried to sync it (UTC).';
COMMENT ON COLUMN pipeline_sources.last_attempt_run_id IS 'The run of that attempt.';
COMMENT ON COLUMN pipeline_sources.last_attempt_status IS 'How that attempt ended: succeeded, unchanged, empty, or failed (its last good data kept).';
COMMENT ON COLUMN pipeline_sources.last_error_message IS 'Why the last attempt failed, with the fix; NULL when it did not.';
COMMENT ON COLUMN pipeline_sources.count_rows_inserted IS 'Rows the last attempt added to the database (over all the source''s tables; a changed row counts once here and once as deleted).';
COMMENT ON COLUMN pipeline_sources.count_rows_deleted IS 'Rows the last attempt removed (changed, or gone from the source: e.g. commits rewritten away).';

CREATE TABLE IF NOT EXISTS pipeline_schema (
    fingerprint VARCHAR NOT NULL,
    perftrust_version VARCHAR NOT NULL
);
COMMENT ON TABLE pipeline_schema IS 'One row: which version of the schema scripts in sql/ built this database (perftrust skips re-running them when they are unchanged).';
COMMENT ON COLUMN pipeline_schema.fingerprint IS 'Hash of every schema script; a new perftrust with changed scripts re-applies them.';
COMMENT ON COLUMN pipeline_schema.perftrust_version IS 'perftrust version that applied them.';
