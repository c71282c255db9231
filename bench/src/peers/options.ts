// `--peers none|sqlite|all`: which peer queues join the scenarios. The default is `all`, except
// with `--quick` (the CI smoke run), where it is `sqlite` so that a smoke run needs no Redis or
// PostgreSQL; `--quick --peers all` still runs every peer, at the quick sizes. Our own PostgreSQL
// backend's variants are not peers: they run whatever --peers says (see scenarios.ts).

export const PEER_SELECTIONS = ["none", "sqlite", "all"] as const;
export type PeerSelection = (typeof PEER_SELECTIONS)[number];

/** Reads `--peers VALUE` (or `--peers=VALUE`) from `argv`; throws with a clear message on a bad value. */
export function parsePeersOption(argv: readonly string[]): PeerSelection {
  const quick = argv.includes("--quick");
  let value: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument === "--peers") {
      value = argv[index + 1];
      if (value === undefined || value.startsWith("--")) throw new Error(`--peers needs a value: one of ${PEER_SELECTIONS.join(", ")}`);
    } else if (argument.startsWith("--peers=")) {
      value = argument.slice("--peers=".length);
    }
  }
  if (value === undefined) return quick ? "sqlite" : "all";
  if (!(PEER_SELECTIONS as readonly string[]).includes(value))
    throw new Error(`Unknown --peers value ${JSON.stringify(value)}; expected one of ${PEER_SELECTIONS.join(", ")}`);
  return value as PeerSelection;
}

/** `--peers` from this process's arguments; prints the problem and exits with status 2 on a bad value. */
export function peersFromArgv(argv: readonly string[] = process.argv): PeerSelection {
  try {
    return parsePeersOption(argv);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
}
