/**
 * The echo protocols the benchmark servers share: `Echo` (`dataReceived`
 * writes the bytes back) and `BufferedEcho` (a `BufferedProtocol` reading
 * into one 256 KiB buffer shared by every connection).
 *
 * @module
 */
import { BufferedProtocol, Protocol, type Transport } from "../../mod.ts";

/** `dataReceived` writes the bytes back. */
export class Echo extends Protocol {
  #transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.#transport = transport;
  }
  override dataReceived(data: Uint8Array): void {
    this.#transport.write(data);
  }
}

// One buffer for every connection: each read is written back before the next one starts, and
// our write() copies what the kernel did not take (uvloop's does not: its peer keeps one each).
const SHARED = new Uint8Array(256 * 1024);

/** Reads into the shared buffer and writes each read back from it. */
export class BufferedEcho extends BufferedProtocol {
  #transport!: Transport;
  override connectionMade(transport: Transport): void {
    this.#transport = transport;
  }
  override getBuffer(_sizeHint: number): Uint8Array {
    return SHARED;
  }
  override bufferUpdated(nbytes: number): void {
    this.#transport.write(SHARED.subarray(0, nbytes));
  }
}
