#!/usr/bin/env bun
/**
 * Builds the release binaries for every supported platform, writes SHA256SUMS and checks each artifact.
 *
 *   bun scripts/release.ts [--out dist/release]
 *
 * Each target is compiled by scripts/build.ts (same Bun as this process) into
 * `<out>/processor-<version>-<os>-<arch>[-musl]`. Bun fetches the other platforms' runtimes from the npm registry.
 * Checks: the binary for this host runs `--version` and prints the package.json version; every file has the
 * expected executable format and CPU (ELF e_machine, Mach-O cputype), the Linux ones the expected dynamic loader
 * (glibc or musl), and the macOS ones an ad-hoc code signature whose page hashes match the file (arm64 macOS
 * refuses to run unsigned code). A macOS binary whose signature does not match (Bun 1.4.x leaves the runtime's stale
 * signature on darwin-x64) is re-signed ad-hoc here, as `codesign --force --sign -` would, then checked again.
 * Exits non-zero when a build or a check fails.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, rename, rm } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { VERSION } from "../src/version.ts";
import { FAULT_INJECTION_VARIABLES } from "./lib/build-defines.ts";

type Target = {
  /** Bun compile target. */
  bun: Bun.Build.CompileTarget;
  /** Suffix of the file name: <os>-<arch>[-musl]. */
  name: string;
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  musl: boolean;
};

const TARGETS: readonly Target[] = [
  { bun: "bun-linux-x64", name: "linux-x64", os: "linux", arch: "x64", musl: false },
  { bun: "bun-linux-x64-musl", name: "linux-x64-musl", os: "linux", arch: "x64", musl: true },
  { bun: "bun-linux-arm64", name: "linux-arm64", os: "linux", arch: "arm64", musl: false },
  { bun: "bun-darwin-x64", name: "darwin-x64", os: "darwin", arch: "x64", musl: false },
  { bun: "bun-darwin-arm64", name: "darwin-arm64", os: "darwin", arch: "arm64", musl: false },
];

const ELF_MACHINE = { x64: 0x3e, arm64: 0xb7 } as const; // EM_X86_64, EM_AARCH64
const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c } as const; // CPU_TYPE_X86_64, CPU_TYPE_ARM64

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { out: { type: "string", default: "dist/release" } },
});

const root = resolve(import.meta.dir, "..");
const outDir = resolve(process.cwd(), values.out);
const fileName = (t: Target): string => `processor-${VERSION}-${t.name}`;

type Check = { ok: boolean; what: string };
type Artifact = { target: Target; file: string; path: string; size: number; sha256: string; buildMs: number; checks: Check[] };

const started = performance.now();
await mkdir(outDir, { recursive: true });
await removeStale();

const artifacts: Artifact[] = [];
for (const target of TARGETS) {
  const file = fileName(target);
  const path = join(outDir, file);
  console.log(`\n== ${target.bun} -> ${relative(process.cwd(), path)}`);
  const t0 = performance.now();
  const proc = Bun.spawn([process.execPath, "scripts/build.ts", "--target", target.bun, "--outfile", path], {
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  const code = await proc.exited;
  const buildMs = performance.now() - t0;
  if (code !== 0 || !existsSync(path)) {
    console.error(`build for ${target.bun} failed (exit code ${code})`);
    process.exit(1);
  }
  await moveSourceMaps(target, file);
  let bytes: Uint8Array = new Uint8Array(await Bun.file(path).arrayBuffer());
  const notes: Check[] = [];
  if (target.os === "darwin") {
    const macho = machO(bytes);
    const before = macho && verifySignature(macho);
    if (macho?.sig && before && !before.ok) {
      bytes = adHocSign(macho, "processor");
      await Bun.write(`${path}.tmp`, bytes);
      await chmod(`${path}.tmp`, 0o755);
      await rename(`${path}.tmp`, path); // a new inode: macOS caches signatures per vnode
      notes.push({ ok: true, what: `re-signed ad-hoc: Bun left a stale signature (${before.what})` });
      console.log(`re-signed ${file} ad-hoc (${before.what})`);
    }
  }
  const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  const checks = [...notes, ...(target.os === "linux" ? checkElf(bytes, target) : checkMachO(bytes, target))];
  checks.push(checkNoFaultInjection(bytes));
  checks.push(await checkRuns(path, target));
  artifacts.push({ target, file, path, size: bytes.byteLength, sha256, buildMs, checks });
}

const sums = [...artifacts]
  .sort((a, b) => a.file.localeCompare(b.file))
  .map((a) => `${a.sha256}  ${a.file}\n`)
  .join("");
await Bun.write(join(outDir, "SHA256SUMS"), sums);

printReport(artifacts);
const failed = artifacts.flatMap((a) => a.checks.filter((c) => !c.ok).map((c) => `${a.file}: ${c.what}`));
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\nwrote ${artifacts.length} binaries and SHA256SUMS to ${relative(process.cwd(), outDir) || "."} in ${seconds} s`);
if (failed.length > 0) {
  console.error(`\n${failed.length} check(s) FAILED:`);
  for (const f of failed) console.error(`  ${f}`);
  process.exit(1);
}
console.log("all checks passed");

/** Removes what an earlier run left behind (only our own files: the directory may be shared). */
async function removeStale(): Promise<void> {
  for (const entry of await readdir(outDir)) {
    if (entry.startsWith("processor-") || entry === "SHA256SUMS" || entry === "sourcemaps") {
      await rm(join(outDir, entry), { recursive: true, force: true });
    }
  }
}

/**
 * build.ts writes linked source maps beside the binary (<file>.map and the Worker entries' maps, whose names are the
 * same for every target). The release assets are the binaries; keep the maps per target under sourcemaps/.
 */
async function moveSourceMaps(target: Target, file: string): Promise<void> {
  const dest = join(outDir, "sourcemaps", target.name);
  for (const map of [`${file}.map`, "consumer-worker.js.map", "producer-worker.js.map"]) {
    const from = join(outDir, map);
    if (!existsSync(from)) continue;
    await mkdir(dest, { recursive: true });
    await rename(from, join(dest, map));
  }
}

function checkElf(bytes: Uint8Array, target: Target): Check[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isElf = bytes.byteLength >= 64 && view.getUint32(0, false) === 0x7f454c46;
  const checks: Check[] = [{ ok: isElf, what: "ELF magic" }];
  if (!isElf) return checks;
  const elf64le = bytes[4] === 2 && bytes[5] === 1; // ELFCLASS64, ELFDATA2LSB
  checks.push({ ok: elf64le, what: "ELF 64-bit little endian" });
  if (!elf64le) return checks;
  const machine = view.getUint16(18, true);
  const want = ELF_MACHINE[target.arch];
  checks.push({ ok: machine === want, what: `e_machine 0x${hex(machine)} (want 0x${hex(want)})` });

  const interp = elfInterpreter(bytes, view);
  const loaderOk = interp !== undefined && (target.musl ? interp.includes("ld-musl") : interp.includes("ld-linux"));
  checks.push({ ok: loaderOk, what: `loader ${interp ?? "(none)"} (want ${target.musl ? "musl" : "glibc"})` });
  return checks;
}

/** PT_INTERP of a 64-bit little-endian ELF file. */
function elfInterpreter(bytes: Uint8Array, view: DataView): string | undefined {
  const phoff = Number(view.getBigUint64(32, true));
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + 56 > bytes.byteLength) break;
    if (view.getUint32(ph, true) !== 3) continue; // PT_INTERP
    const offset = Number(view.getBigUint64(ph + 8, true));
    const size = Number(view.getBigUint64(ph + 32, true));
    return new TextDecoder().decode(bytes.subarray(offset, offset + size)).replace(/\0+$/, "");
  }
  return undefined;
}

function checkMachO(bytes: Uint8Array, target: Target): Check[] {
  const macho = machO(bytes);
  const checks: Check[] = [{ ok: macho !== undefined, what: `Mach-O 64-bit magic (0x${hex(readMagic(bytes))})` }];
  if (!macho) return checks;
  const cpu = macho.view.getUint32(4, macho.little);
  const want = MACHO_CPU[target.arch];
  checks.push({ ok: cpu === want, what: `cputype 0x${hex(cpu)} (want 0x${hex(want)})` });
  const sig = verifySignature(macho);
  checks.push({ ok: sig.ok, what: `code signature: ${sig.what}` });
  return checks;
}

type MachO = {
  bytes: Uint8Array;
  view: DataView;
  little: boolean;
  /** LC_CODE_SIGNATURE: where the command sits and the signature's place in the file. */
  sig?: { cmdAt: number; offset: number; size: number };
  /** LC_SEGMENT_64 commands by name. */
  segments: Map<string, { cmdAt: number; fileoff: number; filesize: number; vmsize: number }>;
};

function readMagic(bytes: Uint8Array): number {
  return bytes.byteLength >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false) : 0;
}

/** Parses a thin 64-bit Mach-O header and the load commands the checks need. */
function machO(bytes: Uint8Array): MachO | undefined {
  const magic = readMagic(bytes);
  // MH_MAGIC_64 as a big-endian (FEEDFACF) or little-endian (CFFAEDFE) file stores it.
  const little = magic === 0xcffaedfe;
  if (!little && magic !== 0xfeedfacf) return undefined;
  if (bytes.byteLength < 32) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const macho: MachO = { bytes, view, little, segments: new Map() };
  const ncmds = view.getUint32(16, little);
  let at = 32; // sizeof(mach_header_64)
  for (let i = 0; i < ncmds && at + 8 <= bytes.byteLength; i++) {
    const cmd = view.getUint32(at, little);
    const cmdsize = view.getUint32(at + 4, little);
    if (cmd === 0x1d) macho.sig = { cmdAt: at, offset: view.getUint32(at + 8, little), size: view.getUint32(at + 12, little) }; // LC_CODE_SIGNATURE
    if (cmd === 0x19) {
      // LC_SEGMENT_64
      const name = new TextDecoder().decode(bytes.subarray(at + 8, at + 24)).replace(/\0+$/, "");
      macho.segments.set(name, {
        cmdAt: at,
        vmsize: Number(view.getBigUint64(at + 32, little)),
        fileoff: Number(view.getBigUint64(at + 40, little)),
        filesize: Number(view.getBigUint64(at + 48, little)),
      });
    }
    if (cmdsize === 0) break;
    at += cmdsize;
  }
  return macho;
}

/**
 * Checks the CodeDirectory's page hashes against the file, as macOS does when it maps the pages.
 * Signature blobs are big-endian whatever the Mach-O byte order.
 */
function verifySignature({ bytes, view, sig }: MachO): Check {
  if (!sig) return { ok: false, what: "none (arm64 macOS kills unsigned binaries)" };
  if (sig.offset + sig.size > bytes.byteLength || view.getUint32(sig.offset, false) !== 0xfade0cc0) {
    return { ok: false, what: "bad SuperBlob" };
  }
  const count = view.getUint32(sig.offset + 8, false);
  for (let i = 0; i < count; i++) {
    const blob = sig.offset + view.getUint32(sig.offset + 12 + i * 8 + 4, false);
    if (view.getUint32(blob, false) !== 0xfade0c02) continue; // CodeDirectory
    const flags = view.getUint32(blob + 12, false);
    const hashOffset = view.getUint32(blob + 16, false);
    const nCodeSlots = view.getUint32(blob + 28, false);
    const codeLimit = view.getUint32(blob + 32, false);
    const hashSize = view.getUint8(blob + 36);
    const hashType = view.getUint8(blob + 37);
    const pageSize = 2 ** view.getUint8(blob + 39);
    if (hashType !== 2 || hashSize !== 32) return { ok: false, what: `hash type ${hashType} not checked` };
    let bad = 0;
    for (let slot = 0; slot < nCodeSlots; slot++) {
      const page = bytes.subarray(slot * pageSize, Math.min((slot + 1) * pageSize, codeLimit));
      const want = bytes.subarray(blob + hashOffset + slot * hashSize, blob + hashOffset + (slot + 1) * hashSize);
      if (!Buffer.from(want).equals(new Bun.CryptoHasher("sha256").update(page).digest())) bad++;
    }
    if (bad > 0) return { ok: false, what: `${bad}/${nCodeSlots} page hashes do not match the file` };
    if (codeLimit !== sig.offset) return { ok: false, what: `covers ${codeLimit} bytes, the code ends at ${sig.offset}` };
    return { ok: true, what: `${flags & 0x2 ? "ad-hoc" : "signed"}, ${nCodeSlots} page hashes match` };
  }
  return { ok: false, what: "no CodeDirectory" };
}

/**
 * Replaces the Mach-O code signature with a fresh ad-hoc one over the file as it is now, laid out as Bun's own
 * (linker-style) signer does for darwin-arm64: a SuperBlob holding one CodeDirectory (v0x20400, SHA-256, 4 KiB pages,
 * no special slots). Bun 1.4.x cross-compiling to darwin-x64 keeps the runtime's original signature, whose hashes no
 * longer match once the bundle is embedded (oven-sh/bun#39837); this is what `codesign --force --sign -` would fix.
 */
function adHocSign(macho: MachO, identifier: string): Uint8Array {
  const { bytes, little, sig } = macho;
  const text = macho.segments.get("__TEXT");
  const linkedit = macho.segments.get("__LINKEDIT");
  if (!sig || !text || !linkedit) throw new Error("cannot re-sign: no LC_CODE_SIGNATURE, __TEXT or __LINKEDIT");
  if (sig.offset % 16 !== 0 || sig.offset < linkedit.fileoff) throw new Error("cannot re-sign: unexpected signature offset");
  const pageSize = 4096;
  const ident = new TextEncoder().encode(`${identifier}\0`);
  const codeLimit = sig.offset; // everything before the signature is sealed
  const nSlots = Math.ceil(codeLimit / pageSize);
  const cdHeader = 88; // CodeDirectory up to and including the exec segment fields (v0x20400)
  const cdLength = cdHeader + ident.byteLength + nSlots * 32;
  const sigSize = 20 + cdLength; // SuperBlob header (12) + one index entry (8) + CodeDirectory

  const out = new Uint8Array(codeLimit + sigSize);
  out.set(bytes.subarray(0, codeLimit));
  const view = new DataView(out.buffer);
  // Load commands live in the first page, so fix them before hashing.
  view.setUint32(sig.cmdAt + 12, sigSize, little);
  const linkeditSize = out.byteLength - linkedit.fileoff;
  view.setBigUint64(linkedit.cmdAt + 48, BigInt(linkeditSize), little);
  view.setBigUint64(linkedit.cmdAt + 32, BigInt(Math.max(linkedit.vmsize, Math.ceil(linkeditSize / 0x4000) * 0x4000)), little);

  const sb = codeLimit;
  view.setUint32(sb, 0xfade0cc0); // CSMAGIC_EMBEDDED_SIGNATURE
  view.setUint32(sb + 4, sigSize);
  view.setUint32(sb + 8, 1);
  view.setUint32(sb + 12, 0); // CSSLOT_CODEDIRECTORY
  view.setUint32(sb + 16, 20);
  const cd = sb + 20;
  view.setUint32(cd, 0xfade0c02); // CSMAGIC_CODEDIRECTORY
  view.setUint32(cd + 4, cdLength);
  view.setUint32(cd + 8, 0x20400);
  view.setUint32(cd + 12, 0x20002); // CS_ADHOC | CS_LINKER_SIGNED, as Bun's darwin-arm64 output
  view.setUint32(cd + 16, cdHeader + ident.byteLength); // hashOffset
  view.setUint32(cd + 20, cdHeader); // identOffset
  view.setUint32(cd + 24, 0); // nSpecialSlots
  view.setUint32(cd + 28, nSlots);
  view.setUint32(cd + 32, codeLimit);
  view.setUint8(cd + 36, 32); // hashSize
  view.setUint8(cd + 37, 2); // CS_HASHTYPE_SHA256
  view.setUint8(cd + 38, 0); // platform
  view.setUint8(cd + 39, 12); // log2(pageSize)
  // spare2, scatterOffset, teamOffset, spare3, codeLimit64 stay 0.
  view.setBigUint64(cd + 64, BigInt(text.fileoff)); // execSegBase
  view.setBigUint64(cd + 72, BigInt(text.filesize)); // execSegLimit
  view.setBigUint64(cd + 80, 1n); // CS_EXECSEG_MAIN_BINARY
  out.set(ident, cd + cdHeader);
  for (let slot = 0; slot < nSlots; slot++) {
    const page = out.subarray(slot * pageSize, Math.min((slot + 1) * pageSize, codeLimit));
    out.set(new Bun.CryptoHasher("sha256").update(page).digest(), cd + cdHeader + ident.byteLength + slot * 32);
  }
  return out;
}

/** build.ts compiles the test fault injection out of every build but the tests' own: no release binary may read its variables. */
function checkNoFaultInjection(bytes: Uint8Array): Check {
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = FAULT_INJECTION_VARIABLES.filter((name) => file.includes(name));
  return {
    ok: found.length === 0,
    what: found.length === 0 ? "no test fault injection" : `test fault injection compiled in (${found.join(", ")})`,
  };
}

/** Runs `--version` when this host can execute the binary; the linux-x64 one must run on a linux-x64 host. */
async function checkRuns(path: string, target: Target): Promise<Check> {
  const hostCanRun =
    target.os === process.platform &&
    target.arch === process.arch &&
    (target.os === "darwin" || existsSync(target.musl ? "/lib/ld-musl-x86_64.so.1" : "/lib64/ld-linux-x86-64.so.2"));
  const required = target.os === "linux" && target.arch === "x64" && !target.musl && process.platform === "linux" && process.arch === "x64";
  if (!hostCanRun) {
    return { ok: !required, what: required ? "--version: host cannot run it" : "--version: not run (other platform)" };
  }
  const proc = Bun.spawn([path, "--version"], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const printed = stdout.trim();
  const ok = code === 0 && printed === VERSION;
  return { ok, what: `--version printed "${printed}"${code !== 0 ? ` (exit ${code}) ${stderr.trim()}` : ""} (want ${VERSION})` };
}

function printReport(list: readonly Artifact[]): void {
  const rows = list.map((a) => [a.file, (a.size / 1024 / 1024).toFixed(1), a.sha256.slice(0, 16), `${(a.buildMs / 1000).toFixed(1)} s`]);
  const header = ["file", "size (MiB)", "sha256", "build"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 1 || i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join("  ");
  console.log(`\n${line(header)}\n${line(widths.map((w) => "-".repeat(w)))}`);
  for (const r of rows) console.log(line(r));
  console.log("\nchecks:");
  for (const a of list) {
    for (const c of a.checks) console.log(`  ${c.ok ? "ok  " : "FAIL"}  ${a.target.name.padEnd(15)} ${c.what}`);
  }
}

function hex(n: number): string {
  return n.toString(16).toUpperCase();
}
