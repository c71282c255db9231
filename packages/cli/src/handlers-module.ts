// Loading the module given to `queue work --handlers`, including one written in TypeScript.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "./errors.js";

const TYPESCRIPT = new Set([".ts", ".mts", ".cts"]);

type TsImport = (specifier: string, parent: string) => Promise<unknown>;

/**
 * tsx's `tsImport` when the application has tsx installed (found from the working directory).
 * Its ES module entry, as an `import` from the application would pick it: tsx's CommonJS entry
 * cannot register its loader from inside an ES module.
 */
async function tsxImport(cwd: string): Promise<TsImport | undefined> {
  let manifest: string;
  try {
    manifest = createRequire(join(cwd, "package.json")).resolve("tsx/package.json");
  } catch {
    return undefined;
  }
  const exports = (JSON.parse(readFileSync(manifest, "utf8")) as { exports?: Record<string, { import?: { default?: string } }> }).exports;
  const entry = exports?.["./esm/api"]?.import?.default;
  if (entry === undefined) return undefined;
  return ((await import(pathToFileURL(join(dirname(manifest), entry)).href)) as { tsImport: TsImport }).tsImport;
}

/** Why Node.js could not load a TypeScript file, and what to do instead. */
export function typeScriptHint(nodeVersion: string = process.version): string {
  const [major = 0, minor = 0] = nodeVersion.replace(/^v/, "").split(".").map(Number);
  const strips = major > 22 || (major === 22 && minor >= 6);
  const how = strips
    ? "run with `NODE_OPTIONS=--experimental-strip-types` (Node.js 22.6 to 22.17), install tsx (`npm install --save-dev tsx`), or compile it to .js"
    : `Node.js ${nodeVersion} cannot run TypeScript itself: install tsx (\`npm install --save-dev tsx\`), use Node.js 22.18 or later, or compile it to .js`;
  return `${how}; erasable syntax only (no enums or namespaces) without tsx`;
}

/**
 * Imports the handlers module at `path`. A TypeScript module goes through tsx when the
 * application has it, else through Node.js's own type stripping (22.18+, 23.6+ and 24); where
 * neither is there, the error says what to do.
 */
export async function importHandlersModule(path: string, cwd: string = process.cwd()): Promise<{ default?: unknown }> {
  const url = pathToFileURL(path).href;
  const typescript = TYPESCRIPT.has(extname(path));
  try {
    const tsImport = typescript ? await tsxImport(cwd) : undefined;
    if (tsImport !== undefined) return (await tsImport(url, import.meta.url)) as { default?: unknown };
    return (await import(url)) as { default?: unknown };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typescript && (code === "ERR_UNKNOWN_FILE_EXTENSION" || code === "ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX")) {
      throw new UsageError(
        `Cannot load the TypeScript handlers module ${path}: ${(error as Error).message.split("\n")[0]}`,
        typeScriptHint(),
      );
    }
    throw new UsageError(`Cannot load handlers module ${path}: ${(error as Error).message}`);
  }
}
