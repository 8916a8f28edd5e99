import type { SelectorKey } from "./selector_key.ts";

/** A live, read-only view of a selector's fd → key map. */
export class SelectorMap implements ReadonlyMap<number, SelectorKey> {
  #map: Map<number, SelectorKey>;

  constructor(map: Map<number, SelectorKey>) {
    this.#map = map;
  }

  get size(): number {
    return this.#map.size;
  }

  get(fd: number): SelectorKey | undefined {
    return this.#map.get(fd);
  }

  has(fd: number): boolean {
    return this.#map.has(fd);
  }

  keys(): MapIterator<number> {
    return this.#map.keys();
  }

  values(): MapIterator<SelectorKey> {
    return this.#map.values();
  }

  entries(): MapIterator<[number, SelectorKey]> {
    return this.#map.entries();
  }

  forEach(
    cb: (value: SelectorKey, key: number, map: ReadonlyMap<number, SelectorKey>) => void,
    thisArg?: unknown,
  ): void {
    this.#map.forEach((v, k) => cb.call(thisArg, v, k, this));
  }

  [Symbol.iterator](): MapIterator<[number, SelectorKey]> {
    return this.#map.entries();
  }

  get [Symbol.toStringTag](): string {
    return "SelectorMap";
  }
}
