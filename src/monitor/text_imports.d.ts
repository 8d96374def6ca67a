/** Files imported as text (`with { type: "text" }`): esbuild and Deno give their contents as a string. */
declare module "*.html" {
  const text: string;
  export default text;
}
