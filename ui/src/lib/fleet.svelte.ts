// Shared UI state: the cached inventory and the probe in flight. Only
// presentation state lives here; every rule is in chom-core.
import { listServers, probe, type JobHandle, type ProbeReport, type ServerView } from "../api";

class FleetState {
  // Raw: replaced whole on refresh, never mutated; deep proxies on 10,000
  // rows would cost memory and make sorting and filtering slow.
  servers = $state.raw<ServerView[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Probe progress: done / total, or null when idle. */
  progress = $state<{ done: number; total: number; failed: number } | null>(null);
  job: JobHandle<ProbeReport> | null = null;

  async refresh() {
    try {
      this.servers = await listServers();
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      if (!this.loaded) {
        // The first paint with the inventory: what the launch benchmark reads.
        requestAnimationFrame(() => performance.mark("fleet-interactive"));
      }
      this.loaded = true;
    }
  }

  /** Probes `names` (all when empty); the table fills in as servers answer. */
  async probe(names: string[]): Promise<ProbeReport | null> {
    if (this.job) return null;
    this.progress = { done: 0, total: names.length || this.servers.length, failed: 0 };
    this.job = probe(names, (e) => {
      if (e.kind === "started") this.progress = { done: 0, total: e.total, failed: 0 };
      if (e.kind === "server_done") {
        this.progress = { done: e.done, total: e.total, failed: (this.progress?.failed ?? 0) + (e.ok ? 0 : 1) };
      }
    });
    try {
      return await this.job.done;
    } catch (e) {
      this.error = (e as Error).message;
      return null;
    } finally {
      this.job = null;
      this.progress = null;
      await this.refresh();
    }
  }

  async cancel() {
    await this.job?.cancel();
  }
}

export const fleet = new FleetState();

/** Servers whose last probe is older than this are shown as stale. */
export const STALE_AFTER_MS = 15 * 60 * 1000;

export function isStale(s: ServerView, now = Date.now()): boolean {
  if (s.status === "down" || s.status === "host_key_changed") return true;
  return s.probe != null && now - Date.parse(s.probe.at) > STALE_AFTER_MS;
}
