/** One schema change. Migrations are append-only: a released one is never edited, only followed. */
export interface Migration {
  /** Consecutive from 1. */
  readonly version: number;
  readonly name: string;
  /** Statements run in one transaction. */
  readonly sql: string;
}
