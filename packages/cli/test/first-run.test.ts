import { fileURLToPath } from "node:url";
import { removeTempDirs, runTypeScript, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { typeScriptHint } from "../src/handlers-module.js";

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

describe("a handlers module written in TypeScript", () => {
  it("runs under `queue work` when the application has tsx", async () => {
    const db = tempDbPath();
    expect((await queue(["init", "--db", db])).code).toBe(0);
    expect((await queue(["enqueue", "triple", '{"n":14}', "--db", db])).code).toBe(0);
    const worked = await queue(["work", "--handlers", fixture("typed-handlers.ts"), "--until-empty", "--db", db, "--json"]);
    expect(worked.stderr).toBe("");
    expect(JSON.parse(worked.stdout)).toMatchObject({ completed: 1 });
    expect(JSON.parse((await queue(["show", "1", "--db", db, "--json"])).stdout).task).toMatchObject({ status: "completed", result: 42 });
  });

  it("without tsx, the hint fits the Node.js version: what it cannot do, and what to install or upgrade to", () => {
    expect(typeScriptHint("v20.19.0")).toMatch(/^Node\.js v20\.19\.0 cannot run TypeScript itself: install tsx .*Node\.js 22\.18 or later/);
    expect(typeScriptHint("v22.10.0")).toMatch(/--experimental-strip-types/);
    expect(typeScriptHint("v24.1.0")).toMatch(/--experimental-strip-types|tsx/);
  });
});
