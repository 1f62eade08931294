-- fct_*: the git facts users query. Views over raw + dim, so a new .mailmap or alias applies to all history.

CREATE OR REPLACE VIEW fct_commits AS
WITH reverts AS (
    SELECT repo, sha, regexp_extract(message, 'This reverts commit ([0-9a-fA-F]{7,64})', 1) AS reverted_prefix
    FROM raw_git__commits
    WHERE message LIKE '%This reverts commit %'
), resolved_reverts AS (
    -- Revert messages may abbreviate the sha: match on a 7-character prefix (hash join), then confirm.
    SELECT r.repo, r.sha, any_value(t.sha) AS reverted_sha, count(t.sha) AS count_matches
    FROM reverts r
    LEFT JOIN raw_git__commits t
        ON t.repo = r.repo AND left(t.sha, 7) = left(lower(r.reverted_prefix), 7)
        AND starts_with(t.sha, lower(r.reverted_prefix))
    WHERE r.reverted_prefix <> ''
    GROUP BY ALL
)
SELECT
    c.repo,
    c.sha,
    coalesce(am.mapped_name, c.author_name) AS author_name,
    coalesce(am.mapped_email, c.author_email) AS author_email,
    ai.contributor_id AS author_contributor_id,
    c.authored_at,
    c.author_utc_offset_minutes,
    coalesce(cm.mapped_name, c.committer_name) AS committer_name,
    coalesce(cm.mapped_email, c.committer_email) AS committer_email,
    ci.contributor_id AS committer_contributor_id,
    c.committed_at,
    c.count_parents > 1 AS is_merge,
    c.count_parents AS parent_count,
    c.parent_shas,
    CASE WHEN c.count_parents > 1 THEN NULL ELSE len(c.files) END AS files_changed,
    CASE WHEN c.count_parents > 1 THEN NULL
         ELSE coalesce(list_sum(list_transform(c.files, lambda f: f.lines_added)), 0) END AS lines_added,
    CASE WHEN c.count_parents > 1 THEN NULL
         ELSE coalesce(list_sum(list_transform(c.files, lambda f: f.lines_deleted)), 0) END AS lines_deleted,
    rr.sha IS NOT NULL AS is_revert,
    CASE WHEN rr.count_matches = 1 THEN rr.reverted_sha ELSE r.reverted_prefix END AS reverted_sha,
    c.subject,
    c.message
FROM stg_git__commits c
LEFT JOIN raw_git__mailmap am ON am.repo = c.repo AND am.name = c.author_name AND am.email = c.author_email
LEFT JOIN dim_identities ai ON ai.source = 'git' AND ai.name = c.author_name AND ai.email = c.author_email
LEFT JOIN raw_git__mailmap cm
    ON cm.repo = c.repo AND cm.name = c.committer_name AND cm.email = c.committer_email
LEFT JOIN dim_identities ci
    ON ci.source = 'git' AND ci.name = c.committer_name AND ci.email = c.committer_email
LEFT JOIN reverts r ON r.repo = c.repo AND r.sha = c.sha AND r.reverted_prefix <> ''
LEFT JOIN resolved_reverts rr ON rr.repo = c.repo AND rr.sha = c.sha;
COMMENT ON VIEW fct_commits IS 'One row per commit and repository, identities after .mailmap and resolved to contributors. Holds exactly the commits reachable from the synced refs (commits rewritten away are removed).';
COMMENT ON COLUMN fct_commits.repo IS 'Repository key (dim_repositories.repo).';
COMMENT ON COLUMN fct_commits.sha IS 'Full commit id. Key: (repo, sha).';
COMMENT ON COLUMN fct_commits.author_name IS 'Author name after .mailmap.';
COMMENT ON COLUMN fct_commits.author_email IS 'Author email after .mailmap.';
COMMENT ON COLUMN fct_commits.author_contributor_id IS 'Author as a contributor (dim_contributors).';
COMMENT ON COLUMN fct_commits.authored_at IS 'Author time (UTC).';
COMMENT ON COLUMN fct_commits.author_utc_offset_minutes IS 'Author UTC offset in minutes (NULL if malformed in git).';
COMMENT ON COLUMN fct_commits.committer_name IS 'Committer name after .mailmap.';
COMMENT ON COLUMN fct_commits.committer_email IS 'Committer email after .mailmap.';
COMMENT ON COLUMN fct_commits.committer_contributor_id IS 'Committer as a contributor (dim_contributors).';
COMMENT ON COLUMN fct_commits.committed_at IS 'Committer time (UTC).';
COMMENT ON COLUMN fct_commits.is_merge IS 'Has two or more parents.';
COMMENT ON COLUMN fct_commits.parent_count IS 'Number of parents.';
COMMENT ON COLUMN fct_commits.parent_shas IS 'Parent commit ids in order.';
COMMENT ON COLUMN fct_commits.files_changed IS 'Files changed; NULL for merges (git log --numstat shows no diff for merges).';
COMMENT ON COLUMN fct_commits.lines_added IS 'Lines added over all text files; NULL for merges.';
COMMENT ON COLUMN fct_commits.lines_deleted IS 'Lines deleted over all text files; NULL for merges.';
COMMENT ON COLUMN fct_commits.is_revert IS 'The message says "This reverts commit <sha>".';
COMMENT ON COLUMN fct_commits.reverted_sha IS 'The reverted commit: its full id when loaded, else the id as written in the message.';
COMMENT ON COLUMN fct_commits.subject IS 'First line of the message.';
COMMENT ON COLUMN fct_commits.message IS 'Full commit message.';

CREATE OR REPLACE VIEW fct_commit_files AS
SELECT repo, sha, path, old_path, lines_added, lines_deleted, is_binary, is_rename
FROM stg_git__commit_files;
COMMENT ON VIEW fct_commit_files IS 'One row per commit and changed file. Key: (repo, sha, path). Merges have no rows.';
COMMENT ON COLUMN fct_commit_files.repo IS 'Repository key.';
COMMENT ON COLUMN fct_commit_files.sha IS 'Commit id (fct_commits.sha).';
COMMENT ON COLUMN fct_commit_files.path IS 'Path after the commit (new path of a rename).';
COMMENT ON COLUMN fct_commit_files.old_path IS 'Path before a rename; NULL otherwise.';
COMMENT ON COLUMN fct_commit_files.lines_added IS 'Lines added; NULL for binary files.';
COMMENT ON COLUMN fct_commit_files.lines_deleted IS 'Lines deleted; NULL for binary files.';
COMMENT ON COLUMN fct_commit_files.is_binary IS 'Binary file (no line counts).';
COMMENT ON COLUMN fct_commit_files.is_rename IS 'Renamed (old_path set).';

CREATE OR REPLACE VIEW fct_commit_trailers AS
SELECT
    t.repo,
    t.sha,
    t.trailer_index,
    t.trailer,
    coalesce(m.mapped_name, t.name) AS name,
    coalesce(m.mapped_email, t.email) AS email,
    i.contributor_id,
    t.is_in_final_paragraph,
    t.line
FROM stg_git__commit_trailers t
LEFT JOIN raw_git__mailmap m ON m.repo = t.repo AND m.name = t.name AND m.email = t.email
LEFT JOIN dim_identities i
    ON i.source = 'git' AND i.name = t.name AND i.email IS NOT DISTINCT FROM t.email;
COMMENT ON VIEW fct_commit_trailers IS 'One row per credit trailer in a commit message (Co-authored-by, Signed-off-by, Reviewed-by, Acked-by, Tested-by, Reported-by, Suggested-by, Helped-by), anywhere in the message. Key: (repo, sha, trailer_index).';
COMMENT ON COLUMN fct_commit_trailers.repo IS 'Repository key.';
COMMENT ON COLUMN fct_commit_trailers.sha IS 'Commit id.';
COMMENT ON COLUMN fct_commit_trailers.trailer_index IS 'Position among the commit''s trailers (1-based).';
COMMENT ON COLUMN fct_commit_trailers.trailer IS 'Trailer key, lower case (co-authored-by, signed-off-by, ...).';
COMMENT ON COLUMN fct_commit_trailers.name IS 'Credited name after .mailmap.';
COMMENT ON COLUMN fct_commit_trailers.email IS 'Credited email after .mailmap; NULL if the trailer has none.';
COMMENT ON COLUMN fct_commit_trailers.contributor_id IS 'Credited contributor (dim_contributors).';
COMMENT ON COLUMN fct_commit_trailers.is_in_final_paragraph IS 'In the last paragraph, where git''s own trailer parser looks.';
COMMENT ON COLUMN fct_commit_trailers.line IS 'The trailer line as written.';
