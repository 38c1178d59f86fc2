CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_key_hash_unique` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_workspace_idx` ON `api_keys` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `dead_letters` (
	`workspace_id` text NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`body` text,
	`reason` text NOT NULL,
	`accepted_at` integer,
	`dead_at` integer NOT NULL,
	`replayed_at` integer,
	PRIMARY KEY(`workspace_id`, `event_id`)
);
--> statement-breakpoint
CREATE INDEX `dead_letters_page_idx` ON `dead_letters` (`workspace_id`,`dead_at`,`event_id`);--> statement-breakpoint
CREATE INDEX `dead_letters_dead_at_idx` ON `dead_letters` (`dead_at`);--> statement-breakpoint
CREATE TABLE `portal_links` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`purpose` text DEFAULT 'link' NOT NULL,
	`workspace_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `portal_links_expires_idx` ON `portal_links` (`expires_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`key_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`key_id`) REFERENCES `api_keys`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_expires_idx` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`url` text NOT NULL,
	`delivery` text DEFAULT 'push' NOT NULL,
	`poll_token_hash` text,
	`data_location` text,
	`events` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_secret_expires_at` integer,
	`signing_key` text NOT NULL,
	`public_key` text NOT NULL,
	`previous_signing_key` text,
	`previous_public_key` text,
	`verified_at` integer,
	`rate_limit_per_second` integer,
	`retry_delays_seconds` text,
	`headers` text DEFAULT '{}' NOT NULL,
	`filter` text DEFAULT '{}' NOT NULL,
	`ordering` text DEFAULT 'endpoint' NOT NULL,
	`ordering_key` text,
	`max_in_flight` integer DEFAULT 1 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`disabled_reason` text,
	`disabled_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhooks_poll_token_hash_unique` ON `webhooks` (`poll_token_hash`);--> statement-breakpoint
CREATE INDEX `webhooks_workspace_idx` ON `webhooks` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `workspaces` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`notification_email` text,
	`notification_email_confirmed_at` integer,
	`notification_email_token_hash` text,
	`notification_email_token_expires_at` integer,
	`notification_email_sent_at` integer,
	`alert_url` text,
	`alert_secret` text,
	`alert_previous_secret` text,
	`alert_previous_secret_expires_at` integer,
	`alert_signing_key` text,
	`alert_public_key` text,
	`alert_previous_signing_key` text,
	`alert_previous_public_key` text,
	`data_location` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
