export { type ChildResult, runTypeScript, spawnTypeScript, type TypeScriptChild } from "./child-process.js";
export { packageManifestProblems } from "./package-manifest.js";
export { freshSchemaUrl, TEST_POSTGRES_URL } from "./postgres.js";
export { makeTempDir, removeTempDirs, tempDbPath } from "./temp-dir.js";
