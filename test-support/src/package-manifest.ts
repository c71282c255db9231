import { existsSync, readdirSync, readFileSync } from "node:fs";
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
  keywords?: string[];
  homepage?: string;
  bugs?: { url?: string };
  repository?: { type?: string; url?: string; directory?: string };
  files?: string[];
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
    if (manifest.dependencies?.[dependency] !== "workspace:^")
      problems.push(`${dependency} is not a workspace:^ dependency (published as a caret range of its version)`);
  }
  problems.push(...unusedDependencies(packageDir, queueDependencies));
  problems.push(...publishingProblems(packageDir, manifest));
  if (manifest.name !== "@queue/core" && !queueDependencies.includes("@queue/core")) problems.push("does not depend on @queue/core");

  const tsconfig = JSON.parse(readFileSync(join(packageDir, "tsconfig.json"), "utf8")) as { references?: { path: string }[] };
  const referenced = (tsconfig.references ?? []).map((reference) => `@queue/${basename(reference.path)}`).sort();
  if (JSON.stringify(referenced) !== JSON.stringify([...queueDependencies].sort())) {
    problems.push(`tsconfig references [${referenced.join(", ")}] differ from dependencies [${queueDependencies.join(", ")}]`);
  }
  return problems;
}

/** `@queue/*` dependencies that no source file imports. */
function unusedDependencies(packageDir: string, dependencies: readonly string[]): string[] {
  const sources = readdirSync(join(packageDir, "src"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => readFileSync(join(packageDir, "src", file), "utf8"))
    .join("\n");
  return dependencies
    .filter((dependency) => !sources.includes(`from "${dependency}"`) && !sources.includes(`import("${dependency}")`))
    .map((dependency) => `depends on ${dependency} but no file in src/ imports it`);
}

/** What a published package needs beyond its code: metadata, a license, and no build caches. */
function publishingProblems(packageDir: string, manifest: Manifest): string[] {
  const problems: string[] = [];
  const directory = `packages/${basename(resolve(packageDir))}`;
  if ((manifest.keywords ?? []).length === 0) problems.push("keywords are missing");
  if (manifest.homepage === undefined) problems.push("homepage is missing");
  if (manifest.bugs?.url === undefined) problems.push("bugs.url is missing");
  if (manifest.repository?.url === undefined) problems.push("repository.url is missing");
  if (manifest.repository?.directory !== directory) problems.push(`repository.directory is not ${directory}`);
  if (!existsSync(join(packageDir, "LICENSE"))) problems.push("LICENSE is missing (npm does not ship the repository's)");
  if (!existsSync(join(packageDir, "CHANGELOG.md"))) problems.push("CHANGELOG.md is missing (changesets writes it: pnpm version-packages)");
  if (!(manifest.files ?? []).includes("dist")) problems.push('files does not ship "dist"');
  const tsconfig = JSON.parse(readFileSync(join(packageDir, "tsconfig.json"), "utf8")) as {
    compilerOptions?: { tsBuildInfoFile?: string };
  };
  const buildInfo = tsconfig.compilerOptions?.tsBuildInfoFile ?? "";
  if (buildInfo === "" || buildInfo.startsWith("dist")) problems.push("tsBuildInfoFile is inside dist/, so the build cache would ship");
  return problems;
}
