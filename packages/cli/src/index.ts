export { UsageError } from "./errors.js";
export { buildProgram, main } from "./main.js";
export { parseDuration } from "./parse.js";
