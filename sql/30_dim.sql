-- dim_*: repositories, identities and the contributors they resolve to.
-- Filled by pipeline/identities.py after every sync (rebuilt whole: deterministic keys, cheap).

CREATE TABLE IF NOT EXISTS dim_repositories (
    repo VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    path VARCHAR,
    remote_url VARCHAR,
    ref_selection VARCHAR,
    is_bare BOOLEAN,
    is_shallow BOOLEAN,
    first_synced_at TIMESTAMP,
    last_synced_at TIMESTAMP,
    last_run_id VARCHAR
);
COMMENT ON TABLE dim_repositories IS 'One row per repository synced. The repo key is owner/name for GitHub remotes, else the directory name, or the NAME given as --repo NAME=PATH.';
COMMENT ON COLUMN dim_repositories.repo IS 'Repository key used by every other table.';
COMMENT ON COLUMN dim_repositories.source IS 'Where its history came from: git (a local clone).';
COMMENT ON COLUMN dim_repositories.path IS 'Local path of the clone at the last sync.';
COMMENT ON COLUMN dim_repositories.remote_url IS 'URL of the origin remote with any credentials removed; NULL if none.';
COMMENT ON COLUMN dim_repositories.ref_selection IS 'Which refs are synced: default (the default branch), all (every branch) or branch:NAME.';
COMMENT ON COLUMN dim_repositories.is_bare IS 'The clone is bare.';
COMMENT ON COLUMN dim_repositories.is_shallow IS 'The clone is shallow: history before its boundary is missing.';
COMMENT ON COLUMN dim_repositories.first_synced_at IS 'First sync (UTC).';
COMMENT ON COLUMN dim_repositories.last_synced_at IS 'Last successful sync (UTC).';
COMMENT ON COLUMN dim_repositories.last_run_id IS 'Run of the last successful sync.';

CREATE TABLE IF NOT EXISTS dim_identities (
    identity_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR,
    github_login VARCHAR,
    contributor_id VARCHAR NOT NULL,
    resolved_by VARCHAR[] NOT NULL,
    is_bot BOOLEAN NOT NULL,
    count_commits_authored BIGINT NOT NULL,
    count_trailer_mentions BIGINT NOT NULL
);
COMMENT ON TABLE dim_identities IS 'One row per identity as written in the data: a git (name, email) pair from authors, committers or trailers, or a GitHub login from issues, pull requests and reviews. Each resolves to one contributor.';
COMMENT ON COLUMN dim_identities.identity_id IS 'Deterministic key: git:Name <email>, or github:login.';
COMMENT ON COLUMN dim_identities.source IS 'git or github.';
COMMENT ON COLUMN dim_identities.name IS 'Name as written (the login for GitHub identities).';
COMMENT ON COLUMN dim_identities.email IS 'Email as written (NULL for a trailer without email).';
COMMENT ON COLUMN dim_identities.github_login IS 'GitHub login: the account itself, read from a users.noreply.github.com address, named by GitHub''s commit API, or given as an alias.';
COMMENT ON COLUMN dim_identities.contributor_id IS 'The contributor (dim_contributors) this identity belongs to.';
COMMENT ON COLUMN dim_identities.resolved_by IS 'What linked it to other identities of the contributor: mailmap, email (same address, any case), noreply (GitHub login in the address), github_api (GitHub commit API), alias (perftrust.toml). Empty: linked to nothing else.';
COMMENT ON COLUMN dim_identities.is_bot IS 'A bot: GitHub type Bot, or matches a bot pattern ([bot] logins, known automation accounts, configured patterns).';
COMMENT ON COLUMN dim_identities.count_commits_authored IS 'Commits authored under this identity (all repositories).';
COMMENT ON COLUMN dim_identities.count_trailer_mentions IS 'Trailer lines naming this identity.';

CREATE TABLE IF NOT EXISTS dim_contributors (
    contributor_id VARCHAR PRIMARY KEY,
    display_name VARCHAR NOT NULL,
    primary_email VARCHAR,
    github_login VARCHAR,
    is_bot BOOLEAN NOT NULL,
    count_identities INTEGER NOT NULL,
    names VARCHAR[] NOT NULL,
    emails VARCHAR[] NOT NULL,
    count_commits_authored BIGINT NOT NULL
);
COMMENT ON TABLE dim_contributors IS 'One row per person (or bot): identities joined through .mailmap, case-folded emails, GitHub noreply addresses and configured aliases. Bots stay here but are left out of metrics.';
COMMENT ON COLUMN dim_contributors.contributor_id IS 'Deterministic key: alias:NAME for a configured alias, else github:LOGIN when a login is known, else email:ADDRESS (the canonical .mailmap address, lower case).';
COMMENT ON COLUMN dim_contributors.display_name IS 'The alias name, else the .mailmap name used on most commits.';
COMMENT ON COLUMN dim_contributors.primary_email IS 'The email (after .mailmap, lower case) used on most commits.';
COMMENT ON COLUMN dim_contributors.github_login IS 'GitHub login if known.';
COMMENT ON COLUMN dim_contributors.is_bot IS 'Every identity of the contributor is a bot.';
COMMENT ON COLUMN dim_contributors.count_identities IS 'Number of identities (dim_identities) resolved to this contributor.';
COMMENT ON COLUMN dim_contributors.names IS 'Every name seen for the contributor (after .mailmap), sorted.';
COMMENT ON COLUMN dim_contributors.emails IS 'Every email seen for the contributor (lower case), sorted.';
COMMENT ON COLUMN dim_contributors.count_commits_authored IS 'Commits authored (all repositories, reachable or not).';

CREATE OR REPLACE VIEW unresolved_identities AS
WITH people AS (
    SELECT c.contributor_id, lower(trim(c.display_name)) AS folded_name, c.github_login, c.is_bot,
           c.count_commits_authored
    FROM dim_contributors c
), namesakes AS (
    SELECT folded_name FROM people WHERE NOT is_bot GROUP BY folded_name HAVING count(*) > 1
), has_github AS (
    SELECT count(*) > 0 AS any_github FROM dim_identities WHERE source = 'github'
)
SELECT i.identity_id, i.source, i.name, i.email, i.contributor_id,
       CASE
           WHEN p.folded_name IN (SELECT folded_name FROM namesakes)
               THEN 'shares its name with another contributor: the same person? add an alias'
           WHEN i.source = 'github' AND p.count_commits_authored = 0
               THEN 'GitHub account linked to no commit author: add an alias or a .mailmap entry'
           ELSE 'git identity linked to no GitHub account: add an alias with github:LOGIN'
       END AS reason
FROM dim_identities i
JOIN people p USING (contributor_id)
WHERE NOT p.is_bot
  AND (p.folded_name IN (SELECT folded_name FROM namesakes)
       OR ((SELECT any_github FROM has_github) AND p.github_login IS NULL)
       OR (i.source = 'github' AND p.count_commits_authored = 0 AND EXISTS (SELECT 1 FROM raw_git__commits)));
COMMENT ON VIEW unresolved_identities IS 'Identities perftrust could not link with confidence, with the reason and the fix: contributors sharing a name (the same person with two addresses, or two people?), GitHub accounts with no commits, and, once GitHub data exists, git identities with no GitHub account. Reports list them under data quality.';
COMMENT ON COLUMN unresolved_identities.identity_id IS 'dim_identities.identity_id.';
COMMENT ON COLUMN unresolved_identities.source IS 'git or github.';
COMMENT ON COLUMN unresolved_identities.name IS 'Name (or login) as written.';
COMMENT ON COLUMN unresolved_identities.email IS 'Email as written (git identities).';
COMMENT ON COLUMN unresolved_identities.contributor_id IS 'The contributor it resolved to on its own.';
COMMENT ON COLUMN unresolved_identities.reason IS 'Why it is listed, and what to add to perftrust.toml [identities.aliases] or .mailmap.';
