/** Calls `listener` once the run stops (at once if it already has); returns the function that stops listening. */
export type StopHook = (listener: (reason: unknown) => void) => () => void;

/**
 * Stops one run: an AbortController (whose signal executors receive) that also tells Warden's
 * own code directly. Node 20's `addEventListener` costs ~5 µs per call, and creating an
 * AbortSignal ~3 µs, which together would be a tenth of a whole `run()`; Warden's internals
 * therefore listen here ({@link whenStopped}), and the signal is created only when something
 * asks for it (an executor reading `context.signal`, an approval wait).
 */
export class RunControl {
  #controller: AbortController | undefined;
  #stopped = false;
  #reason: unknown;
  #listeners: ((reason: unknown) => void)[] = [];

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#stopped) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#stopped;
  }

  /** Aborts the signal (once) and tells the listeners. */
  abort(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener(reason);
  }

  /** Calls `listener` when the run is stopped (at once if it already is); returns a remover. */
  readonly whenStopped: StopHook = (listener) => {
    if (this.#stopped) {
      listener(this.signal.reason);
      return () => undefined;
    }
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  };
}

/** Aborts `control` when the caller's `signal` aborts; returns the function that stops listening. */
export function followCaller(control: RunControl, signal: AbortSignal | undefined): () => void {
  if (!signal) return () => undefined;
  const onAbort = () => control.abort(signal.reason);
  if (signal.aborted) {
    onAbort();
    return () => undefined;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
