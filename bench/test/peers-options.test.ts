import { describe, expect, it } from "vitest";
import { parsePeersOption } from "../src/peers/options.js";

const argv = (...args: string[]) => ["node", "main.ts", ...args];

describe("--peers", () => {
  it("defaults to every peer, and to the SQLite peers in a --quick smoke run", () => {
    expect(parsePeersOption(argv())).toBe("all");
    expect(parsePeersOption(argv("--scenario", "process"))).toBe("all");
    expect(parsePeersOption(argv("--quick"))).toBe("sqlite");
  });

  it("takes none, sqlite or all, as a separate argument or after =", () => {
    expect(parsePeersOption(argv("--peers", "none"))).toBe("none");
    expect(parsePeersOption(argv("--peers=sqlite"))).toBe("sqlite");
    expect(parsePeersOption(argv("--quick", "--peers", "all"))).toBe("all");
  });

  it("refuses an unknown value, naming the ones it takes", () => {
    expect(() => parsePeersOption(argv("--peers", "redis"))).toThrow('Unknown --peers value "redis"; expected one of none, sqlite, all');
    expect(() => parsePeersOption(argv("--peers="))).toThrow('Unknown --peers value ""');
  });

  it("refuses --peers without a value", () => {
    expect(() => parsePeersOption(argv("--peers"))).toThrow("--peers needs a value");
    expect(() => parsePeersOption(argv("--peers", "--quick"))).toThrow("--peers needs a value");
  });
});
