-- Login sessions: the refresh tokens rotated from one login share a session id, and access
-- tokens name it, so ending a session (logout, or a reused refresh token revoking them all)
-- ends its access tokens at once, on every replica. A session is live while one of its
-- refresh tokens is. Tokens from before this migration are each their own session.
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
UPDATE refresh_tokens SET session_id = id;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
