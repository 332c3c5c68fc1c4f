#!/usr/bin/env bash
# EXPLAIN evidence for docs/POSTGRES.md: builds a throwaway database with the PostgreSQL
# store's migration applied and 1,000,000 messages (100 in each of 10,000 conversations,
# written interleaved as real traffic is, so one conversation's messages are spread over the
# table), then prints EXPLAIN (ANALYZE, BUFFERS) of the statements the adapter runs for a
# history page, the catch-up after a seq, and the unread total; the database is dropped at
# the end, also on failure.
#
# Needs psql and a server: SWITCHBOARD_TEST_POSTGRES_URL (without a query string), default
# postgres://postgres@127.0.0.1:5432/postgres. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

server="${SWITCHBOARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db="sb_explain_$$"
url="${server%/*}/$db"

psql "$server" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $db"
trap 'psql "$server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT

psql "$url" -v ON_ERROR_STOP=1 -q -f migrations/postgres/0001_store_schema.sql

psql "$url" -v ON_ERROR_STOP=1 -q <<'SQL'
-- 10,000 conversations between 1,000 "u" users and 500 "w" users (each u user is in 10
-- conversations, each w user in 20), each about its own order, 100 messages each.
INSERT INTO conversations (id, identity_key, context, created_at, updated_at, last_seq,
                           last_message_text, last_message_sender, last_message_at)
SELECT 'c' || i,
       'u' || (i % 1000) || chr(31) || 'w' || (i % 500) || chr(30) || 'orderId=o' || i,
       jsonb_build_object('orderId', 'o' || i),
       now() - interval '30 days', now() - i * interval '1 second', 100,
       'message 100', 'u' || (i % 1000), now() - i * interval '1 second'
FROM generate_series(1, 10000) AS i;

INSERT INTO conversation_participants (conversation_id, user_id, position, delivered_seq,
                                       read_seq)
SELECT 'c' || i, p.user_id, p.position, 100, p.read_seq
FROM generate_series(1, 10000) AS i,
     LATERAL (VALUES ('u' || (i % 1000), 0, (i * 37) % 101),
                     ('w' || (i % 500), 1, (i * 53) % 101)) AS p (user_id, position, read_seq);

-- Interleaved: message s of every conversation, then message s + 1 of every conversation.
INSERT INTO messages (id, conversation_id, seq, sender, kind, text, created_at)
SELECT 'm' || c || '_' || s, 'c' || c, s,
       CASE WHEN s % 2 = 0 THEN 'u' || (c % 1000) ELSE 'w' || (c % 500) END,
       'text', 'message ' || s, now() - (100 - s) * interval '1 minute'
FROM generate_series(1, 100) AS s, generate_series(1, 10000) AS c
ORDER BY s, c;

VACUUM ANALYZE;
SQL

psql "$url" -v ON_ERROR_STOP=1 -q <<'SQL'
\pset pager off
SELECT count(*) AS messages FROM messages;

-- The statements as src/adapters/outbound/postgres/ runs them (same text, same parameters).
PREPARE history_page (text, bigint, bigint) AS
SELECT m.* FROM conversations c JOIN messages m ON m.conversation_id = c.id
AND m.seq > c.last_seq - $3 - $2 AND m.seq <= c.last_seq - $3
WHERE c.id = $1 ORDER BY m.seq DESC LIMIT $2;

PREPARE catch_up (text, bigint, bigint) AS
SELECT * FROM messages WHERE conversation_id = $1 AND seq > $2
ORDER BY seq LIMIT $3;

PREPARE total_unread (text) AS
SELECT COALESCE(SUM(GREATEST(c.last_seq - p.read_seq, 0)), 0)::bigint
FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
WHERE p.user_id = $1;

\echo '== history page: the newest 50 messages of c5000 (MessageStore::page, skip 0)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE history_page('c5000', 50, 0);
\echo '== history page: the fifth page of 20, deep in the conversation (skip 80)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE history_page('c5000', 20, 80);
\echo '== catch-up: up to 100 messages after seq 80 (MessageStore::after)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE catch_up('c5000', 80, 100);
\echo '== unread total of w7, in 20 conversations (ConversationStore::total_unread)'
EXPLAIN (ANALYZE, BUFFERS) EXECUTE total_unread('w7');
SQL
