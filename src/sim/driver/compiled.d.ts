// The sandbox's `wdm` surface, compiled when the app is built (vitePlugins.ts): its JavaScript.
declare module '*?compiled' {
  const code: string;
  export default code;
}
