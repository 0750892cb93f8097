// A typed listener set: subscribe returns its unsubscribe, and emit calls a snapshot of the listeners, so a
// listener may unsubscribe itself (or another) mid-emit without skipping or repeating anyone.

export type Listener<T> = (value: T) => void;

export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  subscribe(fn: Listener<T>): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /** Calls every listener; one that throws does not stop the others (its error is dropped). */
  emit(value: T): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(value);
      } catch {
        // One broken listener must not stop the others.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
