// A process that runs one variant of a throughput scenario, round after round, for
// variant-runner.ts: it answers each {path} message with {value} (the variant's operations per
// second) or {error}, and {exit} with its peak RSS before it ends. The variant is built exactly as
// the parent builds it, from the scenario's name, the variant's name and the settings.
import { maxRssKiB } from "./child.js";
import { rssNowKiB } from "./rss.js";
import { type RunnerRequest, type RunnerResponse, variantsOf } from "./variant-runner.js";

// The arguments after these three (--peers) are read by the scenarios as in the parent.
const [scenarioName, variantName, settingsText] = process.argv.slice(2);
const run = variantsOf(scenarioName as string, JSON.parse(settingsText as string))[variantName as string];
if (typeof run !== "function") throw new Error(`variant-child: no runnable variant ${JSON.stringify(variantName)} in ${scenarioName}`);
const reply = (response: RunnerResponse) => process.send?.(response);

process.on("message", (request: RunnerRequest) => {
  if ("exit" in request) {
    reply({ maxRssKiB: maxRssKiB() });
    process.disconnect();
    return;
  }
  Promise.resolve()
    .then(() => run(request.path))
    .then(
      (value) => reply({ value }),
      (error: unknown) => reply({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
});
reply({ ready: true, rssKiB: rssNowKiB() });
