import { defineProjectConfig } from "../../vitest.shared.js";

// The integration layer is where applications meet the queue: keep it thoroughly exercised.
export default defineProjectConfig({ minLineCoverage: 90 });
