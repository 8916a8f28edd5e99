/**
 * Opening OpenSSL: one lazy `dlopen` per library path (`libssl.so.3` by
 * default), through `ffi/_dlopen.ts`. Where OpenSSL cannot be opened (no
 * library, or Windows, which has no system OpenSSL) a
 * `Deno.errors.NotSupported` names the platform and the alternatives.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { type OpenSsl, SYMBOLS } from "./_symbols.ts";

/** The library opened when no `libraryPath` is given. */
export const DEFAULT_LIBSSL: string = Deno.build.os === "darwin" ? "libssl.3.dylib" : "libssl.so.3";

const ALTERNATIVE = "use Deno.connectTls()/Deno.listenTls()/Deno.startTls() for TLS instead";

const opened = new Map<string, () => OpenSsl>();

/**
 * The OpenSSL symbols of `path` (default {@linkcode DEFAULT_LIBSSL}),
 * opened on the first call for that path. Throws `NotSupported` where
 * OpenSSL cannot be loaded.
 *
 * @example
 * ```ts ignore
 * import { openssl } from "./_library.ts";
 * console.log(openssl().OpenSSL_version_num() >= 0x30000000n); // true
 * ```
 */
export function openssl(path: string = DEFAULT_LIBSSL): OpenSsl {
  let get = opened.get(path);
  if (get === undefined) {
    get = lazyLibrary(path, SYMBOLS, {
      available: Deno.build.os !== "windows",
      unsupported: `TLS (ssl) is not supported on ${Deno.build.os}: @aio/loop's TLS uses ` +
        `OpenSSL 3 through FFI and no SChannel engine exists yet; ${ALTERNATIVE}`,
    });
    let lib: OpenSsl;
    try {
      lib = get();
    } catch (e) {
      if (e instanceof Deno.errors.NotSupported) throw e;
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw e;
      }
      throw new Deno.errors.NotSupported(
        `TLS (ssl) is not supported here (${Deno.build.os}): OpenSSL 3 could not be loaded ` +
          `from ${JSON.stringify(path)} (${(e as Error).message}); install OpenSSL 3, give its ` +
          `libssl path as the context's libraryPath, or ${ALTERNATIVE}`,
        { cause: e },
      );
    }
    const version = lib.OpenSSL_version_num();
    if (version < 0x30000000n) {
      throw new Deno.errors.NotSupported(
        `TLS (ssl) needs OpenSSL 3; ${JSON.stringify(path)} is version 0x${
          version.toString(16)
        }; give an OpenSSL 3 libssl as libraryPath, or ${ALTERNATIVE}`,
      );
    }
    opened.set(path, get);
    return lib;
  }
  return get();
}
