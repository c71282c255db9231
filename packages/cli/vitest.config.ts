import { defineProjectConfig } from "../../vitest.shared.js";

// Each test runs the real binary up to a dozen times in a row, and each run compiles and starts a
// Node process: beside the rest of the suite on a busy machine, one test can take minutes.
export default defineProjectConfig({ testTimeout: 180_000 });
