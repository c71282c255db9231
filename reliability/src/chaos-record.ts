// Durable records of handler executions, written by worker processes that may be killed at any
// moment. appendFileSync returns once the line is in the kernel's page cache, which a SIGKILL of
// the writer cannot take back, so every line written before a kill is there to read afterwards.
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** "started" is written when a handler begins, "finished" just before it returns. */
export type ExecutionPhase = "started" | "finished";

export interface Execution {
  readonly phase: ExecutionPhase;
  readonly taskId: number;
  readonly attempt: number;
  readonly pid: number;
}

const PREFIX = "executions-";

/** Appends one execution record to this process's log in `dir`. */
export function recordExecution(dir: string, phase: ExecutionPhase, taskId: number, attempt: number): void {
  appendFileSync(join(dir, `${PREFIX}${process.pid}.log`), `${phase} ${taskId} ${attempt} ${process.pid}\n`);
}

/** Every record in `dir`, from every process. A torn last line of a killed process is skipped. */
export function readExecutions(dir: string): Execution[] {
  const executions: Execution[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(PREFIX)) continue;
    for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
      const match = /^(started|finished) (\d+) (\d+) (\d+)$/.exec(line);
      if (match === null) continue;
      executions.push({ phase: match[1] as ExecutionPhase, taskId: Number(match[2]), attempt: Number(match[3]), pid: Number(match[4]) });
    }
  }
  return executions;
}

/** A handler that records its execution, works for up to `maxWorkMs`, and returns who ran it. */
export function recordingHandler(dir: string, maxWorkMs: number) {
  return async (_payload: unknown, ctx: { task: { id: number; attempts: number } }) => {
    const { id, attempts } = ctx.task;
    recordExecution(dir, "started", id, attempts);
    const workMs = Math.floor(Math.random() * (maxWorkMs + 1));
    if (workMs > 0) await new Promise((resolve) => setTimeout(resolve, workMs));
    recordExecution(dir, "finished", id, attempts);
    return { pid: process.pid, attempt: attempts };
  };
}
