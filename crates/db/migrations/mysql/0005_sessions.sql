-- Login sessions: the refresh tokens rotated from one login share a session id.
ALTER TABLE refresh_tokens ADD COLUMN session_id VARCHAR(64) NOT NULL DEFAULT '';
UPDATE refresh_tokens SET session_id = id;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
