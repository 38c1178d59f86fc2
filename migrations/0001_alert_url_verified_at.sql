ALTER TABLE `workspaces` ADD `alert_url_verified_at` integer;--> statement-breakpoint
-- An alertUrl set before alert URLs were verified counts as verified from when it was set, as a webhook's url does
-- under REQUIRE_ENDPOINT_VERIFICATION off (an operator turning verification on does not cut existing alerts off).
UPDATE `workspaces` SET `alert_url_verified_at` = `updated_at` WHERE `alert_url` IS NOT NULL;
