// Shared UI state: the Fleet table's query, the page of it on screen, and
// the probe in flight. The inventory itself stays in chom-core, which
// filters and sorts it; the web view holds only the rows it shows, so a
// 50,000-server fleet costs it what a 50-server one does.
import { fleetNames, fleetPage, probe, type FleetColumn, type FleetPage, type FleetQuery, type JobHandle, type ProbeReport } from "../api";

/** Rows fetched beyond the visible ones on each side, so scrolling paints from what is there. */
const OVERSCAN = 20;

class FleetState {
  search = $state("");
  tag = $state("");
  group = $state("");
  status = $state("");
  sort = $state<FleetColumn>("name");
  descending = $state(false);
  /** The rows on screen: the first one's index among the matches, and how many. */
  first = $state(0);
  visible = $state(40);

  page = $state.raw<FleetPage | null>(null);
  /** The search text `page` answers (the launch benchmark waits for it). */
  shownSearch = $state("");
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Probe progress: done / total, or null when idle. */
  progress = $state<{ done: number; total: number; failed: number } | null>(null);
  job: JobHandle<ProbeReport> | null = null;

  // Answers can arrive out of order: only the newest request's is shown,
  // and a reload a newer request overtook is asked for again with it.
  private seq = 0;
  private reloadPending = false;

  /** Servers in the inventory (0 until the first page). */
  get total(): number {
    return this.page?.total ?? 0;
  }

  query(window = true): FleetQuery {
    return {
      search: this.search,
      tag: this.tag || null,
      group: this.group || null,
      status: this.status || null,
      sort: this.sort,
      descending: this.descending,
      offset: window ? Math.max(0, this.first - OVERSCAN) : 0,
      limit: window ? this.visible + 2 * OVERSCAN : 0,
      reload: this.reloadPending,
    };
  }

  /** Fetches the page the query and the scroll position call for. */
  async load() {
    const seq = ++this.seq;
    const q = this.query();
    try {
      const page = await fleetPage(q);
      if (seq !== this.seq) return;
      if (q.reload) this.reloadPending = false;
      this.page = page;
      this.shownSearch = q.search;
      this.error = null;
    } catch (e) {
      if (seq === this.seq) this.error = (e as Error).message;
    } finally {
      if (seq === this.seq && !this.loaded) {
        // The first paint with the inventory: what the launch benchmark reads.
        requestAnimationFrame(() => performance.mark("fleet-interactive"));
        this.loaded = true;
      }
    }
  }

  /** Reads the cache again (something changed it) and shows the result. */
  refresh() {
    this.reloadPending = true;
    return this.load();
  }

  /** Names of every server the current query matches, in its order. */
  matchingNames(): Promise<string[]> {
    return fleetNames(this.query(false));
  }

  /** Probes `names` (all when empty); the table shows the results when it ends. */
  async probe(names: string[]): Promise<ProbeReport | null> {
    if (this.job) return null;
    this.progress = { done: 0, total: names.length || this.total, failed: 0 };
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
