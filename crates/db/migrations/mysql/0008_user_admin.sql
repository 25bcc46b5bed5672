-- User administration: disabled users, and one-time invitations (only the token's SHA-256 is
-- stored).
ALTER TABLE users ADD COLUMN disabled_at DATETIME(6);

CREATE TABLE invitations (
    id          VARCHAR(64) NOT NULL,
    token_hash  VARCHAR(255) NOT NULL,
    -- When set, only this (lowercased) address may register with the invitation.
    email       VARCHAR(320),
    role        VARCHAR(32) NOT NULL,
    created_by  VARCHAR(64),
    created_at  DATETIME(6) NOT NULL,
    expires_at  DATETIME(6) NOT NULL,
    used_at     DATETIME(6),
    used_by     VARCHAR(64),
    PRIMARY KEY (id),
    UNIQUE KEY invitations_token_hash_key (token_hash),
    CONSTRAINT invitations_created_by_fk FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT invitations_used_by_fk FOREIGN KEY (used_by) REFERENCES users (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Storage used per user (quota checks, the admin's user list) sums these per owner.
CREATE INDEX uploads_owner_status ON uploads (owner_id, status);
