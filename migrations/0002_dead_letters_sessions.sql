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
CREATE TABLE `sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`key_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`ended_at` integer,
	FOREIGN KEY (`key_id`) REFERENCES `api_keys`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_expires_idx` ON `sessions` (`expires_at`);