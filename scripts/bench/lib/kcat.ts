/** Reading a topic from the beginning to its end with kcat, after a test (T1's counts, T2's latencies). */

/**
 * kcat -C -e with format `format` (kcat's -f), one line per record. `readCommitted`: isolation.level=read_committed,
 * so only records of committed transactions (aborted ones and transaction markers are skipped).
 */
export async function kcatRead(brokers: string, topic: string, format: string, readCommitted: boolean): Promise<string> {
  const isolation = readCommitted ? ["-X", "isolation.level=read_committed"] : [];
  const child = Bun.spawn(["kcat", "-q", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", ...isolation, "-f", format], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [text, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`kcat reading ${topic} failed: ${err.trim()}`);
  return text;
}

/** Records in `topic` as a read_committed consumer reads them (end offsets would count transaction markers too). */
export async function committedRecords(brokers: string, topic: string): Promise<number> {
  const text = await kcatRead(brokers, topic, "%o\\n", true);
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
