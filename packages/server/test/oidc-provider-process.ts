/**
 * A real OpenID Provider for the sign-in tests: panva's `oidc-provider` (certified OpenID
 * Connect implementation) in its own process, with its development login and consent pages.
 * Started by test/oidc-provider.ts; runs with Node's type stripping (no imports of project
 * files). Any login name signs in as the account of that name (`sub`), whose e-mail is
 * `<name>@idp.test` (verified).
 *
 * Its clock can be moved (`{ type: "clock", offsetSeconds }` over IPC): an issuer whose clock is
 * behind issues ID tokens that are already expired for everyone else. It can be taken down and
 * up again (`{ type: "availability", up }`).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ClientMetadata, Configuration } from "oidc-provider";
import Provider from "oidc-provider";

interface Events {
  type: "grant.error" | "server_error";
  error: string;
  detail?: string;
}

const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS ?? "[]") as ClientMetadata[];

let offsetMs = 0;
const realNow = Date.now.bind(Date);
// oidc-provider reads the time through Date.now (iat, exp, expiry of codes and sessions).
Date.now = () => realNow() + offsetMs;

const unavailable: http.RequestListener = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
let handler = unavailable;
// `{ type: "availability", up: false }`: answers 503 to everything, as an issuer that is down.
let up = true;
const server = http.createServer((req, res) => (up ? handler : unavailable)(req, res));
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const configuration: Configuration = {
    clients,
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), kid: "test-key", alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@idp.test`, email_verified: true, name: `IdP user ${sub}` }),
    }),
    pkce: { required: () => true },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 300,
      Grant: 600,
      Interaction: 600,
      Session: 600,
    },
  };
  const provider = new Provider(issuer, configuration);
  const report = (event: Events) => process.send?.({ type: "event", event });
  provider.on("grant.error", (_ctx, err: { error?: string; error_detail?: string }) =>
    report({ type: "grant.error", error: String(err.error), detail: err.error_detail }),
  );
  provider.on("server_error", (_ctx, err: Error) => report({ type: "server_error", error: err.message }));
  handler = provider.callback();
  process.send?.({ type: "ready", issuer });
});

process.on("message", (message: { type?: string; offsetSeconds?: number }) => {
  if (message.type === "availability") {
    up = (message as { up?: boolean }).up !== false;
    process.send?.({ type: "availability-set" });
  }
  if (message.type === "clock") {
    offsetMs = (message.offsetSeconds ?? 0) * 1000;
    process.send?.({ type: "clock-set" });
  }
});
// The test process went away: so does its provider.
process.on("disconnect", () => process.exit(0));
