import { IntakeGate, type IntakeState, type PausedIntakeMode, type PauseIntakeOptions } from "./intake.js";

/**
 * What both task managers share: intake control (maintenance mode) and the `closed` promise. A
 * manager admits each new run through `intake.admit()` and closes through `closing()`, which
 * refuses new runs first and settles `closed` once the rest of closing is done, even if it failed.
 */
export abstract class ManagerLifecycle {
  protected readonly intake: IntakeGate;
  readonly closed: Promise<void>;
  #markClosed: () => void = () => undefined;

  constructor(pausedIntake: PausedIntakeMode | undefined) {
    this.intake = new IntakeGate(pausedIntake);
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
  }

  pauseIntake(options?: PauseIntakeOptions): void {
    this.intake.pause(options);
  }

  resumeIntake(): void {
    this.intake.resume();
  }

  intakeState(): IntakeState {
    return this.intake.state();
  }

  protected async closing(rest: () => Promise<void>): Promise<void> {
    try {
      this.intake.close();
      await rest();
    } finally {
      this.#markClosed();
    }
  }
}
