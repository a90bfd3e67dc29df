export { type AppDeps, buildApp } from "./app.js";
export { AuthService, type AuthServiceOptions } from "./auth/auth-service.js";
export type { Principal } from "./auth/principal.js";
export { resolveSecret } from "./auth/secret.js";
export { ApiError, errors } from "./http/errors.js";
export { toApiVideo } from "./http/video-mapper.js";
export { OutboxRelay, type OutboxRelayOptions } from "./outbox/outbox-relay.js";
export { createEmbeddedRuntime, type EmbeddedRuntime } from "./runtime.js";
