import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { AtomicFileWriter, DurableAppendFile, fileError, isQueueError, writeFileDurably } from "../src/index.js";

afterEach(removeTempDirs);

describe("DurableAppendFile", () => {
  it("appends whole lines, and cuts off a torn last line before the next append", () => {
    const file = join(makeTempDir(), "archive.ndjson");
    writeFileSync(file, '{"a":1}\n{"b":');
    const archive = new DurableAppendFile(file);
    archive.append('{"c":3}\n');
    archive.close();
    expect(readFileSync(file, "utf8")).toBe('{"a":1}\n{"c":3}\n');
  });

  it("cuts a file that is one torn line to nothing, and refuses text that is not whole lines", () => {
    const file = join(makeTempDir(), "archive.ndjson");
    writeFileSync(file, "x".repeat(100_000));
    const archive = new DurableAppendFile(file);
    expect(() => archive.append("no newline")).toThrow(/whole lines/);
    archive.append("one\n");
    archive.close();
    expect(readFileSync(file, "utf8")).toBe("one\n");
    expect(() => archive.append("late\n")).toThrow(/closed/);
  });
});

describe("AtomicFileWriter and writeFileDurably", () => {
  it("shows the new file under its name only once committed; an abort leaves the old one and no temporary file", () => {
    const directory = makeTempDir();
    const file = join(directory, "export.ndjson");
    writeFileSync(file, "old\n");
    const writer = new AtomicFileWriter(file);
    writer.write("new\n");
    expect(readFileSync(file, "utf8")).toBe("old\n");
    writer.abort();
    expect(readFileSync(file, "utf8")).toBe("old\n");
    expect(readdirSync(directory)).toEqual(["export.ndjson"]);
    writeFileDurably(join(directory, "nested", "runs.json"), "{}\n");
    expect(readFileSync(join(directory, "nested", "runs.json"), "utf8")).toBe("{}\n");
  });

  it("turns operating-system errors into typed errors that name the file and what to do", () => {
    const full = fileError(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }), "/data/a.ndjson", "append to");
    expect(isQueueError(full, "DISK_FULL")).toBe(true);
    expect(full.message).toMatch(/Cannot append to \/data\/a\.ndjson: .*free space/);
    const file = join(makeTempDir(), "plain");
    writeFileSync(file, "");
    expect(() => writeFileDurably(join(file, "inside.json"), "{}")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
