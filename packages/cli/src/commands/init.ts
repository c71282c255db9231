import { isServerLocation, openQueueDatabase, openQueueStore, SCHEMA_VERSION } from "@queue/core";
import type { Command } from "commander";
import { databasePath, type GlobalOptions, output } from "../context.js";

export function registerInit(program: Command, globals: () => GlobalOptions): void {
  program
    .command("init")
    .description("create the queue database (or bring its schema up to date) and print where it is")
    .addHelpText("after", "\nExamples:\n  queue init\n  queue init --db ./data/queue.db")
    .action(async () => {
      const options = globals();
      const location = databasePath(options);
      if (isServerLocation(location)) {
        // A database server: its store is opened and read once, so that what would stop the queue fails here.
        const store = openQueueStore({ location });
        try {
          await store.pausedTypes();
        } finally {
          await store.close();
        }
        output(options, { path: store.location }, (value) => `Queue database ready at ${value.path}.`);
        return;
      }
      const db = openQueueDatabase({ path: location });
      const result = { path: db.path, schemaVersion: db.schemaVersion() };
      db.close();
      output(options, result, (value) => `Queue database ready at ${value.path} (schema version ${SCHEMA_VERSION}).`);
    });
}
