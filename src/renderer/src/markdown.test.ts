import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

// What a lab's Markdown can put on the page: its text and formatting, never its HTML.

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
});
