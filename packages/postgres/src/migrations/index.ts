import { initial } from "./0001_initial.js";
import type { PostgresMigration } from "./migration.js";

/** Every migration of the PostgreSQL schema, in order. Append only: never edit one that shipped. */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [initial];

/** The schema version this code writes and reads. */
export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS.length;
