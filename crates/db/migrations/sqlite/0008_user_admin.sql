-- User administration: a user can be disabled (refused at login and on every credential, their
-- data kept), and admins invite people with a one-time token (only its SHA-256 is stored) that
-- lets them register while sign-up is closed.
ALTER TABLE users ADD COLUMN disabled_at TEXT;

CREATE TABLE invitations (
    id          TEXT PRIMARY KEY NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    -- When set, only this (lowercased) address may register with the invitation.
    email       TEXT,
    role        TEXT NOT NULL,
    created_by  TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    used_by     TEXT REFERENCES users (id) ON DELETE SET NULL
);

-- Storage used per user (quota checks, the admin's user list) sums these per owner.
CREATE INDEX uploads_owner_status ON uploads (owner_id, status);
