// The only module the UI imports for the backend: typed calls generated
// from the Rust commands (bindings.ts), with failures as one error class
// keyed by chom-core's stable error codes.
import { commands, type ServerRow_Serialize, type UiError } from "./bindings";

/** A Fleet table row as the backend sends it. */
export type ServerRow = ServerRow_Serialize;

export class ChomError extends Error {
  readonly code: string;
  constructor(e: UiError) {
    super(e.message);
    this.code = e.code;
  }
}

type Result<T> = { status: "ok"; data: T } | { status: "error"; error: UiError };

function unwrap<T>(r: Result<T>): T {
  if (r.status === "error") throw new ChomError(r.error);
  return r.data;
}

export async function listServers(): Promise<ServerRow[]> {
  return unwrap(await commands.serverList());
}
