// How the app says a core Remedy (what the operator can do about an
// error): where to click. The CLI says the same remedies as command lines.
import type { Remedy } from "../api/bindings";

const lists = {
  servers: "The Fleet view",
  sites: "The Sites view",
  keys: "The Keys view",
  jobs: "The Jobs view",
  backups: "A site's Backups section",
} as const;

export function remedyText(r: Remedy): string {
  switch (r.kind) {
    case "trust_host_key":
      return `Open ${r.server} in Fleet and trust the key it offers once its fingerprint checks out with the provider.`;
    case "install_public_key":
      return `Copy the public key of ${r.key} (Keys) into ~${r.user}/.ssh/authorized_keys on the server.`;
    case "set_server_key":
      return `Open ${r.server} in Fleet, Edit, and choose its key.`;
    case "resume_server":
      return `Open ${r.server} in Fleet and press Resume now.`;
    case "enable_site":
      return `Open ${r.site} in Sites and enable it.`;
    case "list":
      return `${lists[r.what]} lists what exists.`;
    case "add_key":
      return "Generate or import one in Keys.";
    case "probe_all":
      return "Probe all in Fleet, or choose the server.";
    case "other_data_dir":
      return "Start CHOM with another data directory (CHOM_DATA_DIR).";
    case "raise_step_limit":
      return `If step ${r.step} really takes longer on this server, start CHOM with a longer limit for it (CHOM_STEP_LIMITS=${r.step}=SECONDS).`;
  }
}
