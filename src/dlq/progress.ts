/** A progress bar on stderr while a dead-letter read runs, drawn only on a terminal and at most 10 times a second. */
const WIDTH = 30;

export class Progress {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly out: { isTTY?: boolean; write(text: string): unknown } = process.stderr,
  ) {}

  update(done: number, detail = ""): void {
    if (this.out.isTTY !== true) return;
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(share * WIDTH);
    const bar = `${"#".repeat(filled)}${".".repeat(WIDTH - filled)}`;
    const counts = `${done.toLocaleString("en-US")}/${this.total.toLocaleString("en-US")}`;
    this.out.write(`\r\x1b[2K${this.label} [${bar}] ${(share * 100).toFixed(0).padStart(3)}% ${counts}${detail ? ` ${detail}` : ""}`);
    this.drawn = true;
  }

  /** Clears the line, so what is printed next starts clean. */
  done(): void {
    if (this.drawn) this.out.write("\r\x1b[2K");
    this.drawn = false;
  }
}
