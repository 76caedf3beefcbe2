/**
 * Stops one run: an AbortController (whose signal executors receive) that also tells Warden's
 * own code directly. Node 20's `addEventListener` costs ~5 µs per call, which would be a sixth of
 * a whole `run()`; Warden's internals therefore listen here, and only executors use the signal.
 */
export class RunControl {
  readonly #controller = new AbortController();
  #onStop: ((reason: unknown) => void) | undefined;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Aborts the signal (once) and tells the current listener. */
  abort(reason: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    this.#onStop?.(reason);
  }

  /** Calls `listener` when the run is stopped (at once if it already is); returns a remover. */
  whenStopped(listener: (reason: unknown) => void): () => void {
    if (this.aborted) {
      listener(this.#controller.signal.reason);
      return () => undefined;
    }
    this.#onStop = listener;
    return () => {
      if (this.#onStop === listener) this.#onStop = undefined;
    };
  }
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
