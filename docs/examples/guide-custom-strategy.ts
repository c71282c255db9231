import { registerStrategy } from "@queue/scheduling";
import { type TaskHandler, Worker } from "@queue/worker-engine";

type Tasks = { "refresh-preview": { documentId: string }; "import-feed": { feedId: string } };

declare const refreshPreview: TaskHandler<Tasks["refresh-preview"]>;
declare const importFeed: TaskHandler<Tasks["import-feed"]>;
const path = "./data/queue.db";

// Most recently enqueued first, whenever each became runnable. Register once, at start-up.
registerStrategy({
  name: "newest-enqueued",
  description: "the most recently enqueued task first",
  order: { by: [{ column: "created_at", direction: "desc" }] },
});

// A draw among the 16 oldest runnable tasks, weighted toward lower priority numbers.
registerStrategy({
  name: "urgent-among-oldest",
  description: "a weighted draw among the 16 oldest runnable tasks",
  order: {
    by: [{ column: "run_after", direction: "asc" }],
    draw: { kind: "weighted_by_priority", window: 16 },
  },
});

// A registered strategy is chosen by name, like a built-in one (also in a config file or QUEUE_WORKER_STRATEGY).
export const previews = new Worker<Tasks>({ path, strategy: "newest-enqueued", handlers: { "refresh-preview": refreshPreview } });
export const feeds = new Worker<Tasks>({ path, strategy: "urgent-among-oldest", handlers: { "import-feed": importFeed } });
