/** kcat (librdkafka) as an independent reader: another client than the one the processor itself uses. */

/** The raw output of `kcat -C` reading every partition of `topic` from the beginning to its end, in `format`. */
export async function kcatConsume(brokers: readonly string[], topic: string, format: readonly string[]): Promise<Buffer> {
  const child = Bun.spawn(
    [
      "kcat",
      "-C",
      "-b",
      brokers.join(","),
      "-t",
      topic,
      "-o",
      "beginning",
      "-e",
      "-q",
      "-X",
      "fetch.message.max.bytes=16777216",
      "-X",
      "receive.message.max.bytes=200000000",
      ...format,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).arrayBuffer(), new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`kcat -t ${topic} exited ${code}: ${err.slice(-2000)}`);
  return Buffer.from(out);
}
