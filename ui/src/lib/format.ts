// Presentation only: no business rules here.

/** "3 min ago", "never". */
export function ago(iso: string | null, now: number = Date.now()): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function pct(v: number | null): string {
  return v === null ? "" : `${Math.round(v)}%`;
}

export const statusLabel: Record<string, string> = {
  up: "up",
  down: "down",
  unknown: "unknown",
  host_key_changed: "host key changed",
};

/** 1536 -> "1.5 KiB". */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
