// The progress of one site operation, as events arrive: steps, upload
// bytes, output lines. Presentation state only.
import { cancelJob, type JobEvent } from "../api";

export class JobLog {
  steps = $state<string[]>([]);
  sent = $state(0);
  total = $state(0);
  lines = $state<string[]>([]);
  running = $state(false);
  error = $state<string | null>(null);
  result = $state<string | null>(null);
  /** Whether the running work offers a cancel (every job takes one). */
  cancellable = $state(false);
  cancelling = $state(false);
  private ticket = "";

  on = (e: JobEvent) => {
    if (e.kind === "step") this.steps.push(e.step);
    else if (e.kind === "transfer") {
      this.sent = e.sent ?? 0;
      this.total = e.total ?? 0;
    } else if (e.kind === "output") this.lines.push(e.stream === "stderr" ? `! ${e.line}` : e.line);
    else if (e.kind === "note") this.lines.push(e.line);
  };

  /** Runs `work` under a fresh ticket, recording how it ended; returns its
   *  value or null. `cancel()` stops it by the ticket. */
  async run<T>(
    work: (on: (e: JobEvent) => void, ticket: string) => Promise<T>,
    done: (v: T) => string,
    cancellable = true,
  ): Promise<T | null> {
    this.ticket = crypto.randomUUID();
    this.cancellable = cancellable;
    this.cancelling = false;
    this.steps = [];
    this.lines = [];
    this.sent = this.total = 0;
    this.error = this.result = null;
    this.running = true;
    try {
      const v = await work(this.on, this.ticket);
      this.result = done(v);
      return v;
    } catch (err) {
      this.error = (err as Error).message;
      return null;
    } finally {
      this.running = false;
    }
  }

  async cancel() {
    this.cancelling = true;
    await cancelJob(this.ticket);
  }
}
