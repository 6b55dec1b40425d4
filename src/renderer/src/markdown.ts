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

export function renderMarkdown(source: string): RenderedMarkdown {
  const known = recent.get(source);
  if (known) return known;
  const rendered = md.render(source);
  // DOMPurify needs a DOM: in the page it always has one.
  const html = DOMPurify.isSupported ? DOMPurify.sanitize(rendered, { USE_PROFILES: { html: true } }) : rendered;
  const result = { html, htmlLeftOut: countHtml(source) };
  recent.set(source, result);
  if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
  return result;
}
