import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';

// A lab's instructions and hints are Markdown, and a lab pack may come from anywhere: raw
// HTML in them is never rendered (markdown-it with `html: false` shows it as text), what
// markdown-it makes is sanitised again (DOMPurify), and links only go to http(s) pages.

const md = new MarkdownIt({ html: false, linkify: true, typographer: true });
/** The same parser with HTML on, only to find the HTML a file holds, so that the page can say it was left out. */
const finder = new MarkdownIt({ html: true });

const SAFE_LINK = /^https?:\/\//i;
md.validateLink = (url) => SAFE_LINK.test(url.trim()) || url.startsWith('#');

/** The diagrams of the text being rendered (markdown-it's rules see only the token). */
let diagramsNow: Readonly<Record<string, string>> = {};

// An image is one of the lab's own diagrams, drawn inline so that it takes the page's colours
// (DOMPurify cleans it with the rest); anything else, a picture from the web included, is
// shown as its caption: a lab's page fetches nothing.
md.renderer.rules.image = (tokens, index) => {
  const token = tokens[index]!;
  const name = token.attrGet('src') ?? '';
  const caption = md.utils.escapeHtml(token.content);
  const svg = Object.hasOwn(diagramsNow, name) ? diagramsNow[name]! : null;
  if (svg === null) return `<span class="missing-image">[${caption || 'image'}]</span>`;
  return `<span class="diagram" role="img" aria-label="${caption}">${svg.replace(/<\?xml[^>]*>/, '')}</span>`;
};
// markdown-it refuses image addresses validateLink refuses; a diagram's is a file name.
const validateLink = md.validateLink;
md.validateLink = (url) => validateLink(url) || /^[a-z][a-z0-9-]*\.svg$/.test(url);

export interface RenderedMarkdown {
  html: string;
  /** Pieces of raw HTML in the source, shown as text rather than rendered. */
  htmlLeftOut: number;
}

function countHtml(source: string): number {
  let n = 0;
  for (const token of finder.parse(source, {})) {
    if (token.type === 'html_block') n++;
    for (const child of token.children ?? []) if (child.type === 'html_inline') n++;
  }
  return n;
}

/** Texts rendered lately (a lab visited again renders nothing), the oldest dropped first. */
const recent = new Map<string, RenderedMarkdown>();
const RECENT_MAX = 32;

/**
 * What DOMPurify keeps: HTML and SVG, without the SVG parts that reach outside the drawing
 * (style sheets would restyle the page, foreignObject embeds HTML, `use` can pull in other
 * documents). Scripts and event handlers go whatever the profile.
 */
const PURIFY = { USE_PROFILES: { html: true, svg: true, svgFilters: true }, FORBID_TAGS: ['style', 'foreignObject', 'use', 'image'] };

/** Markdown as safe HTML; `diagrams` (file name → SVG) are the lab's own, for `![caption](name.svg)`. */
export function renderMarkdown(source: string, diagrams: Readonly<Record<string, string>> = {}): RenderedMarkdown {
  const key = `${Object.keys(diagrams).sort().join('\n')}\0${source}`;
  const known = recent.get(key);
  if (known) return known;
  diagramsNow = diagrams;
  let rendered: string;
  try {
    rendered = md.render(source);
  } finally {
    diagramsNow = {};
  }
  // DOMPurify needs a DOM: in the page it always has one.
  const html = DOMPurify.isSupported ? DOMPurify.sanitize(rendered, PURIFY) : rendered;
  const result = { html, htmlLeftOut: countHtml(source) };
  recent.set(key, result);
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  return result;
}
