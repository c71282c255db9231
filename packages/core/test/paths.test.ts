import { join, resolve } from "node:path";
import { resolveDatabasePath } from "@queue/core";
import { describe, expect, it } from "vitest";

describe("resolveDatabasePath", () => {
  const home = "/home/ada";

  it("prefers an explicit path, then QUEUE_DB_PATH", () => {
    expect(resolveDatabasePath({ path: "/srv/q.db", env: { QUEUE_DB_PATH: "/env/q.db" } })).toBe("/srv/q.db");
    expect(resolveDatabasePath({ env: { QUEUE_DB_PATH: "/env/q.db" } })).toBe("/env/q.db");
    expect(resolveDatabasePath({ path: "relative/q.db", env: {} })).toBe(resolve("relative/q.db"));
    expect(resolveDatabasePath({ path: ":memory:", env: {} })).toBe(":memory:");
  });

  it("ignores an empty QUEUE_DB_PATH", () => {
    expect(resolveDatabasePath({ env: { QUEUE_DB_PATH: "  " }, platform: "linux", homeDirectory: home })).toBe(
      "/home/ada/.local/share/queue/queue.db",
    );
  });

  it("uses XDG_DATA_HOME on Linux when it is absolute, else ~/.local/share", () => {
    expect(resolveDatabasePath({ env: { XDG_DATA_HOME: "/data" }, platform: "linux", homeDirectory: home })).toBe("/data/queue/queue.db");
    expect(resolveDatabasePath({ env: { XDG_DATA_HOME: "rel/data" }, platform: "linux", homeDirectory: home })).toBe(
      "/home/ada/.local/share/queue/queue.db",
    );
    expect(resolveDatabasePath({ env: {}, platform: "freebsd", homeDirectory: home })).toBe("/home/ada/.local/share/queue/queue.db");
  });

  it("uses Application Support on macOS", () => {
    expect(resolveDatabasePath({ env: {}, platform: "darwin", homeDirectory: "/Users/ada" })).toBe(
      "/Users/ada/Library/Application Support/queue/queue.db",
    );
  });

  it("uses LOCALAPPDATA on Windows", () => {
    expect(
      resolveDatabasePath({ env: { LOCALAPPDATA: "C:\\Users\\ada\\AppData\\Local" }, platform: "win32", homeDirectory: "C:\\Users\\ada" }),
    ).toBe("C:\\Users\\ada\\AppData\\Local\\queue\\queue.db");
    expect(resolveDatabasePath({ env: {}, platform: "win32", homeDirectory: "C:\\Users\\ada" })).toBe(
      "C:\\Users\\ada\\AppData\\Local\\queue\\queue.db",
    );
  });

  it("never defaults to a temporary directory", () => {
    const path = resolveDatabasePath({ env: {} });
    expect(path.startsWith(join("/tmp"))).toBe(false);
    expect(path.endsWith(join("queue", "queue.db"))).toBe(true);
  });
});
