-- 1: the key's private half stays in the operator's ssh-agent, which signs
-- for CHOM; the keyring holds nothing for it (keyring_account is empty).
ALTER TABLE keys ADD COLUMN agent INTEGER NOT NULL DEFAULT 0;
