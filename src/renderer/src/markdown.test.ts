// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

// What a lab's Markdown can put on the page: its text, formatting and its own diagrams, never
// its HTML. Run in jsdom, so that DOMPurify sanitises as it does in the page.

describe('lab Markdown', () => {
  it('renders headings, code and lists', () => {
    const { html, htmlLeftOut } = renderMarkdown('# Lab 02\n\nCall `MapTransfer`:\n\n- once per piece\n\n```ts\nconst x = 1;\n```\n');
    expect(html).toContain('<h1>Lab 02</h1>');
    expect(html).toContain('<code>MapTransfer</code>');
    expect(html).toContain('<li>once per piece</li>');
    expect(html).toContain('<pre><code class="language-ts">');
    expect(htmlLeftOut).toBe(0);
  });

  it('shows raw HTML as text, and counts it, so that a script in a lab never runs', () => {
    const { html, htmlLeftOut } = renderMarkdown('Read this.\n\n<script>alert(1)</script>\n\nAnd <img src=x onerror="alert(2)"> this.');
    expect(html).not.toMatch(/<script|<img/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(htmlLeftOut).toBe(2);
  });

  it('keeps only http(s) and in-page links', () => {
    const { html } = renderMarkdown('[docs](https://learn.microsoft.com/) [bad](javascript:alert(1)) [file](file:///etc/passwd) [here](#top)');
    expect(html).toContain('href="https://learn.microsoft.com/"');
    expect(html).toContain('href="#top"');
    // A refused link stays as its text, with no href.
    expect(html).not.toMatch(/href="(javascript|file):/);
    expect(html.match(/<a /g)).toHaveLength(2);
  });

  it('draws the lab\'s own SVG diagrams inline, cleaned, and shows any other image as its caption', () => {
    const ring = '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script><style>body { display: none }</style><rect width="4" height="4" fill="currentColor"/><a href="javascript:alert(3)"><text>x</text></a><use href="https://evil.example/x.svg#a"/><foreignObject><div>html</div></foreignObject></svg>';
    const { html } = renderMarkdown('Before.\n\n![The ring of two halves](ring.svg)\n\n![tracker](https://evil.example/pixel.png) ![gone](missing.svg)', { 'ring.svg': ring });
    const page = document.createElement('div');
    page.innerHTML = html;
    const svg = page.querySelector('.diagram svg')!;
    expect(svg).not.toBeNull();
    expect(page.querySelector('.diagram')!.getAttribute('aria-label')).toBe('The ring of two halves');
    expect(svg.querySelector('rect')!.getAttribute('fill')).toBe('currentColor');
    // Nothing that runs, restyles the page, embeds HTML or fetches.
    expect(html).not.toMatch(/<script|onload|<style|foreignObject|<use|javascript:|<img|evil\.example/i);
    const captions = [...page.querySelectorAll('.missing-image')].map((e) => e.textContent);
    expect(captions).toEqual(['[tracker]', '[gone]']);
  });
});
