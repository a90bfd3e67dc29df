/** A style sheet's text, bundled into the code (the custom element adopts it in its shadow root). */
declare module "*.css?inline" {
  const css: string;
  export default css;
}
