/**
 * How the claim loop sleeps and is woken: by a signal (a task finished, local work arrived, a
 * claim answered, stop) or a timeout. A signal given while nobody sleeps is kept for the next sleep.
 */
export class Wake {
  #wake?: () => void;
  #woken = false;

  /** Waits for a signal or `ms`; true if signalled. */
  sleep(ms?: number): Promise<boolean> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => finish(false), ms);
      const finish = (signalled: boolean) => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#woken = false;
        resolve(signalled);
      };
      this.#wake = () => finish(true);
    });
  }

  signal(): void {
    if (this.#wake !== undefined) this.#wake();
    else this.#woken = true;
  }
}
