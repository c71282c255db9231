// Stopping worker processes gracefully on every platform. On Windows a signal sent with
// child.kill() terminates the process at once (no handler runs, leases stay taken until they
// expire), so there the parent asks through the IPC channel instead, and the child stops as it
// would on SIGTERM.
import type { ChildProcess } from "node:child_process";

/** The IPC message that asks a `queue work` process to stop gracefully. */
export const STOP_REQUEST = Object.freeze({ type: "queue:stop" });

function isStopRequest(message: unknown): boolean {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === STOP_REQUEST.type;
}

/** Asks `child` to stop gracefully: an IPC message on Windows (when connected), else `signal`. */
export function requestStop(child: ChildProcess, signal: NodeJS.Signals, platform: NodeJS.Platform = process.platform): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (platform === "win32" && child.connected) {
    child.send(STOP_REQUEST, (error) => {
      if (error) child.kill(signal);
    });
    return;
  }
  child.kill(signal);
}

/** The part of `process` a stop request arrives through. */
export interface ParentChannel {
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
  readonly channel?: unknown;
}

/**
 * Calls `stop` when the parent process asks this one to stop; returns a function that stops
 * listening. Node.js keeps the IPC channel referenced while the listener is there and lets go of
 * it when it is removed, so the process can exit once it stops listening. (The channel may be
 * someone else's, a test runner's say, when the command runs inside another program: it is left
 * as it was.)
 */
export function onStopRequest(stop: () => void, parent: ParentChannel = process as ParentChannel): () => void {
  if (parent.channel === undefined || parent.channel === null) return () => {};
  const listener = (message: unknown) => {
    if (isStopRequest(message)) stop();
  };
  parent.on("message", listener);
  return () => parent.off("message", listener);
}
