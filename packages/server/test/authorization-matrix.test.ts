import type { LocalStorage } from "@reelkit/core";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "../src/auth/api-keys.js";
import type { Catalog } from "../src/catalog/catalog.js";
import type { TestDatabase } from "../src/db/test-databases.js";
import { MediaSigner } from "../src/media/media-signing.js";
import { TEST_SECRET } from "./auth.js";
import { createApiKey, makeReadyVideo, mintUploadToken, signUp, type TestUser, tusCreate } from "./factories.js";
import { startTestApp } from "./test-app.js";

type Caller =
  | "anonymous"
  | "owner"
  | "other user"
  | "admin"
  | "owner's API key"
  | "upload token"
  | "expired upload token"
  | "revoked API key"
  | "owner's JWT";

type Action =
  | "create upload"
  | "HEAD owner's upload"
  | "PATCH owner's upload"
  | "DELETE owner's upload"
  | "HEAD token's upload"
  | "PATCH token's upload"
  | "DELETE token's upload"
  | "HEAD owner's upload behind another id"
  | "PATCH owner's upload behind another id"
  | "DELETE owner's upload behind another id"
  | "edit video"
  | "delete video"
  | "list"
  | "search"
  | "get public"
  | "get unlisted"
  | "get private"
  | "private segment, valid signature"
  | "private segment, expired signature"
  | "private segment, tampered signature"
  | "create API key"
  | "list API keys"
  | "revoke owner's API key"
  | "mint upload token";

const CALLERS: Caller[] = [
  "anonymous",
  "owner",
  "other user",
  "admin",
  "owner's API key",
  "upload token",
  "expired upload token",
  "revoked API key",
  "owner's JWT",
];

// One row per action, one column per caller, in CALLERS order.
const EXPECTED: Record<Action, number[]> = {
  //                                     anon owner other admin key  token expired revoked jwt
  "create upload": [401, 201, 201, 201, 201, 201, 401, 401, 201],
  "HEAD owner's upload": [401, 200, 403, 403, 200, 403, 401, 401, 200],
  "PATCH owner's upload": [401, 204, 403, 403, 204, 403, 401, 401, 204],
  "DELETE owner's upload": [401, 204, 403, 403, 204, 403, 401, 401, 204],
  "HEAD token's upload": [401, 403, 403, 403, 403, 200, 401, 401, 403],
  "PATCH token's upload": [401, 403, 403, 403, 403, 204, 401, 401, 403],
  "DELETE token's upload": [401, 403, 403, 403, 403, 204, 401, 401, 403],
  // `/api/uploads/<caller's own>?/<owner's>`: a URL naming two uploads is refused before anything else.
  "HEAD owner's upload behind another id": [400, 400, 400, 400, 400, 400, 400, 400, 400],
  "PATCH owner's upload behind another id": [400, 400, 400, 400, 400, 400, 400, 400, 400],
  "DELETE owner's upload behind another id": [400, 400, 400, 400, 400, 400, 400, 400, 400],
  "edit video": [401, 200, 403, 200, 200, 403, 401, 401, 200],
  "delete video": [401, 204, 403, 204, 204, 403, 401, 401, 204],
  list: [200, 200, 200, 200, 200, 200, 200, 200, 200],
  search: [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "get public": [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "get unlisted": [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "get private": [404, 200, 404, 200, 200, 404, 404, 404, 200],
  // A signed URL is a capability of its own: whoever holds a valid one plays, nobody else does.
  "private segment, valid signature": [200, 200, 200, 200, 200, 200, 200, 200, 200],
  "private segment, expired signature": [403, 403, 403, 403, 403, 403, 403, 403, 403],
  "private segment, tampered signature": [403, 403, 403, 403, 403, 403, 403, 403, 403],
  // A key outlives what mints it: only a session creates one (not a 15-minute JWT, not a key);
  // a JWT may list and revoke (it acts for its session), a key never manages keys.
  "create API key": [401, 201, 201, 201, 403, 403, 401, 401, 403],
  "list API keys": [401, 200, 200, 200, 403, 403, 401, 401, 200],
  "revoke owner's API key": [401, 204, 404, 404, 403, 403, 401, 401, 204],
  "mint upload token": [401, 403, 403, 403, 201, 403, 401, 401, 403],
};

let tdb: TestDatabase;
let app: FastifyInstance;
let base: string;
let storage: LocalStorage;
let catalog: Catalog;
let admin: TestUser;
let owner: TestUser;
let other: TestUser;
let ownerKey: string;
let revokedKey: string;
let ownerJwt: string;
let pub: string;
let unlisted: string;
let priv: string;
const SEGMENT = "hls/180p/seg-00001.m4s";
const WORD = "quokka";

beforeAll(async () => {
  ({ tdb, app, base, storage, catalog } = await startTestApp({
    // Every cell creates uploads: neither the per-user cap nor the rate limit is under test here.
    env: { REELKIT_MAX_UNFINISHED_UPLOADS: "100000", REELKIT_UPLOAD_RATE_LIMIT: "100000/1m" },
  }));
  admin = await signUp(base);
  owner = await signUp(base);
  other = await signUp(base);
  ownerKey = (await createApiKey(base, owner, "matrix")).key;
  const doomed = await createApiKey(base, owner, "revoked");
  revokedKey = doomed.key;
  const revoke = await fetch(`${base}/api/api-keys/${doomed.id}`, { method: "DELETE", headers: owner.bearer });
  expect(revoke.status).toBe(204);
  const jwt = await fetch(`${base}/api/auth/token`, { headers: owner.bearer });
  expect(jwt.status).toBe(200);
  ownerJwt = ((await jwt.json()) as { token: string }).token;
  const video = (title: string, visibility: "PUBLIC" | "UNLISTED" | "PRIVATE") =>
    makeReadyVideo(catalog, { title: `${WORD} ${title}`, ownerId: owner.id, visibility });
  pub = await video("public", "PUBLIC");
  unlisted = await video("unlisted", "UNLISTED");
  priv = await video("private", "PRIVATE");
  await storage.put(`videos/${priv}/${SEGMENT}`, Buffer.from("segment"));
}, 180_000);

afterAll(async () => {
  await app?.close();
  await tdb?.dispose();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A fresh upload token of the owner's API key; `expired`: then pushed past its expiry. */
async function freshToken(expired = false): Promise<string> {
  const { token } = await mintUploadToken(base, ownerKey);
  if (expired) await expire(token);
  return token;
}

/** Moves a token's expiry into the past (waiting for a real expiry would only make the test slow). */
async function expire(token: string): Promise<void> {
  const { count } = await tdb.db.prisma.uploadToken.updateMany({
    where: { hash: sha256(token) },
    data: { expiresAt: new Date(Date.now() - 1000) },
  });
  expect(count).toBe(1);
}

/** The credentials of a caller for one cell (upload tokens are one per upload, so fresh). */
async function credentials(caller: Caller): Promise<Record<string, string>> {
  switch (caller) {
    case "anonymous":
      return {};
    case "owner":
      return owner.bearer;
    case "other user":
      return other.bearer;
    case "admin":
      return admin.bearer;
    case "owner's API key":
      return bearer(ownerKey);
    case "upload token":
      return bearer(await freshToken());
    case "expired upload token":
      return bearer(await freshToken(true));
    case "revoked API key":
      return bearer(revokedKey);
    case "owner's JWT":
      return bearer(ownerJwt);
  }
}

const UPLOAD_LENGTH = 8;

/** An unfinished upload (4 of 8 bytes) made with `auth`; returns its URL. */
async function upload(auth: Record<string, string>): Promise<string> {
  const res = await tusCreate(base, { auth, metadata: { filename: "a.mp4" }, length: UPLOAD_LENGTH, body: "half" });
  expect(res.status).toBe(201);
  return new URL(res.headers.get("location") as string, base).toString();
}

function tusRequest(method: "HEAD" | "PATCH" | "DELETE", url: string, auth: Record<string, string>) {
  const headers: Record<string, string> = { "Tus-Resumable": "1.0.0", ...auth };
  if (method !== "PATCH") return fetch(url, { method, headers });
  return fetch(url, {
    method,
    headers: { ...headers, "Upload-Offset": "4", "Content-Type": "application/offset+octet-stream" },
    body: "rest",
  });
}

/** The token that created an upload in a "token's upload" cell (the caller's token is another one). */
async function tokenUpload(): Promise<{ url: string; token: string }> {
  const token = await freshToken();
  return { url: await upload(bearer(token)), token };
}

const ids = async (res: Response) => ((await res.json()) as { items: { id: string }[] }).items.map((v) => v.id);

async function perform(action: Action, caller: Caller): Promise<number> {
  const tusMethod = action.split(" ")[0] as "HEAD" | "PATCH" | "DELETE";
  switch (action) {
    case "create upload": {
      const res = await tusCreate(base, {
        auth: await credentials(caller),
        metadata: { filename: "a.mp4" },
        length: 4,
      });
      return res.status;
    }
    case "HEAD owner's upload":
    case "PATCH owner's upload":
    case "DELETE owner's upload": {
      const url = await upload(owner.bearer);
      return (await tusRequest(tusMethod, url, await credentials(caller))).status;
    }
    case "HEAD token's upload":
    case "PATCH token's upload":
    case "DELETE token's upload": {
      const created = await tokenUpload();
      // The "upload token" caller is the very token that created it; every other caller is itself.
      const auth =
        caller === "upload token" || caller === "expired upload token"
          ? bearer(created.token)
          : await credentials(caller);
      if (caller === "expired upload token") {
        // The token that created the upload, expired since: it continues nothing.
        await expire(created.token);
        return (await tusRequest(tusMethod, created.url, bearer(created.token))).status;
      }
      return (await tusRequest(tusMethod, created.url, auth)).status;
    }
    case "HEAD owner's upload behind another id":
    case "PATCH owner's upload behind another id":
    case "DELETE owner's upload behind another id": {
      const victim = await upload(owner.bearer);
      const auth = await credentials(caller);
      // The caller's own upload where it may make one, else an id of nothing.
      const own = await tusCreate(base, { auth, length: UPLOAD_LENGTH, body: "half" });
      const ownId = own.status === 201 ? (own.headers.get("reelkit-video-id") as string) : "no-such-upload";
      const status = (await tusRequest(tusMethod, `${base}/api/uploads/${ownId}?/${victim.split("/").pop()}`, auth))
        .status;
      // The owner's upload is as it was: 4 of 8 bytes.
      const head = await tusRequest("HEAD", victim, owner.bearer);
      expect(head.headers.get("upload-offset"), `${action} as ${caller}`).toBe("4");
      return status;
    }
    case "edit video": {
      const id = await makeReadyVideo(catalog, { title: "editable", ownerId: owner.id });
      const res = await fetch(`${base}/api/videos/${id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...(await credentials(caller)) },
        body: JSON.stringify({ title: "edited" }),
      });
      return res.status;
    }
    case "delete video": {
      const id = await makeReadyVideo(catalog, { title: "deletable", ownerId: owner.id });
      return (await fetch(`${base}/api/videos/${id}`, { method: "DELETE", headers: await credentials(caller) })).status;
    }
    case "list":
    case "search": {
      const url = action === "list" ? `${base}/api/videos?limit=100` : `${base}/api/videos?q=${WORD}`;
      const res = await fetch(url, { headers: await credentials(caller) });
      if (res.status !== 200) return res.status;
      const listed = await ids(res);
      // Whoever asks, lists and search hold PUBLIC videos only.
      expect(listed, `${action} as ${caller}`).toContain(pub);
      expect(listed, `${action} as ${caller}`).not.toContain(unlisted);
      expect(listed, `${action} as ${caller}`).not.toContain(priv);
      return res.status;
    }
    case "get public":
    case "get unlisted":
    case "get private": {
      const id = { "get public": pub, "get unlisted": unlisted, "get private": priv }[action];
      return (await fetch(`${base}/api/videos/${id}`, { headers: await credentials(caller) })).status;
    }
    case "private segment, valid signature":
    case "private segment, expired signature":
    case "private segment, tampered signature": {
      const now = action.includes("expired") ? () => Date.now() - 7_200_000 : Date.now;
      let token = new MediaSigner(TEST_SECRET, 3600, now).token(priv);
      if (action.includes("tampered")) token = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
      const res = await fetch(`${base}/media/s/${token}/videos/${priv}/${SEGMENT}`, {
        headers: await credentials(caller),
      });
      return res.status;
    }
    case "create API key":
    case "list API keys":
    case "revoke owner's API key":
    case "mint upload token": {
      const auth = await credentials(caller);
      const res =
        action === "list API keys"
          ? await fetch(`${base}/api/api-keys`, { headers: auth })
          : action === "revoke owner's API key"
            ? await fetch(`${base}/api/api-keys/${(await createApiKey(base, owner, "to revoke")).id}`, {
                method: "DELETE",
                headers: auth,
              })
            : await fetch(`${base}/api/${action === "create API key" ? "api-keys" : "upload-tokens"}`, {
                method: "POST",
                headers: { "content-type": "application/json", ...auth },
                body: JSON.stringify(action === "create API key" ? { name: "from the matrix" } : {}),
              });
      // Refusals of key management name why; a session is what is missing.
      if (res.status === 403 && action !== "mint upload token") {
        expect((await res.json()).error.code, `${action} as ${caller}`).toBe("SESSION_REQUIRED");
      }
      return res.status;
    }
  }
}

describe("authorization matrix", () => {
  it("gives every caller the expected status for every action", async () => {
    const actual: Record<string, number[]> = {};
    for (const action of Object.keys(EXPECTED) as Action[]) {
      actual[action] = [];
      for (const caller of CALLERS) actual[action].push(await perform(action, caller));
    }
    // One comparison of the whole table: a failure shows every cell that differs.
    expect(actual).toEqual(EXPECTED);
  }, 300_000);
});
