/** Single-producer single-consumer byte ring over SharedArrayBuffer: layout, writer and reader. */
export { createRing, ringUsage, RingClosedError, type RingBuffers } from "./ring-layout.ts";
export { RingWriter } from "./ring-writer.ts";
export { RingReader } from "./ring-reader.ts";
