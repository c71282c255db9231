/** One numbered schema change; its SQL runs with the store's schema first on the search path. */
export interface PostgresMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}
