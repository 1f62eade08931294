-- raw_git__*: what git returned, kept whole, with the envelope (repo, run_id, extracted_at).
-- Natural key of raw_git__commits is (repo, sha); the loader inserts only commits not yet present,
-- so a re-run or a run after a crash never duplicates, and removes commits the synced refs no longer
-- reach (force-push, deleted branch, re-created clone): the rows are always what a fresh sync loads.

CREATE TABLE IF NOT EXISTS raw_git__commits (
    repo VARCHAR NOT NULL,
    sha VARCHAR NOT NULL,
    parent_shas VARCHAR[] NOT NULL,
    author_name VARCHAR,
    author_email VARCHAR,
    author_epoch BIGINT,
    author_tz VARCHAR,
    committer_name VARCHAR,
    committer_email VARCHAR,
    committer_epoch BIGINT,
    committer_tz VARCHAR,
    message VARCHAR,
    files STRUCT(path VARCHAR, old_path VARCHAR, lines_added INTEGER, lines_deleted INTEGER)[],
    run_id VARCHAR NOT NULL,
    extracted_at TIMESTAMP NOT NULL
);
COMMENT ON TABLE raw_git__commits IS 'One row per commit and repository as git log printed it (identities before .mailmap). Key: (repo, sha).';
COMMENT ON COLUMN raw_git__commits.repo IS 'Repository key (dim_repositories.repo).';
COMMENT ON COLUMN raw_git__commits.sha IS 'Full commit id.';
COMMENT ON COLUMN raw_git__commits.parent_shas IS 'Parent commit ids in order; two or more for a merge; empty for a root (or a shallow-clone boundary).';
COMMENT ON COLUMN raw_git__commits.author_name IS 'Author name as written in the commit (non-UTF-8 bytes decoded as Latin-1).';
COMMENT ON COLUMN raw_git__commits.author_email IS 'Author email as written in the commit.';
COMMENT ON COLUMN raw_git__commits.author_epoch IS 'Author time in seconds since 1970-01-01 UTC, as stored by git (may be negative or far in the future).';
COMMENT ON COLUMN raw_git__commits.author_tz IS 'Author UTC offset as stored by git, e.g. +0200 (kept verbatim, even when malformed).';
COMMENT ON COLUMN raw_git__commits.committer_name IS 'Committer name as written in the commit.';
COMMENT ON COLUMN raw_git__commits.committer_email IS 'Committer email as written in the commit.';
COMMENT ON COLUMN raw_git__commits.committer_epoch IS 'Committer time in seconds since 1970-01-01 UTC.';
COMMENT ON COLUMN raw_git__commits.committer_tz IS 'Committer UTC offset as stored by git.';
COMMENT ON COLUMN raw_git__commits.message IS 'Full commit message (subject, body and trailers).';
COMMENT ON COLUMN raw_git__commits.files IS 'git log --numstat -M: path, old_path (renames), lines_added, lines_deleted (NULL for binary files). Empty for merges.';
COMMENT ON COLUMN raw_git__commits.run_id IS 'The run that extracted the row (pipeline_runs.run_id).';
COMMENT ON COLUMN raw_git__commits.extracted_at IS 'When the row was extracted (UTC).';

CREATE TABLE IF NOT EXISTS raw_git__mailmap (
    repo VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    email VARCHAR NOT NULL,
    mapped_name VARCHAR NOT NULL,
    mapped_email VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (repo, name, email)
);
COMMENT ON TABLE raw_git__mailmap IS 'What git check-mailmap answered, per repository, for every identity seen in commits and trailers. Refreshed when identities or the .mailmap change.';
COMMENT ON COLUMN raw_git__mailmap.repo IS 'Repository key (each repository has its own .mailmap).';
COMMENT ON COLUMN raw_git__mailmap.name IS 'Name as written in a commit or trailer.';
COMMENT ON COLUMN raw_git__mailmap.email IS 'Email as written in a commit or trailer.';
COMMENT ON COLUMN raw_git__mailmap.mapped_name IS 'Name after .mailmap (same as name if not mapped).';
COMMENT ON COLUMN raw_git__mailmap.mapped_email IS 'Email after .mailmap (same as email if not mapped).';
COMMENT ON COLUMN raw_git__mailmap.run_id IS 'The run that asked git.';
