import { createPublicKey, verify } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp, type TestUser, uploadAs } from "../../test/factories.js";
import { startTestApp, type TestApp } from "../../test/test-app.js";

interface Jwks {
  keys: Array<{ kid: string; kty: string; alg: string; crv?: string; x?: string }>;
}

const decodePart = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

/** Verifies a JWT's signature with node:crypto alone against a published JWKS (no JWT library). */
function signatureValid(token: string, jwks: Jwks): boolean {
  const [header = "", payload = "", signature = ""] = token.split(".");
  const jwk = jwks.keys.find((k) => k.kid === decodePart(header).kid);
  if (!jwk) return false;
  const key = createPublicKey({ key: jwk, format: "jwk" });
  return verify(null, Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, "base64url"));
}

async function mintJwt(base: string, auth: Record<string, string>): Promise<string> {
  const res = await fetch(`${base}/api/auth/token`, { headers: auth });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

const patchTitle = (base: string, id: string, authorization: string, title: string) =>
  fetch(`${base}/api/videos/${id}`, {
    method: "PATCH",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify({ title }),
  });

describe("short-lived JWTs with a JWKS endpoint", () => {
  let s: TestApp;
  let user: TestUser;
  let other: TestUser;
  beforeAll(async () => {
    s = await startTestApp({ env: { REELKIT_JWT_TTL: "2m" } });
    user = await signUp(s.base);
    other = await signUp(s.base);
  }, 180_000);
  afterAll(() => s?.close());

  it("signs a JWT for the session, verifiable by anyone with the published JWKS", async () => {
    const token = await mintJwt(s.base, user.bearer);
    const [header = "", payload = ""] = token.split(".");
    expect(decodePart(header)).toMatchObject({ alg: "EdDSA", kid: expect.any(String) });
    const claims = decodePart(payload);
    expect(claims).toMatchObject({ sub: user.id, iss: "reelkit", aud: "reelkit", email: user.email, role: "admin" });
    expect(claims.sid).toEqual(expect.any(String));
    expect(claims.exp - claims.iat).toBe(120);

    const jwks = (await (await fetch(`${s.base}/api/auth/jwks`)).json()) as Jwks;
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: decodePart(header).kid, kty: "OKP", crv: "Ed25519" })]);
    expect(JSON.stringify(jwks)).not.toMatch(/"d"\s*:/);
    expect(signatureValid(token, jwks)).toBe(true);

    // The signing key is kept (encrypted) in the auth_jwks table: the next token uses it too.
    expect(await s.prisma.jwks.count()).toBe(1);
    expect(decodePart((await mintJwt(s.base, user.headers)).split(".")[0] as string).kid).toBe(decodePart(header).kid);
  });

  it("accepts `Authorization: Bearer <jwt>` on the API", async () => {
    const token = await mintJwt(s.base, user.bearer);
    const id = await uploadAs(s.base, { authorization: `Bearer ${token}` }, { title: "by JWT" });
    const video = (await (await fetch(`${s.base}/api/videos/${id}`)).json()) as { ownerId: string };
    expect(video.ownerId).toBe(user.id);
    expect((await patchTitle(s.base, id, `Bearer ${token}`, "renamed by JWT")).status).toBe(200);
    // Another user's JWT is that user: not the owner.
    expect((await patchTitle(s.base, id, `Bearer ${await mintJwt(s.base, other.bearer)}`, "x")).status).toBe(403);
  });

  it("refuses a tampered, an expired or a foreign JWT", async () => {
    const id = await uploadAs(s.base, user.bearer);
    const token = await mintJwt(s.base, other.bearer);
    const [header, payload, signature = ""] = token.split(".");
    const claims = decodePart(payload as string);

    // `other` claims to be `user`: the signature no longer matches.
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: user.id })).toString("base64url");
    const swapped = `${header}.${forgedPayload}.${signature}`;
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith("AA") ? "BA" : "AA"}`;
    // Properly signed with the server's own key, but expired a minute ago.
    const now = Math.floor(Date.now() / 1000);
    const headers = new Headers({ host: new URL(s.base).host });
    const { token: expired } = await s.auth.betterAuth.api.signJWT({
      body: { payload: { sub: user.id, sid: claims.sid, iat: now - 180, exp: now - 60 } },
      headers,
    });
    // Signed by the same key for another audience.
    const { token: foreign } = await s.auth.betterAuth.api.signJWT({
      body: { payload: { sub: user.id, sid: claims.sid, aud: "someone-else" } },
      headers,
    });
    for (const bad of [swapped, flipped, expired, foreign, `${header}.${forgedPayload}.`]) {
      const res = await patchTitle(s.base, id, `Bearer ${bad}`, "forged");
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("UNAUTHORIZED");
    }
    expect(((await (await fetch(`${s.base}/api/videos/${id}`)).json()) as { title: string }).title).not.toBe("forged");
  });

  it("hands out no JWT without a session", async () => {
    const res = await fetch(`${s.base}/api/auth/token`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("UNAUTHORIZED");
  });

  it("sign-out revokes the session: its token and its JWTs stop working here", async () => {
    const signedIn = await signUp(s.base);
    const id = await uploadAs(s.base, signedIn.bearer);
    const jwt = await mintJwt(s.base, signedIn.bearer);
    expect((await patchTitle(s.base, id, `Bearer ${jwt}`, "before")).status).toBe(200);

    const out = await fetch(`${s.base}/api/auth/sign-out`, {
      method: "POST",
      headers: { ...signedIn.headers, "content-type": "application/json" },
      body: "{}",
    });
    expect(out.status).toBe(200);

    const session = await fetch(`${s.base}/api/auth/get-session`, { headers: signedIn.bearer });
    expect(await session.json()).toBeNull();
    expect((await patchTitle(s.base, id, `Bearer ${signedIn.token}`, "after")).status).toBe(401);
    expect((await patchTitle(s.base, id, `Bearer ${jwt}`, "after")).status).toBe(401);
    expect((await fetch(`${s.base}/api/auth/token`, { headers: signedIn.bearer })).status).toBe(401);
    // Elsewhere a JWT is only as revocable as its lifetime: it still verifies against the JWKS.
    const jwks = (await (await fetch(`${s.base}/api/auth/jwks`)).json()) as Jwks;
    expect(signatureValid(jwt, jwks)).toBe(true);
  });
});
