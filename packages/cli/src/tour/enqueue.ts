import { idRange, type TourStep } from "./step.js";

/** How long the tour's delayed task waits; the claim step shows that it does not run before. */
const TOUR_DELAY_MS = 1_500;

/** Every way to put work in: one task, a batch, concurrent calls, an idempotency key twice, a delay. */
export const enqueueStep: TourStep = {
  name: "enqueue",
  title: "Enqueue: one task, a batch, concurrent calls, an idempotency key, a delay",
  summary: "Every write resolves once it is committed to the file; a crash after that loses nothing.",
  async run(tour) {
    const { client } = tour;
    const single = await client.enqueue("send-email", { to: "ada@example.com" }, { maxAttempts: 5 });
    tour.call(
      'await client.enqueue("send-email", { to: "ada@example.com" }, { maxAttempts: 5 })',
      `task ${single.task.id} ${single.task.status}, ${single.task.maxAttempts} attempts allowed`,
    );

    const images = [320, 640, 1024, 1600, 2048].map((width) => ({
      type: "resize-image",
      payload: { url: `https://example.com/photo-${width}.png`, width },
    }));
    const batch = await client.enqueueMany(images);
    const batchIds = batch.map((result) => result.task.id);
    tour.call(
      "await client.enqueueMany(images)",
      `tasks ${idRange(batchIds)}: ${batch.length} resize-image tasks in one transaction, all or none`,
    );

    const people = ["grace", "edsger", "barbara", "donald", "frances", "john"];
    const concurrent = await Promise.all(people.map((name) => client.enqueue("send-email", { to: `${name}@example.com` })));
    const concurrentIds = concurrent.map((result) => result.task.id);
    tour.call(
      'await Promise.all(people.map((to) => client.enqueue("send-email", { to })))',
      `tasks ${idRange(concurrentIds)}: calls made in the same turn of the event loop share one transaction (group commit)`,
    );

    const key = "welcome-alan";
    const first = await client.enqueue("send-email", { to: "alan@example.com" }, { idempotencyKey: key });
    const second = await client.enqueue("send-email", { to: "alan@example.com" }, { idempotencyKey: key });
    tour.call(
      `await client.enqueue("send-email", { to: "alan@example.com" }, { idempotencyKey: "${key}" })  // twice`,
      `first call: task ${first.task.id}, created ${first.created}`,
      `second call: task ${second.task.id}, created ${second.created} (the first task, not a new one)`,
    );

    const delayed = await client.enqueue("generate-report", { month: "2030-01" }, { delayMs: TOUR_DELAY_MS, priority: 9 });
    const waitMs = delayed.task.runAfter.getTime() - delayed.task.createdAt.getTime();
    tour.call(
      `await client.enqueue("generate-report", { month: "2030-01" }, { delayMs: ${TOUR_DELAY_MS}, priority: 9 })`,
      `task ${delayed.task.id}: not claimable before ${delayed.task.runAfter.toISOString()} (${(waitMs / 1000).toFixed(1)} s from now)`,
    );

    tour.shared.set("delayedTaskId", delayed.task.id);
    tour.shared.set("firstTaskId", single.task.id);
    const created = 1 + batch.length + concurrent.length + 1 + 1;
    return {
      ok: !second.created && second.task.id === first.task.id && batch.every((result) => result.created),
      data: {
        created,
        single: single.task.id,
        batch: batchIds,
        concurrent: concurrentIds,
        idempotent: { first: first.task.id, second: second.task.id, secondCreated: second.created },
        delayed: { id: delayed.task.id, delayMs: waitMs },
      },
    };
  },
};
