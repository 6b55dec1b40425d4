// Vite's `?raw` import: the file's text. The sandbox loads the `wdm` surface's source this way.
declare module '*?raw' {
  const text: string;
  export default text;
}
