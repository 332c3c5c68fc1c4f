-- The embedded store's schema. Timestamps are INTEGER milliseconds since the Unix epoch (UTC);
-- seqs are INTEGER; open-ended values (context, attachments, data) are JSON text.
-- STRICT tables make SQLite refuse values of the wrong type instead of storing them.

CREATE TABLE users (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT,
    email       TEXT,
    avatar      TEXT,
    role        TEXT,
    last_active INTEGER
) STRICT;

CREATE TABLE conversations (
    id                  TEXT PRIMARY KEY NOT NULL,
    -- Sorted participant ids plus context (Conversation::identity_key): what makes
    -- get-or-create idempotent.
    identity_key        TEXT NOT NULL UNIQUE,
    context             TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    last_seq            INTEGER NOT NULL DEFAULT 0,
    -- The last message's seq is last_seq; the other fields are NULL until the first message.
    last_message_text   TEXT,
    last_message_sender TEXT,
    last_message_at     INTEGER
) STRICT;

-- A user's conversation list sorts by activity, newest first.
CREATE INDEX conversations_by_activity ON conversations (updated_at DESC, id DESC);

CREATE TABLE conversation_participants (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL,
    -- Participants keep the order the conversation was created with.
    position        INTEGER NOT NULL,
    delivered_seq   INTEGER NOT NULL DEFAULT 0,
    delivered_at    INTEGER,
    read_seq        INTEGER NOT NULL DEFAULT 0,
    read_at         INTEGER,
    hidden_through  INTEGER,
    PRIMARY KEY (conversation_id, user_id)
) STRICT, WITHOUT ROWID;

-- A user's conversations, unread total and contacts all start from the user.
CREATE INDEX conversation_participants_by_user ON conversation_participants (user_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    sender          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    text            TEXT NOT NULL,
    attachments     TEXT NOT NULL DEFAULT '[]',
    call_type       TEXT,
    call_duration   INTEGER,
    call_status     TEXT,
    client_key      TEXT,
    created_at      INTEGER NOT NULL,
    edited_at       INTEGER,
    -- Also the history index: pages and catch-up read by (conversation, seq).
    UNIQUE (conversation_id, seq)
) STRICT;

-- Resending with the same client key stores the message once.
CREATE UNIQUE INDEX messages_by_client_key
    ON messages (conversation_id, sender, client_key)
    WHERE client_key IS NOT NULL;

CREATE TABLE notifications (
    id           TEXT PRIMARY KEY NOT NULL,
    recipient    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT,
    message      TEXT NOT NULL,
    reference_id TEXT,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    read_at      INTEGER
) STRICT;

-- A recipient's list, newest first.
CREATE INDEX notifications_by_recipient ON notifications (recipient, created_at DESC, id DESC);
-- What is still to be pushed on the recipient's next connection, oldest first.
CREATE INDEX notifications_pending ON notifications (recipient, created_at, id)
    WHERE delivered_at IS NULL;
-- Unread counts and "mark all read".
CREATE INDEX notifications_unread ON notifications (recipient) WHERE read_at IS NULL;

CREATE TABLE call_sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL,
    caller          TEXT NOT NULL,
    callee          TEXT NOT NULL,
    call_type       TEXT NOT NULL,
    started_at      INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('ringing', 'active')),
    accepted_at     INTEGER
) STRICT;

-- The ring-timeout sweep looks only at ringing calls.
CREATE INDEX call_sessions_ringing ON call_sessions (started_at) WHERE state = 'ringing';

-- One row per party of a live call: the primary key is the "already in a call" rule, so a
-- second call for a busy user fails inside the transaction that starts it.
CREATE TABLE call_parties (
    user_id TEXT PRIMARY KEY NOT NULL,
    call_id TEXT NOT NULL REFERENCES call_sessions (id) ON DELETE CASCADE
) STRICT;

CREATE INDEX call_parties_by_call ON call_parties (call_id);
