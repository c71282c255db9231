export { type ChildResult, runTypeScript, spawnTypeScript, type TypeScriptChild } from "./child-process.js";
export { makeTempDir, removeTempDirs } from "./temp-dir.js";
