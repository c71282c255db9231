import { openQueueDatabase, SCHEMA_VERSION } from "@queue/core";
import type { Command } from "commander";
import { databasePath, type GlobalOptions, output } from "../context.js";

export function registerInit(program: Command, globals: () => GlobalOptions): void {
  program
    .command("init")
    .description("create the queue database (or bring its schema up to date) and print where it is")
    .addHelpText("after", "\nExamples:\n  queue init\n  queue init --db ./data/queue.db")
    .action(() => {
      const options = globals();
      const db = openQueueDatabase({ path: databasePath(options) });
      const result = { path: db.path, schemaVersion: db.schemaVersion() };
      db.close();
      output(options, result, (value) => `Queue database ready at ${value.path} (schema version ${SCHEMA_VERSION}).`);
    });
}
