-- API keys may expire and carry scopes (space-separated words: read, upload, write, admin).
-- Keys from before this migration keep what they could do: everything their owner may, so
-- `admin` only on an admin's keys.
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read upload write admin';
UPDATE api_keys SET scopes = 'read upload write'
    WHERE user_id IN (SELECT id FROM users WHERE role <> 'admin');
