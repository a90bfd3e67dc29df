/** An error answered by the Reelkit API, parsed from its `{ error: { code, message } }` body. */
export class ReelkitApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(init: { status: number; code: string; message: string }) {
    super(init.message);
    this.name = "ReelkitApiError";
    this.status = init.status;
    this.code = init.code;
  }
}
