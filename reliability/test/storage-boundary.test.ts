// Above the storage port there is no SQL: no SQL literal and no driver call (prepare, statement,
// pragma) outside @queue/core, which holds the port and the SQLite store. The packages still being
// moved onto the port are listed with how many such places each has left: the list may only
// shrink, and a file that reaches zero must leave it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findStorageUses } from "../src/security-sql-scan.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Where SQL belongs: core (the port, the SQLite store, its schema and PRAGMAs) and postgres (the port on PostgreSQL). */
const STORE_PACKAGES = new Set(["core", "postgres"]);

/** Places not yet behind the port, per file: each number may only go down. */
const NOT_YET_ON_THE_PORT: Readonly<Record<string, number>> = {};

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("the storage boundary", () => {
  it("no package above the port writes SQL or calls the driver, but for the places still listed", () => {
    const found: Record<string, number> = {};
    const details: string[] = [];
    for (const name of readdirSync(join(root, "packages"))) {
      if (STORE_PACKAGES.has(name)) continue;
      for (const file of sourceFiles(join(root, "packages", name, "src"))) {
        const path = relative(root, file);
        const uses = findStorageUses(path, readFileSync(file, "utf8"));
        if (uses.length === 0) continue;
        found[path] = uses.length;
        if (uses.length > (NOT_YET_ON_THE_PORT[path] ?? 0)) details.push(...uses.map((use) => `${use.file}:${use.line} ${use.what}`));
      }
    }
    expect(details, "SQL or a driver call above the storage port: add a store operation in @queue/core instead").toEqual([]);
    expect(found, "a file got closer to the port: lower its number (or remove it) in NOT_YET_ON_THE_PORT").toEqual(NOT_YET_ON_THE_PORT);
  });

  it("the scanner finds SQL literals and driver calls, and not SQL-looking words in prose", () => {
    const source = [
      'const a = db.statement("SELECT id FROM tasks WHERE id = ?").get(1);',
      "connection.pragma(`wal_checkpoint(" + "$" + "{mode})`);",
      'const note = "select the tasks you want";',
      "const re = /x/.exec(text);",
      'other.query("DELETE FROM tasks");',
    ].join("\n");
    expect(findStorageUses("x.ts", source).map((use) => `${use.line} ${use.what}`)).toEqual([
      "1 SQL: SELECT id FROM tasks WHERE id = ?",
      "1 statement() call",
      "2 pragma() call",
      "5 SQL: DELETE FROM tasks",
    ]);
  });
});
