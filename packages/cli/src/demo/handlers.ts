// The demo's task handlers, loaded by `queue work` in each demo worker process.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default {
  "send-email": async ({ to }: { to: string }) => {
    await sleep(1);
    return { sent: to };
  },
  "resize-image": async ({ width }: { width: number }, ctx: { progress(value: number): Promise<void> }) => {
    await sleep(3);
    await ctx.progress(1);
    return { width, height: Math.round(width * 0.75) };
  },
  "generate-report": async ({ month }: { month: string }) => {
    await sleep(5);
    return { report: `report-${month}.pdf` };
  },
  // Fails on its first attempt (a flaky remote), succeeds on the retry.
  "call-webhook": async (_payload: unknown, ctx: { task: { attempts: number } }) => {
    if (ctx.task.attempts < 2) throw new Error("webhook answered 503 Service Unavailable");
    return { delivered: true };
  },
  // Always fails: these end in the dead-letter queue for an operator to look at.
  "import-legacy": async ({ file }: { file: string }) => {
    throw new Error(`cannot parse ${file}: unexpected end of input`);
  },
};
