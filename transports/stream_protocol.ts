/**
 * `StreamProtocol`: what a stream transport drives.
 *
 * @module
 */
import type { Protocol } from "./protocol.ts";
import type { BufferedProtocol } from "./buffered_protocol.ts";

/** A stream protocol: a `Protocol`, or a `BufferedProtocol` (anything with `getBuffer`). */
export type StreamProtocol = Protocol | BufferedProtocol;
