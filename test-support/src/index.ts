export { type ChildResult, runTypeScript, spawnTypeScript, type TypeScriptChild } from "./child-process.js";
export { packageManifestProblems } from "./package-manifest.js";
export { makeTempDir, removeTempDirs, tempDbPath } from "./temp-dir.js";
