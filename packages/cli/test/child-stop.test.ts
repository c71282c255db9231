import { type ChildProcess, fork } from "node:child_process";
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { removeTempDirs, runTypeScript, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { onStopRequest, requestStop, STOP_REQUEST } from "../src/child-stop.js";

afterEach(removeTempDirs);

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const HANDLERS = fileURLToPath(new URL("./fixtures/handlers.mjs", import.meta.url));
const TSX = createRequire(import.meta.url).resolve("tsx");
const queue = (args: string[]) => runTypeScript(BIN, args, { env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined } });

/** A stand-in for a child process that records how it was asked to stop. */
function fakeChild(connected: boolean) {
  const calls: string[] = [];
  const child = Object.assign(new EventEmitter(), {
    connected,
    exitCode: null,
    signalCode: null,
    kill: (signal: string) => calls.push(`kill ${signal}`),
    send: (message: unknown) => calls.push(`send ${JSON.stringify(message)}`),
  });
  return { child: child as unknown as ChildProcess, calls };
}

describe("stopping worker processes", () => {
  it("signals the child on POSIX systems and sends a stop request over IPC on Windows", () => {
    const posix = fakeChild(true);
    requestStop(posix.child, "SIGTERM", "linux");
    expect(posix.calls).toEqual(["kill SIGTERM"]);
    const windows = fakeChild(true);
    requestStop(windows.child, "SIGTERM", "win32");
    expect(windows.calls).toEqual([`send ${JSON.stringify(STOP_REQUEST)}`]);
    const disconnected = fakeChild(false);
    requestStop(disconnected.child, "SIGINT", "win32");
    expect(disconnected.calls).toEqual(["kill SIGINT"]);
  });

  it("a child listens only when it has a parent channel, and only to stop requests", () => {
    const parent = Object.assign(new EventEmitter(), { channel: {} });
    let stops = 0;
    const stopListening = onStopRequest(() => stops++, parent);
    parent.emit("message", { type: "something else" });
    parent.emit("message", STOP_REQUEST);
    stopListening();
    parent.emit("message", STOP_REQUEST);
    expect(stops).toBe(1);
    expect(parent.listenerCount("message")).toBe(0);
    const noChannel = new EventEmitter();
    onStopRequest(() => stops++, noChannel);
    expect(noChannel.listenerCount("message")).toBe(0);
  });

  it("`queue work` asked to stop over IPC (as on Windows) stops gracefully and deregisters", async () => {
    const db = tempDbPath();
    expect((await queue(["init", "--db", db])).code).toBe(0);
    const child = fork(BIN, ["work", "--handlers", HANDLERS, "--worker-id", "ipc-worker", "--db", db], {
      execArgv: ["--conditions=@queue/source", "--import", TSX],
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      let seen = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (/worker ipc-worker on/.test(seen)) resolve();
      });
    });
    expect(JSON.parse((await queue(["workers", "--db", db, "--json"])).stdout)).toEqual([expect.objectContaining({ id: "ipc-worker" })]);
    requestStop(child, "SIGTERM", "win32");
    expect(await exited).toBe(0);
    expect(child.signalCode).toBeNull();
    expect((await queue(["workers", "--db", db])).stdout).toContain("No workers registered.");
  });
});
