// Windows cannot open a directory to fsync it: openSync(directory) fails with EISDIR. This file
// makes node:fs behave that way, as it does there, for every module under test.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { RUN_HISTORY_NOT_SAVED, RunRegistry } from "@queue/integration";
import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { afterEach, describe, expect, it, vi } from "vitest";
import { syncDirectory } from "../src/sync-directory.js";

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const openSync = (path: import("node:fs").PathLike, ...rest: unknown[]) => {
    if (fs.existsSync(path) && fs.statSync(path).isDirectory()) {
      throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${String(path)}'`), { code: "EISDIR" });
    }
    return (fs.openSync as (...args: unknown[]) => number)(path, ...rest);
  };
  return { ...fs, openSync, default: { ...fs, openSync } };
});

afterEach(removeTempDirs);

const run = { id: "r1", moduleId: "reports", parameters: {}, status: "queued" as const, createdAt: "2030-01-01T00:00:00.000Z" };

function nextWarning(): Promise<Error & { code?: string }> {
  return new Promise((resolve) => process.once("warning", resolve));
}

describe("run history files where directories cannot be opened (Windows)", () => {
  it("a file-backed registry saves in the background and explicitly without touching its directory", async () => {
    const file = join(makeTempDir(), "runs.json");
    const registry = new RunRegistry({ file });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    registry.add(run);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    process.off("warning", onWarning);
    expect(warnings).toEqual([]);
    expect(JSON.parse(readFileSync(file, "utf8")).runs).toEqual([run]);
    registry.update("r1", { status: "running" });
    registry.save();
    expect(JSON.parse(readFileSync(file, "utf8")).runs[0].status).toBe("running");
  });

  it("syncDirectory skips Windows entirely and treats a refused directory open as nothing to do", () => {
    const directory = makeTempDir();
    expect(() => syncDirectory(join(directory, "missing"), "win32")).not.toThrow();
    expect(() => syncDirectory(directory, "linux")).not.toThrow();
    expect(() => syncDirectory(join(directory, "missing"), "linux")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(statSync(directory).isDirectory()).toBe(true);
  });

  it("a background save that fails becomes a process warning, never an exception that ends the process", async () => {
    const registry = new RunRegistry({ file: "/dev/null/not-a-directory/runs.json" });
    const warning = nextWarning();
    registry.add(run);
    const reported = await warning;
    expect(reported.code).toBe(RUN_HISTORY_NOT_SAVED);
    expect(reported.message).toMatch(/run history \/dev\/null\/not-a-directory\/runs\.json could not be saved: .*ENOTDIR/);
    expect(registry.get("r1")?.status).toBe("queued");
  });
});
