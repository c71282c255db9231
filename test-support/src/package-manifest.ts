import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

/**
 * Packages that compose the others, and who may depend on them: nothing depends on the CLI, and
 * only the CLI depends on the integration package (its migrate/rollback/export commands).
 */
const ALLOWED_DEPENDENTS: Record<string, readonly string[]> = { "@queue/cli": [], "@queue/integration": ["@queue/cli"] };

interface Manifest {
  name?: string;
  version?: string;
  type?: string;
  sideEffects?: boolean;
  engines?: { node?: string };
  exports?: Record<string, unknown>;
  dependencies?: Record<string, string>;
}

/**
 * What is wrong with a workspace package's packaging, as a list of sentences (empty when it
 * conforms): name, version, ESM, exports with a `types` condition and a source condition that
 * exists, engines, sideEffects, and `@queue/*` dependencies that match the TypeScript project
 * references and point one way.
 */
export function packageManifestProblems(packageDir: string): string[] {
  const problems: string[] = [];
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as Manifest;
  const expectedName = `@queue/${basename(resolve(packageDir))}`;
  if (manifest.name !== expectedName) problems.push(`name is ${manifest.name}, expected ${expectedName}`);
  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(manifest.version ?? "")) problems.push(`version ${manifest.version} is not semver`);
  if (manifest.type !== "module") problems.push(`type is ${manifest.type}, expected module`);
  if (manifest.sideEffects !== false) problems.push("sideEffects is not false");
  if (manifest.engines?.node === undefined) problems.push("engines.node is missing");
  const root = manifest.exports?.["."] as Record<string, string> | undefined;
  if (root?.types === undefined) problems.push('exports["."] has no types condition');
  if (root?.default === undefined) problems.push('exports["."] has no default condition');
  const source = root?.["@queue/source"];
  if (source === undefined || !existsSync(join(packageDir, source)))
    problems.push(`exports["."]["@queue/source"] (${source}) does not exist`);

  const queueDependencies = Object.keys(manifest.dependencies ?? {}).filter((name) => name.startsWith("@queue/"));
  for (const dependency of queueDependencies) {
    const allowed = ALLOWED_DEPENDENTS[dependency];
    if (allowed !== undefined && !allowed.includes(manifest.name ?? "")) {
      problems.push(`depends on ${dependency}, which ${allowed.length === 0 ? "nothing" : `only ${allowed.join(", ")}`} may depend on`);
    }
    if (!(manifest.dependencies?.[dependency] ?? "").startsWith("workspace:"))
      problems.push(`${dependency} is not a workspace: dependency`);
  }
  if (manifest.name !== "@queue/core" && !queueDependencies.includes("@queue/core")) problems.push("does not depend on @queue/core");

  const tsconfig = JSON.parse(readFileSync(join(packageDir, "tsconfig.json"), "utf8")) as { references?: { path: string }[] };
  const referenced = (tsconfig.references ?? []).map((reference) => `@queue/${basename(reference.path)}`).sort();
  if (JSON.stringify(referenced) !== JSON.stringify([...queueDependencies].sort())) {
    problems.push(`tsconfig references [${referenced.join(", ")}] differ from dependencies [${queueDependencies.join(", ")}]`);
  }
  return problems;
}
