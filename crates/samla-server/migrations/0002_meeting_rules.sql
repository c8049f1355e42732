-- The rules a meeting starts with, as its owner scheduled it (hosts change them in the
-- meeting): newcomers muted, and whether only hosts may share a screen. 0/1 like the rest.
ALTER TABLE meetings ADD COLUMN mute_on_entry BIGINT NOT NULL DEFAULT 0;
ALTER TABLE meetings ADD COLUMN share_hosts_only BIGINT NOT NULL DEFAULT 0;
