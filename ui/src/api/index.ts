// The only module the UI imports for the backend: typed calls generated
// from the Rust commands (bindings.ts), with failures as one error class
// keyed by chom-core's stable error codes.
import { Channel } from "@tauri-apps/api/core";
import {
  commands,
  events,
  type AgentKeyView,
  type AuditEntry_Serialize,
  type FleetColumn,
  type FleetPage_Serialize,
  type FleetQuery_Deserialize,
  type BackupRecord_Serialize,
  type HostKeyCheck_Serialize,
  type ImportPlan_Serialize,
  type ImportSource,
  type JobEvent_Deserialize,
  type JobRecord_Serialize,
  type KeyView,
  type LogLine_Serialize,
  type PickKind,
  type ProbeReport_Serialize,
  type Reconciled,
  type RunReport_Serialize,
  type ServerDetail_Serialize,
  type ServerEdit,
  type ServerInput,
  type ServerView_Serialize,
  type ReleaseRequest,
  type RotateReport_Serialize,
  type RotationRow_Serialize,
  type RestoreParts,
  type RestoreTarget_Deserialize,
  type RetentionPlan_Serialize,
  type Retention_Deserialize,
  type ScheduleInput_Deserialize,
  type ScheduleView_Serialize,
  type SiteBackups_Serialize,
  type SiteDefaults,
  type SiteKind,
  type SiteRequest,
  type SiteDetail_Serialize,
  type SiteView_Serialize,
  type SslStatus_Serialize,
  type UiError,
} from "./bindings";
import { remedyText } from "../lib/remedy";

// chom-core's own views, as `chom --json` prints them (bindings also
// describe the inbound shapes, with optional fields).
export type { AgentKeyView, FleetColumn, ImportSource, KeyView, PickKind, Reconciled, ReleaseRequest, RestoreParts, ServerEdit, ServerInput, SiteDefaults, SiteKind, SiteRequest };

/** A form field as the core takes it: trimmed, and null when left empty. */
export const given = (v: string): string | null => v.trim() || null;
export type AuditEntry = AuditEntry_Serialize;
export type FleetPage = FleetPage_Serialize;
export type FleetQuery = Required<FleetQuery_Deserialize>;
export type BackupRecord = BackupRecord_Serialize;
export type HostKeyCheck = HostKeyCheck_Serialize;
export type ImportPlan = ImportPlan_Serialize;
export type JobEvent = JobEvent_Deserialize;
export type JobRecord = JobRecord_Serialize;
export type LogLine = LogLine_Serialize;
export type ProbeReport = ProbeReport_Serialize;
export type RunReport = RunReport_Serialize;
export type ServerDetail = ServerDetail_Serialize;
export type ServerView = ServerView_Serialize;
export type SiteDetail = SiteDetail_Serialize;
export type SiteView = SiteView_Serialize;
export type SiteBackups = SiteBackups_Serialize;
export type ScheduleView = ScheduleView_Serialize;
export type RetentionPlan = RetentionPlan_Serialize;
export type SslStatus = SslStatus_Serialize;
export type RotateReport = RotateReport_Serialize;
export type RotationRow = RotationRow_Serialize;
/** A probe's or a run's report: one outcome per server. */
export type FleetReport = ProbeReport | RunReport;
/** App-wide events: a job started or ended; jobs reconciled at launch. */
export { events };

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

export const fleetPage = async (query: FleetQuery) => unwrap(await commands.fleetPage(query));
export const fleetNames = async (query: FleetQuery) => unwrap(await commands.fleetNames(query));
/** Every server's name, by name (the choices of a server or jump host). */
export const serverNames = () => fleetNames(everyServer());
/** The query for the whole inventory, by name, from the cache as last read. */
export const everyServer = (): FleetQuery => ({
  search: "", tag: null, group: null, status: null, sort: "name", descending: false, offset: 0, limit: 0, reload: false,
});
export const serverDetail = async (name: string) => unwrap(await commands.serverDetail(name));
export const addServer = async (input: ServerInput) => unwrap(await commands.serverAdd(input));
export const editServer = async (name: string, edit: ServerEdit) => unwrap(await commands.serverEdit(name, edit));
export const removeServer = async (name: string) => unwrap(await commands.serverRemove(name));
export const resumeServer = async (name: string) => unwrap(await commands.serverResume(name));

export const listKeys = async () => unwrap(await commands.keyList());
export const generateKey = async (name: string) => unwrap(await commands.keyGenerate(name));
export const importKey = async (name: string, pem: string, passphrase: string) =>
  unwrap(await commands.keyImport(name, pem, passphrase));
export const deleteKey = async (name: string) => unwrap(await commands.keyDelete(name));
/** The keys the operator's ssh-agent holds. */
export const agentKeys = async () => unwrap(await commands.keyAgentList());
export const addAgentKey = async (name: string, fingerprint: string) => unwrap(await commands.keyAddAgent(name, fingerprint));

export const checkHostKey = async (name: string) => unwrap(await commands.hostKeyCheck(name));
export const acceptHostKey = async (name: string, fingerprint: string) =>
  unwrap(await commands.hostKeyAccept(name, fingerprint));

/** ssh-copy-id: installs the server's key over a one-time password login. */
export const installKeyWithPassword = async (name: string, password: string) =>
  unwrap(await commands.serverInstallKey(name, password));

/** The OS's file chooser, opened near `current`; null when the operator closed it. */
/** What importing `source` from `path` (empty: its default file) would
 * do; with `dryRun` false it is done, in one transaction. */
export const importPlan = async (source: ImportSource, path: string, dryRun: boolean) =>
  unwrap(await commands.importPlan(source, given(path), dryRun));
export const pickPath = async (kind: PickKind, current: string) => unwrap(await commands.pickPath(kind, current));

export const listJobs = async (limit = 100) => unwrap(await commands.jobList(limit));
/** Job `id`'s log after line `after` (0: the start); `grep` filters. */
export const jobLog = async (id: number, after = 0, grep: string | null = null, limit = 5000) =>
  unwrap(await commands.jobLog(id, after, grep, limit));
export const reconcileJobs = async () => unwrap(await commands.jobReconcile());
/** Runs interrupted deploy or setup `id` again. */
export const resumeJob = (id: number, ticket: string, on: (e: JobEvent) => void) =>
  siteJob((ch) => commands.jobResume(id, ticket, ch), on);
export const jobFailedServers = async (id: number) => unwrap(await commands.jobFailedServers(id));
export const listAudit = async (action: string | null, server: string | null, limit = 200) =>
  unwrap(await commands.auditList(action, server, limit));

/** A job in flight: its progress events and a way to cancel it. */
export interface JobHandle<R extends FleetReport = FleetReport> {
  ticket: string;
  done: Promise<R>;
  cancel: () => Promise<void>;
}

function startJob<R extends FleetReport>(
  call: (ticket: string, channel: Channel<JobEvent>) => Promise<Result<R>>,
  onEvent: (e: JobEvent) => void,
): JobHandle<R> {
  const ticket = crypto.randomUUID();
  const channel = new Channel<JobEvent>();
  channel.onmessage = onEvent;
  return {
    ticket,
    done: call(ticket, channel).then(unwrap),
    cancel: () => cancelJob(ticket),
  };
}

/** Probes the named servers, or all of them when `names` is empty. */
export const probe = (names: string[], onEvent: (e: JobEvent) => void) =>
  startJob((t, ch) => commands.fleetProbe(names, t, ch), onEvent);

export const run = (names: string[], command: string, onEvent: (e: JobEvent) => void) =>
  startJob((t, ch) => commands.fleetRun(names, command, t, ch), onEvent);

/** What a new site gets when the operator does not say (decided in the core). */
export const siteDefaults = () => commands.siteDefaults();
export const listSites = async () => unwrap(await commands.siteList());
export const siteDetail = async (domain: string) => unwrap(await commands.siteDetail(domain));
export const siteReleases = async (domain: string) => unwrap(await commands.siteReleases(domain));
export const sslStatus = async (domain: string | null) => unwrap(await commands.sslStatus(domain));

/** A site operation in flight: its steps and upload progress as events. */
function siteJob<T>(call: (channel: Channel<JobEvent>) => Promise<Result<T>>, onEvent: (e: JobEvent) => void) {
  const channel = new Channel<JobEvent>();
  channel.onmessage = onEvent;
  return call(channel).then(unwrap);
}

type OnEvent = (e: JobEvent) => void;
/** Cancels the job started with `ticket` (a finished job ignores it). */
export const cancelJob = async (ticket: string): Promise<void> => {
  unwrap(await commands.jobCancel(ticket));
};
export const createSite = (request: SiteRequest, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteCreate(request, ticket, ch), on);
export const deploySite = (domain: string, request: ReleaseRequest, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.siteDeploy(domain, request, ticket, ch), on);
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
/** Rotates the servers on key `oldKey` (with tag `tag`, or all) to `newKey`. */
export const rotateKey = (oldKey: string, newKey: string, tag: string | null, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.keyRotate(oldKey, newKey, tag, ticket, ch), on);
export const keyRotations = async (name: string) => unwrap(await commands.keyRotations(name));
export const setupServer = (name: string, php: string, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.serverSetup(name, php, ticket, ch), on);
/** A certificate from `acmeUrl` (a private ACME server, signed by the CA
 * in `acmeCa` when given), or from Let's Encrypt when it is empty. */
export const issueCertificate = (domain: string, acmeUrl: string, acmeCa: string, ticket: string, on: OnEvent) => {
  const acme = given(acmeUrl)
    ? { custom: { url: acmeUrl.trim(), ca_bundle: given(acmeCa) } }
    : ("lets_encrypt" as const);
  return siteJob((ch) => commands.sslIssue(domain, acme, null, ticket, ch), on);
};

/** The site's backups (every site's when `domain` is null), from the cache. */
export const listBackups = async (domain: string | null) => unwrap(await commands.backupList(domain));
export const backupSite = (domain: string, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupCreate(domain, ticket, ch), on);
/** Reads `readPercent` of the server's backup repository back (restic check). */
export const checkBackups = (server: string, readPercent: number, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupCheck(server, readPercent, ticket, ch), on);
/** Restores backup `id` into scratch copies on its server, checks them, removes them. */
export const drillBackup = (id: number, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupDrill(id, ticket, ch), on);
/** Restores backup `id` into its site (whole, or the database alone), or into
 * another site (`to`: made unless it exists); a failure changes nothing. */
export const restoreBackup = (id: number, parts: RestoreParts, to: RestoreTarget_Deserialize | null, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupRestore(id, { parts, health_path: null, health_text: null, to }, ticket, ch), on);
/** Puts one file or folder of backup `id` back beside its site's own (into `into` of shared/, or shared/restored/ID). */
export const restorePath = (id: number, path: string, into: string | null, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupRestorePath(id, { path, into }, ticket, ch), on);
/** Every site's newest good and restore-tested backup, schedule and coverage, from the cache. */
export const backupOverview = async () => unwrap(await commands.backupOverview());
/** The backup schedules in the cache, with their last runs and misses. */
export const listSchedules = async () => unwrap(await commands.backupSchedules());
/** Installs the site's schedule on its server (`input` null: removes it). */
export const scheduleBackups = (domain: string, input: ScheduleInput_Deserialize | null, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupSchedule(domain, input, ticket, ch), on);
/** What `rules` keep and remove of the site's backups (with `dryRun`, nothing is removed). */
export const planRetention = (domain: string, rules: Retention_Deserialize, dryRun: boolean, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupForget(domain, rules, dryRun, ticket, ch), on);
/** Switches the site back to what served before its last restore (again: forth). */
export const undoRestore = (domain: string, ticket: string, on: OnEvent) =>
  siteJob((ch) => commands.backupUndo(domain, ticket, ch), on);
