-- The ready-made local development workspace and its API key (see README "Two commands").
-- Key: whk_dev_local_key_do_not_use_in_production
-- Only its SHA-256 is stored, like every key. Never load this file into a production database.
-- Its notification address is seeded as confirmed, so the walkthrough's emails go out without a confirmation step.
INSERT OR IGNORE INTO workspaces (id, name, notification_email, notification_email_confirmed_at, created_at, updated_at)
VALUES ('ws_dev', 'Local development', 'dev@example.com', 1767225600000, 1767225600000, 1767225600000);

INSERT OR IGNORE INTO api_keys (id, workspace_id, key_hash, prefix, created_at)
VALUES ('key_dev', 'ws_dev', 'b3bf19a95c9a20370faed9332670e44d58188049f98e9c5ce1fccb42a9c56ed2', 'whk_dev_loca', 1767225600000);
