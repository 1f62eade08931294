-- stg_git__*: typed and renamed git data, one row per source entity, no joins.

-- '+0530' -> 330. git prints whatever offset a commit object holds ('+518:00' comes out as '+0518',
-- i.e. 318 minutes, a '+51800' verbatim): anything that is not [+-]HHMM gives NULL here; the raw
-- text stays in raw_git__commits.
CREATE OR REPLACE MACRO perftrust_utc_offset_minutes(tz) AS
    CASE WHEN regexp_full_match(tz, '[+-][0-9]{4}')
         THEN (CASE WHEN tz[1] = '-' THEN -1 ELSE 1 END)
              * (CAST(tz[2:3] AS INTEGER) * 60 + CAST(tz[4:5] AS INTEGER))
    END;

-- Epoch seconds -> UTC timestamp; NULL outside years 1..9999 (git accepts absurd dates, DuckDB does not).
CREATE OR REPLACE MACRO perftrust_epoch_to_utc(epoch) AS
    CASE WHEN epoch BETWEEN -62135596800 AND 253402300799 THEN make_timestamp(epoch * 1000000) END;

CREATE OR REPLACE VIEW stg_git__commits AS
SELECT
    repo,
    sha,
    parent_shas,
    len(parent_shas) AS count_parents,
    author_name,
    author_email,
    perftrust_epoch_to_utc(author_epoch) AS authored_at,
    perftrust_utc_offset_minutes(author_tz) AS author_utc_offset_minutes,
    committer_name,
    committer_email,
    perftrust_epoch_to_utc(committer_epoch) AS committed_at,
    perftrust_utc_offset_minutes(committer_tz) AS committer_utc_offset_minutes,
    message,
    split_part(message, chr(10), 1) AS subject,
    files,
    run_id,
    extracted_at
FROM raw_git__commits;
COMMENT ON VIEW stg_git__commits IS 'raw_git__commits typed: UTC timestamps, offsets in minutes, subject split out. One row per (repo, sha).';
COMMENT ON COLUMN stg_git__commits.repo IS 'Repository key.';
COMMENT ON COLUMN stg_git__commits.sha IS 'Full commit id.';
COMMENT ON COLUMN stg_git__commits.parent_shas IS 'Parent commit ids in order.';
COMMENT ON COLUMN stg_git__commits.count_parents IS 'Number of parents (2+ for a merge).';
COMMENT ON COLUMN stg_git__commits.author_name IS 'Author name as written (before .mailmap).';
COMMENT ON COLUMN stg_git__commits.author_email IS 'Author email as written (before .mailmap).';
COMMENT ON COLUMN stg_git__commits.authored_at IS 'Author time in UTC; NULL if outside years 1-9999.';
COMMENT ON COLUMN stg_git__commits.author_utc_offset_minutes IS 'Author UTC offset in minutes; NULL if git stored a malformed zone.';
COMMENT ON COLUMN stg_git__commits.committer_name IS 'Committer name as written.';
COMMENT ON COLUMN stg_git__commits.committer_email IS 'Committer email as written.';
COMMENT ON COLUMN stg_git__commits.committed_at IS 'Committer time in UTC.';
COMMENT ON COLUMN stg_git__commits.committer_utc_offset_minutes IS 'Committer UTC offset in minutes.';
COMMENT ON COLUMN stg_git__commits.message IS 'Full commit message.';
COMMENT ON COLUMN stg_git__commits.subject IS 'First line of the message.';
COMMENT ON COLUMN stg_git__commits.files IS 'Per-file numstat list (see raw_git__commits.files).';
COMMENT ON COLUMN stg_git__commits.run_id IS 'Run that extracted the commit.';
COMMENT ON COLUMN stg_git__commits.extracted_at IS 'When it was extracted (UTC).';

CREATE OR REPLACE VIEW stg_git__commit_files AS
SELECT
    repo,
    sha,
    file.path AS path,
    file.old_path AS old_path,
    file.lines_added AS lines_added,
    file.lines_deleted AS lines_deleted,
    file.lines_added IS NULL AS is_binary,
    file.old_path IS NOT NULL AS is_rename
FROM (SELECT repo, sha, unnest(files) AS file FROM raw_git__commits);
COMMENT ON VIEW stg_git__commit_files IS 'One row per commit and changed file (git log --numstat -M). Merges have none.';
COMMENT ON COLUMN stg_git__commit_files.repo IS 'Repository key.';
COMMENT ON COLUMN stg_git__commit_files.sha IS 'Commit id.';
COMMENT ON COLUMN stg_git__commit_files.path IS 'Path after the commit (the new path of a rename).';
COMMENT ON COLUMN stg_git__commit_files.old_path IS 'Path before a rename; NULL if not renamed.';
COMMENT ON COLUMN stg_git__commit_files.lines_added IS 'Lines added; NULL for a binary file.';
COMMENT ON COLUMN stg_git__commit_files.lines_deleted IS 'Lines deleted; NULL for a binary file.';
COMMENT ON COLUMN stg_git__commit_files.is_binary IS 'git reported the file as binary (no line counts).';
COMMENT ON COLUMN stg_git__commit_files.is_rename IS 'The file was renamed (old_path is set).';

-- Trailers are read from every line of the message, not only the last paragraph as git's own
-- parser does: squash merges keep their commits' Co-authored-by lines in middle paragraphs, and
-- those are real credit. is_in_final_paragraph tells the two apart.
-- Trailers are parsed once per commit and kept (pipeline/trailers.py keeps the table in step with
-- raw_git__commits): .mailmap, identities, credit metrics and reports all read them, and parsing every
-- message again each time cost seconds on large histories. The macro is the parser; the table its output.
CREATE OR REPLACE MACRO perftrust_commit_trailers(commits) AS TABLE
WITH trailer_lines AS (
    SELECT
        repo,
        sha,
        message,
        unnest(list_transform(
            regexp_extract_all(
                message,
                '(?im)^[ \t]*(?:co-authored-by|signed-off-by|reviewed-by|acked-by|tested-by|reported-by|suggested-by|helped-by)[ \t]*:[^\n]*$'
            ),
            lambda line, i: {'line': rtrim(line, chr(13) || ' ' || chr(9)), 'trailer_index': i}
        )) AS t
    FROM query_table(commits)
    WHERE regexp_matches(message, '(?i)-by[ \t]*:')
), parsed AS (
    SELECT
        repo,
        sha,
        message,
        t.trailer_index AS trailer_index,
        lower(trim(split_part(t.line, ':', 1))) AS trailer,
        trim(substr(t.line, strpos(t.line, ':') + 1)) AS value,
        t.line AS line
    FROM trailer_lines
), split AS (
    -- "Name <email>" without a regular expression (per value they cost more than the rest together):
    -- the email sits between the last '<' and a final '>', with no '>' in between.
    SELECT *,
        length(value) + 1 - strpos(reverse(value), '<') AS open_at
    FROM parsed
)
SELECT repo, sha, trailer_index, trailer,
    CASE WHEN has_email THEN trim(left(value, open_at - 1)) ELSE value END AS name,
    CASE WHEN has_email THEN nullif(trim(substr(value, open_at + 1, length(value) - open_at - 1)), '') END AS email,
    -- In the last paragraph (after the last blank line), where git itself reads trailers.
    contains(list_last(string_split_regex(rtrim(message, chr(10) || chr(13) || ' '), '\n[ \t\r]*\n')), line)
        AS is_in_final_paragraph,
    line
FROM (SELECT *, open_at <= length(value) AND ends_with(value, '>')
                AND NOT contains(substr(value, open_at + 1, length(value) - open_at - 1), '>') AS has_email
      FROM split);
CREATE TABLE IF NOT EXISTS stg_git__commit_trailers (
    repo VARCHAR NOT NULL,
    sha VARCHAR NOT NULL,
    trailer_index BIGINT NOT NULL,
    trailer VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR,
    is_in_final_paragraph BOOLEAN,
    line VARCHAR NOT NULL
);
COMMENT ON TABLE stg_git__commit_trailers IS 'One row per credit trailer line (Co-authored-by, Signed-off-by, Reviewed-by, Acked-by, Tested-by, Reported-by, Suggested-by, Helped-by; any case) anywhere in a commit message. Parsed once per commit from raw_git__commits.message (macro perftrust_commit_trailers) and kept in step with it.';
COMMENT ON COLUMN stg_git__commit_trailers.repo IS 'Repository key.';
COMMENT ON COLUMN stg_git__commit_trailers.sha IS 'Commit id.';
COMMENT ON COLUMN stg_git__commit_trailers.trailer_index IS 'Position of the trailer among the commit''s trailers (1-based).';
COMMENT ON COLUMN stg_git__commit_trailers.trailer IS 'Trailer key in lower case, e.g. co-authored-by.';
COMMENT ON COLUMN stg_git__commit_trailers.name IS 'Name as written in the trailer (before .mailmap).';
COMMENT ON COLUMN stg_git__commit_trailers.email IS 'Email as written in the trailer; NULL if the trailer has no <email>.';
COMMENT ON COLUMN stg_git__commit_trailers.is_in_final_paragraph IS 'The line is in the message''s last paragraph (where git itself looks for trailers).';
COMMENT ON COLUMN stg_git__commit_trailers.line IS 'The trailer line as written.';
