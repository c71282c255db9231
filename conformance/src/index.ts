export type { ConformanceBackend } from "./backend.js";
export { describeClientConformance } from "./client-suite.js";
export { describeMaintenanceConformance } from "./maintenance-suite.js";
export { describeStoreConformance } from "./store-suite.js";

import type { ConformanceBackend } from "./backend.js";
import { describeClientConformance } from "./client-suite.js";
import { describeMaintenanceConformance } from "./maintenance-suite.js";
import { describeStoreConformance } from "./store-suite.js";

/** Every conformance suite, against one backend. */
export function describeBackendConformance(backend: ConformanceBackend): void {
  describeStoreConformance(backend);
  describeClientConformance(backend);
  describeMaintenanceConformance(backend);
}
