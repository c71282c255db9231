import { retryAllDeadLetters } from "@queue/maintenance";
import type { Command } from "commander";
import { type GlobalOptions, output, withClient, withStore } from "../context.js";
import { UsageError } from "../errors.js";
import { parseInteger } from "../parse.js";

export function registerControl(program: Command, globals: () => GlobalOptions): void {
  program
    .command("cancel")
    .description("cancel a task: at once if queued; a running one is aborted at its worker's next heartbeat")
    .argument("<id>", "the task id")
    .addHelpText("after", "\nExamples:\n  queue cancel 42")
    .action(async (idText: string) => {
      const options = globals();
      const task = await withClient(options, (client) => client.cancel(parseInteger(idText, "<id>", 1)));
      output(options, task, (value) =>
        value.status === "cancelled" ? `Task ${value.id} cancelled.` : `Task ${value.id} is running; its worker will abort it.`,
      );
    });

  program
    .command("retry")
    .description("send a dead-lettered task (or all, with --dead-letter) back to the queue")
    .argument("[id]", "the task id")
    .option("--dead-letter", "retry every dead-lettered task")
    .option("--type <type>", "with --dead-letter: only this type")
    .addHelpText("after", "\nExamples:\n  queue retry 42\n  queue retry --dead-letter --type send-email")
    .action(async (idText: string | undefined, flags: { deadLetter?: boolean; type?: string }) => {
      const options = globals();
      if (flags.deadLetter && idText !== undefined)
        throw new UsageError("Give a task id or --dead-letter, not both: --dead-letter retries every dead-lettered task.");
      if (flags.type !== undefined && !flags.deadLetter) throw new UsageError("--type narrows --dead-letter; add --dead-letter.");
      if (flags.deadLetter) {
        const retried = await withStore(options, (store) =>
          retryAllDeadLetters(store, flags.type === undefined ? {} : { type: flags.type }),
        );
        output(options, { retried }, (value) => `Sent ${value.retried} dead-lettered task(s) back to the queue.`);
        return;
      }
      if (idText === undefined) throw new UsageError("Give a task id, or --dead-letter to retry them all.");
      const task = await withClient(options, (client) => client.retry(parseInteger(idText, "<id>", 1)));
      output(options, task, (value) => `Task ${value.id} is queued again.`);
    });

  for (const [name, description] of [
    ["pause", "stop claiming a task type (or every type) in all processes; enqueueing still works"],
    ["resume", "resume claiming a paused type (or every type)"],
  ] as const) {
    program
      .command(name)
      .description(description)
      .argument("[type]", "the task type (default: the whole queue)")
      .addHelpText("after", `\nExamples:\n  queue ${name} send-email\n  queue ${name}`)
      .action(async (type: string | undefined) => {
        const options = globals();
        const result = await withClient(options, async (client) => {
          const before = await client.paused();
          if (name === "pause") await client.pause(type);
          // A bare resume lifts every pause, of the whole queue ("*") and of single types.
          else if (type === undefined) for (const paused of before) await client.resume(paused === "*" ? undefined : paused);
          else await client.resume(type);
          const paused = await client.paused();
          return { paused, changed: JSON.stringify(before) !== JSON.stringify(paused) };
        });
        output(options, result, (value) =>
          [
            ...(value.changed ? [] : [`Nothing changed: ${type ?? "the queue"} was ${name === "pause" ? "already" : "not"} paused.`]),
            value.paused.length === 0 ? "Nothing is paused." : `Paused: ${value.paused.join(", ")}`,
          ].join("\n"),
        );
      });
  }
}
