-- The PostgreSQL store's schema. Times are timestamptz (the domain's milliseconds fit its
-- microseconds exactly); seqs and counts are bigint; ids are text, as clients send them.
--
-- JSON: notification `data` is open-ended by nature (each app puts its own keys there), so it
-- is jsonb. Conversation `context` is jsonb too: its keys differ per client family (orderId,
-- gigId, relationId, …) and the identity_key column, not the JSON, is what is looked up.
-- Message `attachments` are a list of a fixed shape, but they are owned by their message and
-- only ever read and written whole with it; a jsonb array keeps a history page one index
-- range on one table instead of a join. Call signaling (offers, candidates) is never stored.
--
-- The conversation and participant rows are updated on every message (last seq, marks), so
-- they leave room in each page (fillfactor) and no index covers a column those updates
-- change: the updates stay HOT (no index writes).

CREATE TABLE users (
    id          text PRIMARY KEY,
    name        text,
    email       text,
    avatar      text,
    role        text,
    last_active timestamptz
);

CREATE TABLE conversations (
    id                  text PRIMARY KEY,
    -- Sorted participant ids plus context (Conversation::identity_key): the unique constraint
    -- that makes get-or-create idempotent under concurrent calls (ON CONFLICT DO NOTHING).
    identity_key        text NOT NULL UNIQUE,
    context             jsonb NOT NULL CHECK (jsonb_typeof(context) = 'object'),
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    last_seq            bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    -- The last message's seq is last_seq; the other fields are NULL until the first message.
    last_message_text   text,
    last_message_sender text,
    last_message_at     timestamptz
) WITH (fillfactor = 80);

CREATE TABLE conversation_participants (
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         text NOT NULL,
    -- Participants keep the order the conversation was created with.
    position        integer NOT NULL,
    delivered_seq   bigint NOT NULL DEFAULT 0,
    delivered_at    timestamptz,
    read_seq        bigint NOT NULL DEFAULT 0,
    read_at         timestamptz,
    hidden_through  bigint,
    PRIMARY KEY (conversation_id, user_id)
) WITH (fillfactor = 80);

-- A user's conversations, unread total and contacts all start from the user.
CREATE INDEX conversation_participants_by_user
    ON conversation_participants (user_id, conversation_id);

CREATE TABLE messages (
    id              text PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL CHECK (seq > 0),
    sender          text NOT NULL,
    kind            text NOT NULL,
    text            text NOT NULL,
    attachments     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attachments) = 'array'),
    call_type       text,
    call_duration   bigint,
    call_status     text,
    client_key      text,
    created_at      timestamptz NOT NULL,
    edited_at       timestamptz,
    -- Also the history index: pages and catch-up are ranges of (conversation, seq).
    CONSTRAINT messages_history UNIQUE (conversation_id, seq)
);

-- Resending with the same client key stores the message once; the append statement's
-- ON CONFLICT names this index.
CREATE UNIQUE INDEX messages_by_client_key
    ON messages (conversation_id, sender, client_key)
    WHERE client_key IS NOT NULL;

CREATE TABLE notifications (
    id           text PRIMARY KEY,
    recipient    text NOT NULL,
    kind         text NOT NULL,
    title        text,
    message      text NOT NULL,
    reference_id text,
    data         jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    delivered_at timestamptz,
    read_at      timestamptz
);

-- A recipient's list, newest first.
CREATE INDEX notifications_by_recipient ON notifications (recipient, created_at DESC, id DESC);
-- What is still to be pushed on the recipient's next connection.
CREATE INDEX notifications_pending ON notifications (recipient, created_at, id)
    WHERE delivered_at IS NULL;
-- Unread counts and "mark all read".
CREATE INDEX notifications_unread ON notifications (recipient) WHERE read_at IS NULL;

-- Live calls only: a finished call is deleted (and recorded as a message). No foreign key to
-- conversations: the call ports do not require the conversation to be in this store.
CREATE TABLE call_sessions (
    id              text PRIMARY KEY,
    conversation_id text NOT NULL,
    caller          text NOT NULL,
    callee          text NOT NULL,
    call_type       text NOT NULL,
    started_at      timestamptz NOT NULL,
    state           text NOT NULL CHECK (state IN ('ringing', 'active')),
    accepted_at     timestamptz,
    CHECK ((state = 'active') = (accepted_at IS NOT NULL))
);

-- The ring-timeout sweep looks only at ringing calls.
CREATE INDEX call_sessions_ringing ON call_sessions (started_at) WHERE state = 'ringing';

-- One row per party of a live call: the primary key is the "already in a call" rule, so a
-- second call for a busy user fails in the statement that starts it.
CREATE TABLE call_parties (
    user_id text PRIMARY KEY,
    call_id text NOT NULL REFERENCES call_sessions (id) ON DELETE CASCADE
);

CREATE INDEX call_parties_by_call ON call_parties (call_id);
