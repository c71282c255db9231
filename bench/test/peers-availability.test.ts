import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isNotRun } from "../src/measure.js";
import { isReachable, requireService } from "../src/peers/availability.js";

const servers: Server[] = [];

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

/** A loopback port that nothing listens on: one the system just handed out and that was closed again. */
async function closedPort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

describe("service detection on loopback", () => {
  it("finds a listening port reachable and a closed one not", async () => {
    const { port } = await listen();
    expect(await isReachable("127.0.0.1", port)).toBe(true);
    expect(await isReachable("127.0.0.1", await closedPort())).toBe(false);
  });

  it("turns an absent service into NotRun with the service and its address", async () => {
    const port = await closedPort();
    const error = await requireService({ name: "Redis", host: "127.0.0.1", port }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(isNotRun(error)).toBe(true);
    expect((error as { reason: string }).reason).toBe(`Redis not reachable at 127.0.0.1:${port}`);
  });

  it("lets a variant run when its service answers", async () => {
    const { port } = await listen();
    await expect(requireService({ name: "PostgreSQL", host: "127.0.0.1", port })).resolves.toBeUndefined();
  });
});
