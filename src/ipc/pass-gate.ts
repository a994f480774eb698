/**
 * One pass at a time per key. A queue's passes must not overlap: two passes listing the same
 * directory would both process a file, and the second would find it gone. A call during a pass
 * asks for exactly one more pass after it (any number of calls share that one), which re-lists
 * the directory and so sees whatever the calls were about.
 */
type GateState =
  | { name: 'running'; done: Promise<void> }
  | { name: 'running-then-again'; done: Promise<void>; again: Promise<void> };

export class PassGate {
  private readonly gates = new Map<string, GateState>();

  /**
   * Runs `pass` for `key` now, or once after the pass in progress. Resolves when a pass that
   * started after this call has finished. `pass` must not reject (it is the caller's loop and
   * handles its own errors); a rejection is passed on to the callers waiting for that pass.
   */
  run(key: string, pass: () => Promise<void>): Promise<void> {
    const state = this.gates.get(key);
    if (!state) return this.start(key, pass);
    if (state.name === 'running-then-again') return state.again;
    const again = state.done.then(
      () => this.start(key, pass),
      () => this.start(key, pass),
    );
    this.gates.set(key, { name: 'running-then-again', done: state.done, again });
    return again;
  }

  /** Resolves when no pass runs or waits, for any key (stop() waits for this). */
  async idle(): Promise<void> {
    while (this.gates.size) {
      await Promise.allSettled([...this.gates.values()].map((s) => s.done));
    }
  }

  private start(key: string, pass: () => Promise<void>): Promise<void> {
    const done = Promise.resolve()
      .then(pass)
      .finally(() => {
        // A pass asked for meanwhile replaces this state itself when it starts; until then new
        // callers must keep joining it rather than start a pass of their own.
        const s = this.gates.get(key);
        if (s?.name === 'running' && s.done === done) this.gates.delete(key);
      });
    this.gates.set(key, { name: 'running', done });
    return done;
  }
}
