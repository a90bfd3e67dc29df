export { type AppDeps, buildApp } from "./app.js";
export { ApiError, errors } from "./http/errors.js";
