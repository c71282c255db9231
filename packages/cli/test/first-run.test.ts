import { fileURLToPath } from "node:url";
import { removeTempDirs, runTypeScript, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function queue(args: string[], env: Record<string, string | undefined> = {}) {
  return runTypeScript(BIN, args, { env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined, ...env } });
}

describe("what a new user sees when the setup is not complete", () => {
  it("a better-sqlite3 whose native build never ran gives one error line and a hint saying what to run", async () => {
    const result = await queue(["init", "--db", tempDbPath()], { NODE_OPTIONS: `--require ${fixture("without-native-addon.cjs")}` });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^error: better-sqlite3's native addon cannot be loaded by Node\.js v\d+.*Could not locate the bindings file\.$/,
    );
    expect(lines[1]).toBe(
      "hint: build better-sqlite3 for this Node.js: `npm rebuild better-sqlite3` (with pnpm: `pnpm approve-builds`, then `pnpm rebuild better-sqlite3`)",
    );
  });
});
