// The only module the UI imports for the backend: typed calls generated
// from the Rust commands (bindings.ts), with failures as one error class
// keyed by chom-core's stable error codes.
import { Channel } from "@tauri-apps/api/core";
import {
  commands,
  events,
  type LogRow_Serialize,
  type ReconciledRow,
  type AuditRow_Serialize,
  type HostKeyCheck_Serialize,
  type JobOutcome_Serialize,
  type JobProgress_Deserialize,
  type JobRow_Serialize,
  type KeyRow,
  type ServerDetail_Serialize,
  type ServerChanges,
  type ServerForm,
  type ServerRow_Serialize,
  type DeployForm,
  type PickKind,
  type SiteDetailRow_Serialize,
  type SiteForm,
  type SiteDefaultsRow,
  type SiteRow_Serialize,
  type SslRow_Serialize,
  type UiError,
} from "./bindings";
import { remedyText } from "../lib/remedy";

// The shapes as the backend sends them (bindings also describe the inbound
// shapes, with optional fields).
export type { DeployForm, KeyRow, PickKind, ServerChanges, ServerForm, SiteForm };
export type SiteDetailRow = SiteDetailRow_Serialize;
export type SiteRow = SiteRow_Serialize;
export type SiteDefaults = SiteDefaultsRow;
export type SslRow = SslRow_Serialize;
export type AuditRow = AuditRow_Serialize;
export type HostKeyCheck = HostKeyCheck_Serialize;
export type JobOutcome = JobOutcome_Serialize;
export type JobProgress = JobProgress_Deserialize;
export type JobRow = JobRow_Serialize;
export type LogRow = LogRow_Serialize;
export type { ReconciledRow };
/** App-wide events: a job started or ended; jobs reconciled at launch. */
export { events };
export type ServerDetail = ServerDetail_Serialize;
export type ServerRow = ServerRow_Serialize;

export class ChomError extends Error {
  readonly code: UiError["code"];
  constructor(e: UiError) {
    super(e.remedy ? `${e.message}. ${remedyText(e.remedy)}` : e.message);
    this.code = e.code;
  }
}

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: UiError };

function unwrap<T>(r: Result<T>): T {
  if (r.status === "error") throw new ChomError(r.error);
  return r.data;
}

export const listServers = async () => unwrap(await commands.serverList());
export const serverDetail = async (name: string) => unwrap(await commands.serverDetail(name));
export const addServer = async (form: ServerForm) => unwrap(await commands.serverAdd(form));
export const editServer = async (name: string, changes: ServerChanges) => unwrap(await commands.serverEdit(name, changes));
export const removeServer = async (name: string) => unwrap(await commands.serverRemove(name));
export const resumeServer = async (name: string) => unwrap(await commands.serverResume(name));

export const listKeys = async () => unwrap(await commands.keyList());
export const generateKey = async (name: string) => unwrap(await commands.keyGenerate(name));
export const importKey = async (name: string, pem: string, passphrase: string) =>
  unwrap(await commands.keyImport(name, pem, passphrase));
export const deleteKey = async (name: string) => unwrap(await commands.keyDelete(name));

export const checkHostKey = async (name: string) => unwrap(await commands.hostKeyCheck(name));
export const acceptHostKey = async (name: string, fingerprint: string) =>
  unwrap(await commands.hostKeyAccept(name, fingerprint));

/** ssh-copy-id: installs the server's key over a one-time password login. */
export const installKeyWithPassword = async (name: string, password: string) =>
  unwrap(await commands.serverInstallKey(name, password));

/** The OS's file chooser, opened near `current`; null when the operator closed it. */
export const pickPath = async (kind: PickKind, current: string) => unwrap(await commands.pickPath(kind, current));

export const listJobs = async (limit = 100) => unwrap(await commands.jobList(limit));
/** Job `id`'s log after line `after` (0: the start); `grep` filters. */
export const jobLog = async (id: number, after = 0, grep: string | null = null, limit = 5000) =>
  unwrap(await commands.jobLog(id, after, grep, limit));
export const reconcileJobs = async () => unwrap(await commands.jobReconcile());
/** Runs interrupted deploy or setup `id` again. */
export const resumeJob = (id: number, ticket: string, on: (e: JobProgress) => void) =>
  siteJob((ch) => commands.jobResume(id, ticket, ch), on);
export const jobFailedServers = async (id: number) => unwrap(await commands.jobFailedServers(id));
export const listAudit = async (action: string | null, server: string | null, limit = 200) =>
  unwrap(await commands.auditList(action, server, limit));

/** A job in flight: its progress events and a way to cancel it. */
export interface JobHandle {
  ticket: string;
  done: Promise<JobOutcome>;
  cancel: () => Promise<void>;
}

function startJob(
  call: (ticket: string, channel: Channel<JobProgress>) => Promise<Result<JobOutcome>>,
  onEvent: (e: JobProgress) => void,
): JobHandle {
  const ticket = crypto.randomUUID();
  const channel = new Channel<JobProgress>();
  channel.onmessage = onEvent;
  return {
    ticket,
    done: call(ticket, channel).then(unwrap),
    cancel: () => cancelJob(ticket),
  };
}

/** Probes the named servers, or all of them when `names` is empty. */
export const probe = (names: string[], onEvent: (e: JobProgress) => void) =>
  startJob((t, ch) => commands.fleetProbe(names, t, ch), onEvent);

export const run = (names: string[], command: string, onEvent: (e: JobProgress) => void) =>
  startJob((t, ch) => commands.fleetRun(names, command, t, ch), onEvent);

/** What a new site gets when the operator does not say (decided in the core). */
export const siteDefaults = () => commands.siteDefaults();
export const listSites = async () => unwrap(await commands.siteList());
export const siteDetail = async (domain: string) => unwrap(await commands.siteDetail(domain));
export const siteReleases = async (domain: string) => unwrap(await commands.siteReleases(domain));
export const sslStatus = async (domain: string | null) => unwrap(await commands.sslStatus(domain));

/** A site operation in flight: its steps and upload progress as events. */
function siteJob<T>(call: (channel: Channel<JobProgress>) => Promise<Result<T>>, onEvent: (e: JobProgress) => void) {
  const channel = new Channel<JobProgress>();
  channel.onmessage = onEvent;
  return call(channel).then(unwrap);
}

type OnEvent = (e: JobProgress) => void;
/** Cancels the job started with `ticket` (a finished job ignores it). */
export const cancelJob = async (ticket: string): Promise<void> => {
  unwrap(await commands.jobCancel(ticket));
};
export const createSite = (form: SiteForm, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteCreate(form, ticket, ch), on);
export const deploySite = (domain: string, form: DeployForm, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteDeploy(domain, form, ticket, ch), on);
export const rollbackSite = (domain: string, to: string | null, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteRollback(domain, to, ticket, ch), on);
export const setSiteEnabled = (domain: string, enabled: boolean, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteSetEnabled(domain, enabled, ticket, ch), on);
export const deleteSite = (domain: string, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteDelete(domain, ticket, ch), on);
export const setDashboardUpdates = (domain: string, on: boolean, ticket: string, ev: OnEvent) =>
  siteJob((ch) => commands.siteSetDashboardUpdates(domain, on, ticket, ch), ev);
export const repairSite = (domain: string, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteRepair(domain, ticket, ch), on);
export const setupServer = (name: string, php: string, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.serverSetup(name, php, ticket, ch), on);
export const issueCertificate = (
  domain: string,
  acmeUrl: string,
  acmeCa: string,
  email: string,
  ticket: string,
  on: OnEvent,
) => siteJob((ch) => commands.sslIssue(domain, { acmeUrl, acmeCa, staging: false, email }, ticket, ch), on);
