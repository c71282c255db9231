import { QueueValidator, validateWorkerIntegration } from "@queue/validation";
import type { TourStep } from "./step.js";

/** Before anything is written: the file, its schema, PRAGMAs and query plans, as the operator's `queue validate` sees them. */
export const validateStep: TourStep = {
  name: "validate",
  title: "Validate the infrastructure",
  summary: "Check the fresh file before trusting it with work: schema, integrity, PRAGMAs, query plans, isolation.",
  async run(tour) {
    const report = await new QueueValidator(tour.db).validateAll();
    const count = (status: string) => report.checks.filter((check) => check.status === status).length;
    tour.call(
      "await new QueueValidator(db).validateAll()",
      `${report.status}: ${count("pass")} passed, ${count("warn")} warned, ${count("fail")} failed`,
      ...report.checks.map((check) => `  ${check.status.padEnd(4)} ${check.name}: ${check.message}`),
    );
    tour.note("From a terminal: queue validate (it exits 1 when a check fails).");
    return {
      ok: report.status !== "fail",
      data: { status: report.status, checks: report.checks.map(({ name, status }) => ({ name, status })) },
    };
  },
};

/** The last step: a real round trip through the public API, as an application's health check would run it. */
export const selfTestStep: TourStep = {
  name: "self-test",
  title: "Run the integration self-test",
  summary:
    "Enqueue a probe task of a private type, let a worker that handles only that type claim and complete it, check the result, and remove it.",
  async run(tour) {
    const result = await validateWorkerIntegration(tour.db);
    tour.call("await validateWorkerIntegration(db)", `${result.status}: ${result.message} (${result.durationMs} ms)`);
    const counts = await tour.client.counts();
    tour.call(
      "await client.counts()",
      Object.entries(counts)
        .map(([status, count]) => `${status} ${count}`)
        .join(", "),
    );
    return { ok: result.status === "pass", data: { status: result.status, message: result.message, counts } };
  },
};
