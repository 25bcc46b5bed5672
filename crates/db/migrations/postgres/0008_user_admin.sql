-- User administration: a user can be disabled (refused at login and on every credential, their
-- data kept), and admins invite people with a one-time token (only its SHA-256 is stored) that
-- lets them register while sign-up is closed.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

CREATE TABLE invitations (
    id          TEXT COLLATE "C" NOT NULL,
    token_hash  TEXT NOT NULL,
    -- When set, only this (lowercased) address may register with the invitation.
    email       TEXT,
    role        TEXT NOT NULL,
    created_by  TEXT COLLATE "C" REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    used_by     TEXT COLLATE "C" REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT invitations_pkey PRIMARY KEY (id),
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash)
);

-- Storage used per user (quota checks, the admin's user list) sums these per owner.
CREATE INDEX uploads_owner_status ON uploads (owner_id, status);
