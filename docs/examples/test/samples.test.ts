import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const docs = fileURLToPath(new URL("../../", import.meta.url));
const examples = fileURLToPath(new URL("../", import.meta.url));
const pages = readdirSync(docs).filter((name) => name.endsWith(".md"));
const read = (name: string) => readFileSync(`${docs}${name}`, "utf8");

describe("docs code samples", () => {
  it("every TypeScript block in the docs is a type-checked sample file, marked as such", () => {
    for (const page of pages) {
      const text = read(page);
      const blocks = text.match(/```ts\n/g)?.length ?? 0;
      const marked = text.match(/<!-- sample: [\w.-]+ -->\n```ts\n/g)?.length ?? 0;
      expect(marked, page).toBe(blocks);
    }
  });

  it("every sample file appears in the docs", () => {
    const used = new Set(pages.flatMap((page) => [...read(page).matchAll(/<!-- sample: ([\w.-]+) -->/g)].map((match) => match[1])));
    const files = readdirSync(examples).filter((name) => name.endsWith(".ts") && name !== "vitest.config.ts");
    expect(files.filter((file) => !used.has(file))).toEqual([]);
  });

  it("every block is exactly its sample file (node scripts/docs-samples.mjs rewrites them)", () => {
    const script = fileURLToPath(new URL("../../../scripts/docs-samples.mjs", import.meta.url));
    expect(() => execFileSync(process.execPath, [script, "--check"], { encoding: "utf8" })).not.toThrow();
  });
});
