// Where the server-based peers' services (and our own PostgreSQL backend's server) are expected,
// and a quick check that they answer. The bench starts no service: a variant whose service does
// not answer on loopback is reported as not run.
import { connect } from "node:net";
import { NotRun } from "../measure.js";

export interface Service {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export const REDIS: Service = { name: "Redis", host: "127.0.0.1", port: 6379 };
export const POSTGRES: Service = { name: "PostgreSQL", host: "127.0.0.1", port: 5432 };
/** Trust authentication on loopback; every run works in a schema of its own, dropped after it. */
export const POSTGRES_URL = `postgres://postgres@${POSTGRES.host}:${POSTGRES.port}/test`;

/** Whether a TCP connection to `host:port` opens within `timeoutMs`. */
export function isReachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

const checks = new Map<string, Promise<boolean>>();

/**
 * Throws NotRun when `service` does not answer. Checked once per process; the first failure is
 * printed, and every variant that needs the service records the same reason.
 */
export async function requireService(service: Service): Promise<void> {
  const key = `${service.host}:${service.port}`;
  let check = checks.get(key);
  if (check === undefined) {
    check = isReachable(service.host, service.port).then((reachable) => {
      if (!reachable) process.stderr.write(`${service.name} not reachable at ${key}: the variants that need it are not run\n`);
      return reachable;
    });
    checks.set(key, check);
  }
  if (!(await check)) throw new NotRun(`${service.name} not reachable at ${key}`);
}
