// tus-js-client ships its browser build untyped; it has the same API as the package root.
declare module "tus-js-client/lib.esm/browser/index.js" {
  export * from "tus-js-client";
}
