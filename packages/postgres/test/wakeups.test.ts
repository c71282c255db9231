import { describe, expect, it } from "vitest";
import { PostgresStore } from "../src/index.js";
import { insertIds, openStore, TEST_URL } from "./helpers.js";

describe("wake-ups", () => {
  it("a worker waiting on another pool hears an enqueue within milliseconds (LISTEN/NOTIFY)", async () => {
    const producer = await openStore();
    const worker = await PostgresStore.open({ url: TEST_URL, schema: producer.schema });
    try {
      await worker.writeMark(); // listening
      const latencies: number[] = [];
      for (let round = 0; round < 20; round++) {
        let woken: () => void = () => {};
        const heard = new Promise<number>((resolve) => (woken = () => resolve(performance.now())));
        const stop = worker.onWork(() => woken());
        const sent = performance.now();
        await insertIds(producer, 1);
        latencies.push((await heard) - sent);
        stop();
      }
      latencies.sort((x, y) => x - y);
      const median = latencies[Math.floor(latencies.length / 2)] as number;
      expect(median).toBeLessThan(50);
    } finally {
      await worker.close();
    }
  });

  it("the write mark changes as soon as another store's write has committed, and not for the store's own", async () => {
    const store = await openStore();
    const other = await PostgresStore.open({ url: TEST_URL, schema: store.schema });
    try {
      const mark = await store.writeMark();
      await insertIds(store, 1);
      expect(await store.writeMark()).toBe(mark);
      await insertIds(other, 1);
      const next = await store.writeMark();
      expect(next).not.toBe(mark);
      await other.pauseType("x");
      expect(await store.writeMark()).not.toBe(next);
    } finally {
      await other.close();
    }
  });
});
