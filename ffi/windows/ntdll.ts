/**
 * ntdll.dll: the NT calls that return their NTSTATUS (so no `GetLastError`
 * is needed, even off the JS thread): completion-port waits, device I/O
 * (AFD polling), cancellation, the NTSTATUS → Win32 mapping, the timer
 * resolution, and Wine detection. One lazy `dlopen`; elsewhere than on
 * Windows the getter throws `Deno.errors.NotSupported`.
 *
 * @module
 */
import { lazyLibrary } from "../_dlopen.ts";
import { IS_WINDOWS } from "./kernel32.ts";

const UNSUPPORTED = "ntdll.dll is Windows only: on this OS use the Unix bindings of ffi/unix";

/** The ntdll functions this module declares (`wine_get_version` is optional: Wine only).
 * @example
 * ```ts
 * import { NTDLL_SYMBOLS } from "./ntdll.ts";
 * console.log(NTDLL_SYMBOLS.RtlNtStatusToDosError.result); // "u32"
 * ```
 */
export const NTDLL_SYMBOLS = {
  NtCreateFile: {
    parameters: [
      "buffer",
      "u32",
      "buffer",
      "buffer",
      "pointer",
      "u32",
      "u32",
      "u32",
      "u32",
      "pointer",
      "u32",
    ],
    result: "u32",
  },
  NtDeviceIoControlFile: {
    parameters: [
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "pointer",
      "u32",
      "pointer",
      "u32",
      "pointer",
      "u32",
    ],
    result: "u32",
  },
  NtCancelIoFileEx: { parameters: ["pointer", "pointer", "buffer"], result: "u32" },
  NtRemoveIoCompletionEx: {
    parameters: ["pointer", "pointer", "u32", "buffer", "buffer", "u8"],
    result: "u32",
  },
  NtRemoveIoCompletionExNB: {
    name: "NtRemoveIoCompletionEx",
    parameters: ["pointer", "pointer", "u32", "pointer", "pointer", "u8"],
    result: "u32",
    nonblocking: true,
  },
  RtlNtStatusToDosError: { parameters: ["u32"], result: "u32" },
  NtQueryTimerResolution: { parameters: ["buffer", "buffer", "buffer"], result: "u32" },
  wine_get_version: { parameters: [], result: "pointer", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The ntdll.dll symbols, opened on first call (Deno's own functions,
 * untouched; `wine_get_version` is `null` on real Windows).
 *
 * @example
 * ```ts
 * import { ntdll } from "./ntdll.ts";
 * if (Deno.build.os === "windows") console.log(ntdll().RtlNtStatusToDosError(0xC0000120)); // 995
 * ```
 */
export const ntdll: () => Deno.DynamicLibrary<typeof NTDLL_SYMBOLS>["symbols"] = lazyLibrary(
  "ntdll.dll",
  NTDLL_SYMBOLS,
  { available: IS_WINDOWS, unsupported: UNSUPPORTED },
);

/**
 * The Wine version this process runs under (`"10.0"`), or `null` on real
 * Windows (ntdll exports `wine_get_version` under Wine only). Tests use it to
 * skip, with the reason, what only real Windows shows.
 *
 * @example
 * ```ts
 * import { wineVersion } from "./ntdll.ts";
 * if (Deno.build.os === "windows") console.log(wineVersion() ?? "real Windows");
 * ```
 */
export function wineVersion(): string | null {
  const f = ntdll().wine_get_version;
  if (f === null) return null;
  const p = f();
  return p === null ? null : new Deno.UnsafePointerView(p).getCString();
}

/**
 * The timer resolution in 100 ns units, from `NtQueryTimerResolution`:
 * `coarsest` (what Windows calls "Minimum", typically 156250), `finest`
 * ("Maximum", typically 5000) and `current` (what waits round to).
 *
 * @example
 * ```ts
 * import { timerResolution } from "./ntdll.ts";
 * if (Deno.build.os === "windows") console.log(timerResolution().current > 0); // true
 * ```
 */
export function timerResolution(): { coarsest: number; finest: number; current: number } {
  const out = new Uint32Array(3);
  const b = (i: number) => new Uint8Array(out.buffer, 4 * i, 4);
  const st = ntdll().NtQueryTimerResolution(b(0), b(1), b(2));
  if (st !== 0) throw new Error(`NtQueryTimerResolution failed: NTSTATUS 0x${st.toString(16)}`);
  return { coarsest: out[0], finest: out[1], current: out[2] };
}
