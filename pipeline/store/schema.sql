-- callqa's DuckDB schema: tables along the flow of one call, and views for people and tools.
-- Times are seconds from the start of the recording. Every score row names its scorecard's id
-- and version (a hash of the scorecard's content).

CREATE TABLE IF NOT EXISTS calls (
    call_id        VARCHAR PRIMARY KEY,
    source_path    VARCHAR NOT NULL,
    file_sha256    VARCHAR,
    agent_id       VARCHAR NOT NULL DEFAULT 'unknown',
    agent_name     VARCHAR,
    department     VARCHAR,
    started_at     TIMESTAMP,          -- from the manifest; NULL when unknown
    channel_layout VARCHAR,            -- agent_left | agent_right | mono
    language       VARCHAR,
    duration_s     DOUBLE,
    model          VARCHAR,            -- the Whisper model that transcribed it
    status         VARCHAR NOT NULL,   -- scored | failed
    error          VARCHAR,            -- why it failed, for a person to act on
    attempts       INTEGER NOT NULL DEFAULT 1,
    processed_at   TIMESTAMP NOT NULL,
    run_id         VARCHAR
);

CREATE TABLE IF NOT EXISTS utterances (
    call_id    VARCHAR NOT NULL,
    idx        INTEGER NOT NULL,
    speaker    VARCHAR NOT NULL,       -- agent | customer
    start_s    DOUBLE NOT NULL,
    end_s      DOUBLE NOT NULL,
    text       VARCHAR NOT NULL,
    confidence DOUBLE,                 -- mean Whisper word probability
    words      VARCHAR,                -- JSON [[word, start_s, end_s, probability], ...]
    PRIMARY KEY (call_id, idx)
);

CREATE TABLE IF NOT EXISTS holds (
    call_id    VARCHAR NOT NULL,
    hold_idx   INTEGER NOT NULL,
    start_s    DOUBLE NOT NULL,
    end_s      DOUBLE NOT NULL,
    duration_s DOUBLE NOT NULL,
    PRIMARY KEY (call_id, hold_idx)
);

CREATE TABLE IF NOT EXISTS metrics (
    call_id            VARCHAR PRIMARY KEY,
    duration_s         DOUBLE,
    time_to_answer_s   DOUBLE,         -- start of recording to the agent's first words
    handle_time_s      DOUBLE,         -- agent's first words to the end (talk + hold)
    agent_talk_s       DOUBLE,
    customer_talk_s    DOUBLE,
    silence_s          DOUBLE,
    silence_share      DOUBLE,
    overtalk_s         DOUBLE,
    talk_listen_ratio  DOUBLE,
    agent_talk_share   DOUBLE,
    dead_air_count     INTEGER,
    longest_dead_air_s DOUBLE,
    hold_count         INTEGER,
    hold_total_s       DOUBLE,
    longest_hold_s     DOUBLE,
    agent_wpm          DOUBLE,
    customer_wpm       DOUBLE
);

-- What redaction removed from the transcript before it was stored: the kind and where, never the words.
CREATE TABLE IF NOT EXISTS redactions (
    call_id VARCHAR NOT NULL,
    kind    VARCHAR NOT NULL,          -- card | cvv | account | id | email | phone | number
    speaker VARCHAR,
    start_s DOUBLE,
    end_s   DOUBLE
);

CREATE TABLE IF NOT EXISTS findings (
    call_id           VARCHAR NOT NULL,
    scorecard_id      VARCHAR NOT NULL,
    scorecard_version VARCHAR NOT NULL,
    item_id           VARCHAR NOT NULL,
    rule              VARCHAR NOT NULL, -- e.g. phrases, hold_phrases:before, hold_duration
    speaker           VARCHAR,          -- NULL for events that are not speech (a hold)
    text              VARCHAR,          -- the words quoted as evidence
    start_s           DOUBLE,
    end_s             DOUBLE,
    confidence        DOUBLE,
    hold_idx          INTEGER           -- the hold a hold rule's finding belongs to
);

CREATE TABLE IF NOT EXISTS item_results (
    call_id           VARCHAR NOT NULL,
    scorecard_id      VARCHAR NOT NULL,
    scorecard_version VARCHAR NOT NULL,
    item_id           VARCHAR NOT NULL,
    section           VARCHAR,
    outcome           VARCHAR NOT NULL, -- pass | fail | na
    weight            DOUBLE,
    auto_fail         BOOLEAN,
    reason            VARCHAR,
    PRIMARY KEY (call_id, scorecard_id, scorecard_version, item_id)
);

CREATE TABLE IF NOT EXISTS call_scores (
    call_id           VARCHAR NOT NULL,
    scorecard_id      VARCHAR NOT NULL,
    scorecard_version VARCHAR NOT NULL,
    score             DOUBLE,           -- 0-100, NULL when no item applied
    flagged           BOOLEAN NOT NULL,
    flag_reasons      VARCHAR[],
    scored_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (call_id, scorecard_id, scorecard_version)
);

-- The newest score of each call against each scorecard.
CREATE OR REPLACE VIEW latest_scores AS
SELECT * EXCLUDE (rn) FROM (
    SELECT s.*, row_number() OVER (PARTITION BY call_id, scorecard_id ORDER BY scored_at DESC) AS rn
    FROM call_scores s
) WHERE rn = 1;

-- Each hold with what the agent did around it (per scorecard version).
CREATE OR REPLACE VIEW hold_details AS
SELECT h.*, s.scorecard_id, s.scorecard_version,
       EXISTS (SELECT 1 FROM findings f WHERE f.call_id = h.call_id AND f.hold_idx = h.hold_idx
               AND f.scorecard_version = s.scorecard_version AND f.rule = 'hold_phrases:before') AS announced,
       EXISTS (SELECT 1 FROM findings f WHERE f.call_id = h.call_id AND f.hold_idx = h.hold_idx
               AND f.scorecard_version = s.scorecard_version AND f.rule = 'hold_phrases:after') AS acknowledged
FROM holds h JOIN latest_scores s USING (call_id);

-- One row per scored call and scorecard: what a reviewer's queue and the CLI list.
CREATE OR REPLACE VIEW call_overview AS
SELECT c.call_id, c.agent_id, c.agent_name, c.department, c.started_at,
       coalesce(c.started_at, c.processed_at) AS call_time,
       c.channel_layout, c.language, c.duration_s, s.scorecard_id, s.scorecard_version,
       s.score, s.flagged, s.flag_reasons, m.handle_time_s, m.time_to_answer_s,
       m.hold_count, m.longest_hold_s, m.silence_share, m.talk_listen_ratio, c.source_path
FROM calls c JOIN latest_scores s USING (call_id) LEFT JOIN metrics m USING (call_id)
WHERE c.status = 'scored';

-- agent_scorecards and agent_item_pass_rates are defined at the end, on final_item_results
-- (reviewed outcomes where a reviewer decided, the machine's otherwise).

-- Added after the first release: when retention removed the call's transcript (and recording).
ALTER TABLE calls ADD COLUMN IF NOT EXISTS purged_at TIMESTAMP;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS queue VARCHAR;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS call_type VARCHAR;
ALTER TABLE item_results ADD COLUMN IF NOT EXISTS bonus BOOLEAN;
ALTER TABLE call_scores ADD COLUMN IF NOT EXISTS band VARCHAR;
ALTER TABLE calls ADD COLUMN IF NOT EXISTS permanent_failure BOOLEAN;  -- not retried until the file's content changes
ALTER TABLE calls ADD COLUMN IF NOT EXISTS recordings_dir VARCHAR;     -- the folder the run was given (retention stays inside it)
ALTER TABLE calls ADD COLUMN IF NOT EXISTS file_size BIGINT;           -- size and mtime when scored: unchanged files are not re-hashed
ALTER TABLE calls ADD COLUMN IF NOT EXISTS file_mtime DOUBLE;   -- performance band, when the scorecard has bands

-- What each scorecard version stood for, written with its first scores: the items in the
-- scorecard's order and the standards the views apply (the hold limit of its hold_duration rule),
-- so a view never hard-codes a standard that the scorecard sets.
CREATE TABLE IF NOT EXISTS scorecard_versions (
    scorecard_id      VARCHAR NOT NULL,
    scorecard_version VARCHAR NOT NULL,
    item_ids          VARCHAR[],        -- in the scorecard's order
    hold_limit_s      DOUBLE,           -- the longest hold its hold_duration rule allows; NULL without one
    first_scored_at   TIMESTAMP,
    PRIMARY KEY (scorecard_id, scorecard_version)
);

-- A database scored before that table: each version recovered from its results, as well as they
-- tell it (items in the order they were stored; the hold limit from the hold_duration reason,
-- "... over 60 s: ..." or "... (standard 60 s)"; NULL when no call of it had a hold).
INSERT INTO scorecard_versions
SELECT s.scorecard_id, s.scorecard_version,
       (SELECT list(item_id ORDER BY first_row) FROM (
            SELECT item_id, min(rowid) AS first_row FROM item_results i
            WHERE i.scorecard_id = s.scorecard_id AND i.scorecard_version = s.scorecard_version GROUP BY item_id)),
       (SELECT max(TRY_CAST(coalesce(nullif(regexp_extract(reason, 'hold\(s\) over ([0-9.]+) s:', 1), ''),
                                     nullif(regexp_extract(reason, '\(standard ([0-9.]+) s\)$', 1), '')) AS DOUBLE))
        FROM item_results i WHERE i.scorecard_id = s.scorecard_id AND i.scorecard_version = s.scorecard_version),
       min(s.scored_at)
FROM call_scores s
WHERE NOT EXISTS (SELECT 1 FROM scorecard_versions v
                  WHERE v.scorecard_id = s.scorecard_id AND v.scorecard_version = s.scorecard_version)
GROUP BY s.scorecard_id, s.scorecard_version;

-- === Reviewer workbench (pipeline/web): people, their verdicts, disputes ========================
-- Human decisions live beside the machine's rows and never change them: a review is a new row
-- (history kept), the newest review of an item is the item's final result.

-- Who may sign in to `callqa review`. role: reviewer | lead | agent (an agent sees only the calls
-- of `agent_id`, read-only, and may dispute their reviewed items). Passwords are argon2id hashes.
CREATE TABLE IF NOT EXISTS users (
    username      VARCHAR PRIMARY KEY,
    password_hash VARCHAR NOT NULL,
    role          VARCHAR NOT NULL,
    agent_id      VARCHAR,
    display_name  VARCHAR,
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMP NOT NULL
);

-- One person's verdict on one scorecard item of one call (append-only: a changed mind is a new row).
CREATE TABLE IF NOT EXISTS item_reviews (
    review_id         VARCHAR PRIMARY KEY,
    call_id           VARCHAR NOT NULL,
    scorecard_id      VARCHAR NOT NULL,
    scorecard_version VARCHAR NOT NULL,
    item_id           VARCHAR NOT NULL,
    machine_outcome   VARCHAR,            -- what the machine said when the person decided
    outcome           VARCHAR NOT NULL,   -- pass | fail | na
    comment           VARCHAR,
    reviewer          VARCHAR NOT NULL,   -- users.username
    reviewer_role     VARCHAR,
    reviewed_at       TIMESTAMP NOT NULL,
    dispute_id        VARCHAR             -- set when a lead's resolution of a dispute made this row
);

-- An agent or lead disputes a reviewed item; a lead resolves it (upheld: the outcome changes by a
-- new item_reviews row; rejected: it stays). The dispute row and every review stay as history.
CREATE TABLE IF NOT EXISTS disputes (
    dispute_id        VARCHAR PRIMARY KEY,
    call_id           VARCHAR NOT NULL,
    scorecard_id      VARCHAR NOT NULL,
    scorecard_version VARCHAR NOT NULL,
    item_id           VARCHAR NOT NULL,
    review_id         VARCHAR,            -- the review disputed
    disputed_outcome  VARCHAR,            -- the final outcome when disputed
    reason            VARCHAR NOT NULL,
    raised_by         VARCHAR NOT NULL,
    raised_at         TIMESTAMP NOT NULL,
    status            VARCHAR NOT NULL,   -- open | upheld | rejected
    resolved_by       VARCHAR,
    resolved_at       TIMESTAMP,
    resolution        VARCHAR,            -- the lead's comment
    resolved_outcome  VARCHAR             -- the outcome after resolution
);

-- The newest review of each item of each scored version (any reviewer).
CREATE OR REPLACE VIEW latest_item_reviews AS
SELECT * EXCLUDE (rn) FROM (
    SELECT r.*, row_number() OVER (PARTITION BY call_id, scorecard_id, scorecard_version, item_id
                                   ORDER BY reviewed_at DESC, review_id DESC) AS rn
    FROM item_reviews r
) WHERE rn = 1;

-- Each call's final item results: the newest review where one exists, the machine's otherwise;
-- `source` says which ('review' | 'machine'); the machine's outcome is kept beside it.
CREATE OR REPLACE VIEW final_item_results AS
SELECT i.call_id, i.scorecard_id, i.scorecard_version, i.item_id, i.section,
       coalesce(r.outcome, i.outcome) AS outcome,
       CASE WHEN r.outcome IS NULL THEN 'machine' ELSE 'review' END AS source,
       i.outcome AS machine_outcome, i.weight, i.auto_fail, i.bonus, i.reason,
       r.reviewer, r.reviewed_at, r.comment AS review_comment, r.review_id
FROM item_results i
LEFT JOIN latest_item_reviews r USING (call_id, scorecard_id, scorecard_version, item_id);

-- Each call's newest score with reviews applied (same rule as pipeline.scoring.score: weighted
-- share of applicable non-bonus items passed, 0 on a failed auto-fail item); the machine's score
-- where no item was reviewed.
CREATE OR REPLACE VIEW final_call_scores AS
WITH f AS (
    SELECT call_id, scorecard_id, scorecard_version,
           count(*) FILTER (WHERE source = 'review') AS reviewed_items,
           sum(weight) FILTER (WHERE outcome IN ('pass', 'fail') AND NOT coalesce(bonus, false)) AS applicable_weight,
           coalesce(sum(weight) FILTER (WHERE outcome = 'pass'), 0) AS earned_weight,
           coalesce(bool_or(coalesce(auto_fail, false) AND outcome = 'fail'), false) AS auto_failed
    FROM final_item_results GROUP BY ALL
)
SELECT s.call_id, s.scorecard_id, s.scorecard_version, s.score AS machine_score,
       CASE WHEN coalesce(f.reviewed_items, 0) = 0 THEN s.score
            WHEN f.auto_failed THEN 0.0
            ELSE round(least(100.0, 100.0 * f.earned_weight / nullif(f.applicable_weight, 0)), 1) END AS score,
       coalesce(f.reviewed_items, 0) > 0 AS reviewed, coalesce(f.reviewed_items, 0) AS reviewed_items
FROM latest_scores s LEFT JOIN f USING (call_id, scorecard_id, scorecard_version);

-- Agent scorecards per day and per week, on final results (reviewed where reviewed), one row per
-- agent, period and scorecard. The hold standard is the scorecard version's own (`hold_limit_s`
-- from scorecard_versions): `holds_over_limit` counts the holds longer than it.
CREATE OR REPLACE VIEW agent_scorecards AS
WITH periods AS (
    SELECT 'day' AS period, date_trunc('day', o.call_time) AS period_start, o.*, fs.score AS final_score, fs.reviewed
    FROM call_overview o LEFT JOIN final_call_scores fs USING (call_id, scorecard_id, scorecard_version)
    UNION ALL
    SELECT 'week' AS period, date_trunc('week', o.call_time) AS period_start, o.*, fs.score AS final_score, fs.reviewed
    FROM call_overview o LEFT JOIN final_call_scores fs USING (call_id, scorecard_id, scorecard_version)
), hold_stats AS (
    SELECT h.call_id, h.scorecard_id, h.scorecard_version, count(*) AS holds,
           any_value(v.hold_limit_s) AS hold_limit_s,
           count(*) FILTER (WHERE h.duration_s > v.hold_limit_s) AS holds_over_limit,
           count(*) FILTER (WHERE NOT h.acknowledged) AS holds_without_apology,
           sum(h.duration_s) AS hold_s, max(h.duration_s) AS longest_hold_s
    FROM hold_details h LEFT JOIN scorecard_versions v USING (scorecard_id, scorecard_version)
    GROUP BY h.call_id, h.scorecard_id, h.scorecard_version
)
SELECT p.period, CAST(p.period_start AS DATE) AS period_start, p.agent_id,
       any_value(p.agent_name) AS agent_name, p.scorecard_id,
       count(*) AS calls,
       round(avg(coalesce(p.final_score, p.score)), 1) AS avg_score,
       count(*) FILTER (WHERE p.flagged) AS flagged_calls,
       round(avg(p.handle_time_s), 1) AS avg_handle_time_s,
       CAST(coalesce(sum(h.holds), 0) AS INTEGER) AS holds,
       round(sum(h.hold_s) / nullif(sum(h.holds), 0), 1) AS avg_hold_s,
       coalesce(max(h.longest_hold_s), 0) AS longest_hold_s,
       max(coalesce(h.hold_limit_s, v.hold_limit_s)) AS hold_limit_s,
       CAST(coalesce(sum(h.holds_over_limit), 0) AS INTEGER) AS holds_over_limit,
       CAST(coalesce(sum(h.holds_without_apology), 0) AS INTEGER) AS holds_without_apology,
       count(*) FILTER (WHERE p.reviewed) AS reviewed_calls
FROM periods p
LEFT JOIN hold_stats h ON h.call_id = p.call_id AND h.scorecard_id = p.scorecard_id AND h.scorecard_version = p.scorecard_version
LEFT JOIN scorecard_versions v ON v.scorecard_id = p.scorecard_id AND v.scorecard_version = p.scorecard_version
GROUP BY p.period, p.period_start, p.agent_id, p.scorecard_id;

-- Pass rate of each item per agent and period, on final results (replaces the definition above).
CREATE OR REPLACE VIEW agent_item_pass_rates AS
WITH periods AS (
    SELECT 'day' AS period, date_trunc('day', call_time) AS period_start, * FROM call_overview
    UNION ALL
    SELECT 'week' AS period, date_trunc('week', call_time) AS period_start, * FROM call_overview
)
SELECT p.period, CAST(p.period_start AS DATE) AS period_start, p.agent_id, p.scorecard_id, r.item_id,
       count(*) FILTER (WHERE r.outcome IN ('pass', 'fail')) AS applicable_calls,
       round(avg(CASE r.outcome WHEN 'pass' THEN 1.0 WHEN 'fail' THEN 0.0 END), 3) AS pass_rate,
       count(*) FILTER (WHERE r.source = 'review') AS reviewed_calls
FROM periods p JOIN final_item_results r
  ON r.call_id = p.call_id AND r.scorecard_id = p.scorecard_id AND r.scorecard_version = p.scorecard_version
GROUP BY ALL;

-- Which schema the file was last brought up to (a hash of this file): a reader that finds an
-- older one applies this file once, so a database from an earlier callqa gains new tables and
-- views before anything reads them.
CREATE TABLE IF NOT EXISTS callqa_schema (stamp VARCHAR NOT NULL);

-- === Coaching (pipeline/coaching): who belongs to which team, and the coaching log ==============
-- Teams are an organisation's structure, not a property of a call: the roster says which team and
-- department an agent belongs to (a report compares the agent with their team). Without a roster
-- row, an agent's team is their calls' department.
CREATE TABLE IF NOT EXISTS agent_roster (
    agent_id   VARCHAR PRIMARY KEY,
    agent_name VARCHAR,
    team       VARCHAR,
    department VARCHAR,
    source     VARCHAR                  -- who wrote it: 'generated' (callqa generate) or a person
);

-- A lead's coaching session with an agent: the items discussed and the goals set. The next report
-- shows each discussed item's pass rate before the session and since.
CREATE TABLE IF NOT EXISTS coaching_sessions (
    session_id   VARCHAR PRIMARY KEY,
    agent_id     VARCHAR NOT NULL,
    session_date DATE NOT NULL,
    items        VARCHAR[] NOT NULL,    -- scorecard item ids discussed
    goals        VARCHAR,
    notes        VARCHAR,
    coached_by   VARCHAR NOT NULL,      -- users.username, or the name given on the command line
    created_at   TIMESTAMP NOT NULL
);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS recording_flags VARCHAR[];  -- what the recording itself tells a reviewer (channels identical, language guessed): kept by re-scores
