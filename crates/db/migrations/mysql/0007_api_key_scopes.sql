-- API keys may expire and carry scopes (space-separated words: read, upload, write, admin).
ALTER TABLE api_keys ADD COLUMN expires_at DATETIME(6);
ALTER TABLE api_keys ADD COLUMN scopes VARCHAR(255) NOT NULL DEFAULT 'read upload write admin';
UPDATE api_keys SET scopes = 'read upload write'
    WHERE user_id IN (SELECT id FROM users WHERE role <> 'admin');
