/**
 * The one lazy `Deno.dlopen` of `ffi/`: a library is opened on the first
 * call of its getter, so importing a module needs no `--allow-ffi` until a
 * call is made, and a binding for another OS throws `NotSupported` (with a
 * message naming the alternative) instead of failing to load.
 *
 * The getter returns Deno's own symbol functions, untouched: their types
 * are exactly those of the symbol table (keep 64-bit parameters as BigInts:
 * Deno's fast call path takes them in no other form), and callers call them
 * directly, with no JavaScript closure in between.
 *
 * @module
 */

/** When a library may be opened, and what to say when it may not. */
export interface LazyLibraryOptions {
  /** Whether this OS has the library (a value computed once at import). */
  available: boolean;
  /** The message of the `Deno.errors.NotSupported` thrown when it is not available. */
  unsupported: string;
}

/**
 * A getter of the symbols of `path` described by `symbols`, opened on first
 * call (and then returned as is: one check of a variable per call). Where
 * `options.available` is false the getter throws `Deno.errors.NotSupported`
 * with `options.unsupported` and never calls `Deno.dlopen`.
 *
 * @example
 * ```ts
 * import { lazyLibrary } from "./_dlopen.ts";
 * const libc = lazyLibrary(
 *   Deno.build.os === "darwin" ? "/usr/lib/libSystem.B.dylib" : "libc.so.6",
 *   { getpid: { parameters: [], result: "i32" } } as const,
 *   { available: Deno.build.os !== "windows", unsupported: "getpid is a Unix call" },
 * );
 * if (Deno.build.os !== "windows") console.log(libc().getpid() === Deno.pid); // true
 * ```
 */
export function lazyLibrary<const S extends Deno.ForeignLibraryInterface>(
  path: string,
  symbols: S,
  options: LazyLibraryOptions,
): () => Deno.DynamicLibrary<S>["symbols"] {
  let lib: Deno.DynamicLibrary<S>["symbols"] | undefined;
  return () => {
    if (lib === undefined) {
      if (!options.available) throw new Deno.errors.NotSupported(options.unsupported);
      lib = Deno.dlopen(path, symbols).symbols;
    }
    return lib;
  };
}
