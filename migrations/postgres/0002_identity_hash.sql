-- A conversation's identity key (its sorted participant ids plus its context) can be longer
-- than a btree index entry may be (2,704 bytes: a group of about 60 participants), which
-- made opening a large group fail. Uniqueness moves to the key's SHA-256; the key itself
-- stays, and a lookup compares both (the hash finds the row through the index, the key
-- confirms it).
ALTER TABLE conversations ADD COLUMN identity_hash bytea;
UPDATE conversations SET identity_hash = sha256(convert_to(identity_key, 'UTF8'));
ALTER TABLE conversations ALTER COLUMN identity_hash SET NOT NULL;
ALTER TABLE conversations ADD CONSTRAINT conversations_identity_hash_key UNIQUE (identity_hash);
ALTER TABLE conversations DROP CONSTRAINT conversations_identity_key_key;
