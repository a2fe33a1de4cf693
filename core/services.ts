/** A typed key for a service registered on a streaming context (see {@link Services}). */
export interface ServiceKey<T> {
  readonly description: string;
  /** Phantom: ties the key to its service type. */
  readonly __type?: T;
}

/** Creates a service key; `description` names the service in error messages. */
export function serviceKey<T>(description: string): ServiceKey<T> {
  const key: ServiceKey<T> = { description };
  return Object.freeze(key);
}

/** A hook run when a context starts or stops. */
export type LifecycleHook = () => Promise<void> | void;

/**
 * The services of one streaming context: how the folders that extend the core (state stores,
 * checkpoints) plug into it without the core knowing them. A folder declares a key, registers
 * its service before start, and its operators look it up while they run.
 */
export class Services {
  readonly #services = new Map<ServiceKey<unknown>, unknown>();
  readonly #onStart: LifecycleHook[] = [];
  readonly #onStop: LifecycleHook[] = [];

  /** Registers (or replaces) the service for `key`. */
  provide<T>(key: ServiceKey<T>, service: T): void {
    this.#services.set(key, service);
  }

  /** The service for `key`, if one was registered. */
  lookup<T>(key: ServiceKey<T>): T | undefined {
    return this.#services.get(key) as T | undefined;
  }

  /** Runs `hook` when the context starts, before the first batch, in registration order. */
  onStart(hook: LifecycleHook): void {
    this.#onStart.push(hook);
  }

  /** Runs `hook` when the context stops, after the last batch, in reverse registration order. */
  onStop(hook: LifecycleHook): void {
    this.#onStop.push(hook);
  }

  /** @internal */
  get startHooks(): readonly LifecycleHook[] {
    return this.#onStart;
  }

  /** @internal */
  get stopHooks(): readonly LifecycleHook[] {
    return [...this.#onStop].reverse();
  }
}
