import { createInterface } from "node:readline";

/** Decides, between steps, whether the tour goes on. */
export interface Pacer {
  /** Resolves true to go on, false to stop the tour here. */
  next(prompt: string): Promise<boolean>;
  close(): void;
}

/** `--yes`: every step, one after the other, without asking. */
export const straightThrough: Pacer = { next: async () => true, close: () => undefined };

/**
 * Waits for Enter at the terminal before each step; "q" (then Enter) or end of input (Ctrl-D) stops.
 * The terminal stays in its usual line mode, so Ctrl-C interrupts as it does for any command.
 */
export function askAtTerminal(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Pacer {
  const lines = createInterface({ input, output, terminal: false });
  let ended = false;
  let waiting: ((goOn: boolean) => void) | undefined;
  lines.on("close", () => {
    ended = true;
    waiting?.(false);
  });
  return {
    next(prompt) {
      if (ended) return Promise.resolve(false);
      return new Promise((resolve) => {
        waiting = resolve;
        lines.question(prompt, (answer) => {
          waiting = undefined;
          resolve(!/^\s*q/i.test(answer));
        });
      });
    },
    close: () => lines.close(),
  };
}
