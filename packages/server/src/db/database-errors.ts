/**
 * Whether an error says "the database cannot be reached right now" (refused or missing socket,
 * a connection the server ended, a server starting up or shutting down), as opposed to a query
 * that failed on a database that answers. The first kind is worth a retry later (503); the
 * second is a bug or bad input. Knows the forms of `pg`, `@prisma/adapter-pg` and Prisma,
 * looking through `cause` chains.
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  const errors = chain(err);
  // A bare refused TCP connection may be any service's (S3, an identity provider); inside an
  // error of the database client it is the database's.
  const fromDatabaseClient = errors.some((e) => typeof e.name === "string" && DATABASE_CLIENT_ERROR.test(e.name));
  return errors.some((e) => unreachable(e, fromDatabaseClient));
}

const DATABASE_CLIENT_ERROR = /^(PrismaClient\w*Error|DriverAdapterError)$/;

/** Connection-level network errors (Node's `code` with a `syscall`). */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * SQLSTATEs of a server that is not serving: class 08 (connection exception), 57P01–57P03
 * (administrator/crash shutdown, cannot connect now: starting up or in recovery).
 */
const UNREACHABLE_SQLSTATE = /^(08...|57P0[123])$/;

/** Prisma's codes for a server it cannot reach, one that closed the connection, a pool that timed out. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017", "P2024"]);

/** `@prisma/adapter-pg`'s kinds for the same (a `DriverAdapterError`'s `cause.kind`). */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);

const MESSAGES = [
  /\bconnect (ECONNREFUSED|ENOENT) \S*\.s\.PGSQL\.\d+/,
  /^Connection terminated( unexpectedly| due to connection timeout)?$/,
  /Client has encountered a connection error and is not queryable/,
  /terminating connection due to (administrator command|unexpected postmaster exit|crash of another server process)/,
  /the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)/,
  /Can't reach database server/,
  /Server has closed the connection/,
  /timeout exceeded when trying to connect/,
];

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  syscall?: unknown;
  address?: unknown;
  message?: unknown;
  kind?: unknown;
  cause?: unknown;
}

function unreachable(e: ErrorLike, fromDatabaseClient: boolean): boolean {
  const code = typeof e.code === "string" ? e.code : "";
  if (typeof e.syscall === "string") {
    // PostgreSQL's Unix socket refused or not there (the embedded server is down or restarting).
    const postgresSocket = String(e.address ?? "").includes(".s.PGSQL.");
    if ((code === "ENOENT" || code === "ECONNREFUSED") && postgresSocket) return true;
    if (SOCKET_CODES.has(code) && fromDatabaseClient) return true;
  }
  if (UNREACHABLE_SQLSTATE.test(code)) return true;
  if (PRISMA_CODES.has(code)) return true;
  if (typeof e.kind === "string" && ADAPTER_KINDS.has(e.kind)) return true;
  const message = typeof e.message === "string" ? e.message : "";
  return MESSAGES.some((m) => m.test(message));
}

/** The error and its causes (and an AggregateError's members), depth-limited against cycles. */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const visit = (e: unknown, depth: number) => {
    if (depth > 6 || e === null || typeof e !== "object" || out.includes(e as ErrorLike)) return;
    out.push(e as ErrorLike);
    visit((e as ErrorLike).cause, depth + 1);
    if (e instanceof AggregateError) for (const member of e.errors) visit(member, depth + 1);
  };
  visit(err, 0);
  return out;
}
