#!/usr/bin/env node
// Copies each docs/examples/*.ts file into the ```ts block that follows its marker in docs/*.md:
//   <!-- sample: enqueue.ts -->
// The samples are type-checked by `tsc -b`; a test fails when a block and its file differ.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const docs = fileURLToPath(new URL("../docs/", import.meta.url));
const MARKER = /<!-- sample: ([\w.-]+) -->\n```ts\n[\s\S]*?```/g;

export function withSamples(markdown) {
  return markdown.replace(
    MARKER,
    (_, name) => `<!-- sample: ${name} -->\n\`\`\`ts\n${readFileSync(join(docs, "examples", name), "utf8")}\`\`\``,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // --check: report stale pages and exit 1 instead of rewriting them.
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const name of readdirSync(docs).filter((file) => file.endsWith(".md"))) {
    const path = join(docs, name);
    const before = readFileSync(path, "utf8");
    const after = withSamples(before);
    if (after === before) continue;
    stale += 1;
    if (check) console.log(`docs/${name} has a sample that differs from docs/examples; run node scripts/docs-samples.mjs`);
    else {
      writeFileSync(path, after);
      console.log(`updated ${name}`);
    }
  }
  process.exit(check && stale > 0 ? 1 : 0);
}
