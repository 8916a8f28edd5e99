/**
 * Assertions shaped like `@std/assert`, built on `node:assert` (shipped inside
 * Deno) because JSR cannot be reached from the build machines. Tests import
 * this through the import-map name `@std/assert`; switching to the real package
 * is a one-line change in `deno.json`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * assertEquals(1 + 1, 2);
 * ```
 * @module
 */
import nodeAssert from "node:assert";

/** An error raised when an assertion fails. */
export class AssertionError extends Error {
  /** Makes an assertion error with `message`. */
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

function wrap(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof nodeAssert.AssertionError) throw new AssertionError(e.message);
    throw e;
  }
}

/** Asserts that `expr` is truthy. */
export function assert(expr: unknown, msg = "Expected expression to be true"): asserts expr {
  if (!expr) throw new AssertionError(msg);
}

/** Asserts deep equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  wrap(() => nodeAssert.deepStrictEqual(actual, expected, msg));
}

/** Asserts deep inequality. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void {
  wrap(() => nodeAssert.notDeepStrictEqual(actual, expected, msg));
}

/** Asserts `Object.is` equality. */
export function assertStrictEquals<T>(actual: unknown, expected: T, msg?: string): void {
  wrap(() => nodeAssert.strictEqual(actual, expected, msg));
}

/** Asserts that a value is neither null nor undefined. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T> {
  if (actual === null || actual === undefined) {
    throw new AssertionError(msg ?? `Expected a value, got ${actual}`);
  }
}

/** Asserts `actual > expected`. */
export function assertGreater(actual: number, expected: number, msg?: string): void {
  if (!(actual > expected)) throw new AssertionError(msg ?? `Expected ${actual} > ${expected}`);
}

/** Asserts `actual >= expected`. */
export function assertGreaterOrEqual(actual: number, expected: number, msg?: string): void {
  if (!(actual >= expected)) throw new AssertionError(msg ?? `Expected ${actual} >= ${expected}`);
}

/** Asserts `actual < expected`. */
export function assertLess(actual: number, expected: number, msg?: string): void {
  if (!(actual < expected)) throw new AssertionError(msg ?? `Expected ${actual} < ${expected}`);
}

/** Asserts `actual <= expected`. */
export function assertLessOrEqual(actual: number, expected: number, msg?: string): void {
  if (!(actual <= expected)) throw new AssertionError(msg ?? `Expected ${actual} <= ${expected}`);
}

/** Asserts that `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void {
  if (!expected.test(actual)) {
    throw new AssertionError(msg ?? `Expected ${JSON.stringify(actual)} to match ${expected}`);
  }
}

/** Asserts that `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  if (!actual.includes(expected)) {
    throw new AssertionError(
      msg ?? `Expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
    );
  }
}

// deno-lint-ignore no-explicit-any
type AnyConstructor = new (...args: any[]) => any;

/** Asserts that `actual` is an instance of `ctor`. */
export function assertInstanceOf<T extends AnyConstructor>(
  actual: unknown,
  ctor: T,
  msg?: string,
): asserts actual is InstanceType<T> {
  if (!(actual instanceof ctor)) {
    const got = (actual as { constructor?: { name?: string } })?.constructor?.name ?? typeof actual;
    throw new AssertionError(msg ?? `Expected instance of ${ctor.name}, got ${got}`);
  }
}

function checkError(
  e: unknown,
  ErrorClass?: AnyConstructor,
  msgIncludes?: string,
): void {
  if (ErrorClass && !(e instanceof ErrorClass)) {
    throw new AssertionError(
      `Expected error to be instance of ${ErrorClass.name}, got ${
        (e as Error)?.constructor?.name
      }: ${(e as Error)?.message}`,
    );
  }
  if (msgIncludes !== undefined && !String((e as Error)?.message).includes(msgIncludes)) {
    throw new AssertionError(
      `Expected error message to include ${JSON.stringify(msgIncludes)}, got ${
        JSON.stringify((e as Error)?.message)
      }`,
    );
  }
}

/** Asserts that `fn` throws, optionally of `ErrorClass` with a message including `msgIncludes`. */
export function assertThrows<E extends AnyConstructor = ErrorConstructor>(
  fn: () => unknown,
  ErrorClass?: E,
  msgIncludes?: string,
): InstanceType<E> {
  try {
    fn();
  } catch (e) {
    checkError(e, ErrorClass, msgIncludes);
    return e as InstanceType<E>;
  }
  throw new AssertionError("Expected function to throw.");
}

/** Asserts that `fn` returns a promise that rejects. */
export async function assertRejects<E extends AnyConstructor = ErrorConstructor>(
  fn: () => PromiseLike<unknown>,
  ErrorClass?: E,
  msgIncludes?: string,
): Promise<InstanceType<E>> {
  try {
    await fn();
  } catch (e) {
    checkError(e, ErrorClass, msgIncludes);
    return e as InstanceType<E>;
  }
  throw new AssertionError("Expected function to reject.");
}

/** Fails unconditionally. */
export function fail(msg?: string): never {
  throw new AssertionError(msg ?? "Failed assertion.");
}
