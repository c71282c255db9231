// Wake-ups across processes: writers that make work claimable (inserts, retries, resumes, requeues)
// send a NOTIFY that PostgreSQL delivers when they commit; each store that waits for work LISTENs on
// one dedicated connection of its own. Every notification from another store bumps a counter (the
// write mark) and wakes this process's waiting workers. A notification can be lost (the connection
// drops): the listener reconnects with backoff and counts the reconnect as a write, and workers
// still poll while idle, so a lost notification costs at most one poll.
import pg from "pg";

/** The NOTIFY channel of a schema. */
export function workChannel(schema: string): string {
  return `queue_work_${schema}`;
}

/** The application_name of a store's listening connection (unless the URL sets one): "queue:<channel>". */
export function listenerName(channel: string): string {
  return `queue:${channel}`;
}

const MAX_BACKOFF_MS = 5_000;

export interface WorkListenerOptions {
  /** How to open the dedicated connection. */
  readonly connection: pg.ClientConfig;
  readonly channel: string;
  /** This store's own notifications carry this payload; they wake nobody here (its commits already did). */
  readonly self: string;
  /** Called for every notification from elsewhere, and after a reconnect. */
  readonly onWork: () => void;
}

export class WorkListener {
  readonly #options: WorkListenerOptions;
  /** The listening connection, once LISTEN went through. */
  #client: pg.Client | undefined;
  /** The connection being opened or listening: a report from any other (an older one closing) is old news. */
  #current: pg.Client | undefined;
  #started: Promise<void> | undefined;
  #mark = 0;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;

  constructor(options: WorkListenerOptions) {
    this.#options = options;
  }

  /** How many wake-ups (notifications from elsewhere, reconnects) have arrived. */
  get mark(): number {
    return this.#mark;
  }

  /**
   * The mark, once every notification committed before this call has arrived: a round trip on the
   * listening connection, at whose end the server delivers what is pending. Without a connection
   * (it dropped), the mark as it is: the reconnect counts as a write.
   */
  async sync(): Promise<number> {
    await this.start();
    const client = this.#client;
    if (client !== undefined) await client.query("SELECT 1").catch(() => undefined);
    return this.#mark;
  }

  /** Connects and listens (once); resolves when listening, or when the first try failed (a retry is scheduled). */
  start(): Promise<void> {
    this.#started ??= this.#connect();
    return this.#started;
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    // Named, so that an operator (or a test) can tell the listening connection in pg_stat_activity.
    const { connection, channel } = this.#options;
    const client = new pg.Client({ ...connection, application_name: connection.application_name ?? listenerName(channel) });
    this.#current = client;
    client.on("notification", (message) => {
      if (message.channel !== this.#options.channel || message.payload === this.#options.self) return;
      this.#wake();
    });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#options.channel}"`);
    } catch {
      this.#lost(client);
      return;
    }
    if (this.#closed || this.#current !== client) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    if (this.#failures > 0) this.#wake();
    this.#failures = 0;
  }

  #wake(): void {
    this.#mark++;
    this.#options.onWork();
  }

  #lost(client: pg.Client): void {
    client.end().catch(() => undefined);
    // A connection already given up (its error, then its end) is nothing new.
    if (this.#current !== client) return;
    this.#current = undefined;
    this.#client = undefined;
    if (this.#closed || this.#retry !== undefined) return;
    this.#failures++;
    const delay = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(this.#failures, 10));
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#started = this.#connect();
    }, delay);
    this.#retry.unref();
    // Notifications may have been missed meanwhile: whoever waits should look.
    this.#wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    await this.#started?.catch(() => undefined);
    await (client ?? this.#client)?.end().catch(() => undefined);
  }
}
