/**
 * A small typed event emitter. Unlike node:events it never throws for an 'error' event without a
 * listener, and a listener that throws does not stop the others: a queue's background loops must
 * not be brought down by the code that watches them.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  /** Each event's listeners, replaced (never changed) when one is added or removed, so emit needs no copy. */
  readonly #listeners = new Map<keyof Events, readonly Events[keyof Events][]>();

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    const current = this.#listeners.get(event) ?? [];
    if (!current.includes(listener)) this.#listeners.set(event, [...current, listener]);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    const wrapper = ((...args: Parameters<Events[K]>) => {
      this.off(event, wrapper);
      (listener as (...args: Parameters<Events[K]>) => void)(...args);
    }) as unknown as Events[K];
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    const current = this.#listeners.get(event);
    if (current === undefined || !current.includes(listener)) return;
    const rest = current.filter((each) => each !== listener);
    if (rest.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, rest);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const listeners = this.#listeners.get(event);
    if (listeners === undefined) return;
    for (const listener of listeners) {
      try {
        (listener as (...args: Parameters<Events[K]>) => void)(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
