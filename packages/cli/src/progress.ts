import cliProgress from "cli-progress";
import ora from "ora";

/** Progress of a long operation: a bar when the total is known, a spinner when it is not. */
export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

const QUIET: Progress = { update: () => undefined, stop: () => undefined };

/**
 * Shown on stderr, and only when stderr is a terminal and the output is not --json: piped and
 * scripted runs stay quiet.
 */
export function startProgress(label: string, options: { readonly json?: boolean; readonly total?: number } = {}): Progress {
  if (!process.stderr.isTTY || options.json) return QUIET;
  if (options.total !== undefined) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.total, 0);
    return {
      update: (done, total) => {
        if (total !== undefined) bar.setTotal(total);
        bar.update(done);
      },
      stop: () => bar.stop(),
    };
  }
  // discardStdin would put stdin in raw mode, and a payload typed at the terminal could not end.
  const spinner = ora({ text: label, stream: process.stderr, discardStdin: false }).start();
  return {
    update: (done) => {
      spinner.text = `${label}: ${done}`;
    },
    stop: () => spinner.stop(),
  };
}
