export type { ConformanceBackend } from "./backend.js";
export { describeClaimConformance } from "./claim-suite.js";
export { describeClientConformance } from "./client-suite.js";
export { describeCopyConformance } from "./copy-suite.js";
export { describeLeaseConformance } from "./lease-suite.js";
export { describeMaintenanceConformance } from "./maintenance-suite.js";
export { describeRemovalConformance } from "./removal-suite.js";
export { describeStoreConformance } from "./store-suite.js";
export { describeWorkerConformance } from "./worker-suite.js";

import type { ConformanceBackend } from "./backend.js";
import { describeClaimConformance } from "./claim-suite.js";
import { describeClientConformance } from "./client-suite.js";
import { describeCopyConformance } from "./copy-suite.js";
import { describeLeaseConformance } from "./lease-suite.js";
import { describeMaintenanceConformance } from "./maintenance-suite.js";
import { describeRemovalConformance } from "./removal-suite.js";
import { describeStoreConformance } from "./store-suite.js";
import { describeWorkerConformance } from "./worker-suite.js";

/** Every conformance suite, against one backend. */
export function describeBackendConformance(backend: ConformanceBackend): void {
  describeStoreConformance(backend);
  describeClientConformance(backend);
  describeMaintenanceConformance(backend);
  describeClaimConformance(backend);
  describeLeaseConformance(backend);
  describeWorkerConformance(backend);
  describeRemovalConformance(backend);
  describeCopyConformance(backend);
}
