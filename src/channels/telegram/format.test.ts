import { describe, expect, it } from 'vitest';
import { parseTelegramHtml } from '../../../test/fakes/telegram-wire.js';
import { markdownToTelegramHtml as html } from './format.js';

/** The visible text Telegram would show (and fail the test if it would refuse the HTML). */
function visible(md: string): string {
  const parsed = parseTelegramHtml(html(md));
  if ('error' in parsed) throw new Error(`${parsed.error} in ${html(md)}`);
  return parsed.visible;
}

describe('Markdown → Telegram HTML', () => {
  it('converts what models write', () => {
    expect(html('**bold** and *italic* and __also bold__ and _it_')).toBe(
      '<b>bold</b> and <i>italic</i> and <b>also bold</b> and <i>it</i>',
    );
    expect(html('~~gone~~ `x < y`')).toBe('<s>gone</s> <code>x &lt; y</code>');
    expect(html('see [the docs](https://example.com/a_b?x=1&y=2)')).toBe(
      'see <a href="https://example.com/a_b?x=1&amp;y=2">the docs</a>',
    );
    expect(html('# Title\n## Sub **x**')).toBe('<b>Title</b>\n<b>Sub <b>x</b></b>');
    expect(html('- one\n* two\n  + nested\n1. first\n2) second')).toBe(
      '• one\n• two\n  • nested\n1. first\n2) second',
    );
    expect(html('> quoted **text**\n> more\nafter')).toBe(
      '<blockquote>quoted <b>text</b>\nmore</blockquote>\nafter',
    );
    expect(html('---')).toBe('———');
  });

  it('keeps code blocks verbatim, with a language class', () => {
    expect(html('```ts\nconst a = b && c < d;\n**not bold**\n```\nafter')).toBe(
      '<pre><code class="language-ts">const a = b &amp;&amp; c &lt; d;\n**not bold**</code></pre>\nafter',
    );
    expect(html('```\nplain\n```')).toBe('<pre>plain</pre>');
    // A piece cut inside a block by the outbox: the block runs to the end.
    expect(html('intro\n```py\nx = 1')).toBe(
      'intro\n<pre><code class="language-py">x = 1</code></pre>',
    );
  });

  it('renders tables as preformatted text', () => {
    expect(html('| a | b |\n|---|---|\n| 1 | 2 |\ntext')).toBe(
      '<pre>| a | b |\n|---|---|\n| 1 | 2 |</pre>\ntext',
    );
  });

  it('escapes everything else and leaves non-markup alone', () => {
    expect(html('a < b > c & d "q"')).toBe('a &lt; b &gt; c &amp; d "q"');
    expect(html('<script>alert(1)</script>')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html('snake_case_name and 2 * 3 * 4 and file_name.py')).toBe(
      'snake_case_name and 2 * 3 * 4 and file_name.py',
    );
    expect(html('\\*not italic\\* and **unclosed')).toBe('*not italic* and **unclosed');
    expect(html('[local](./file.md) and [x](javascript:alert(1))')).toBe(
      'local (./file.md) and x (javascript:alert(1))',
    );
  });

  it('nests emphasis, and keeps code inside emphasis or links as text (Telegram forbids it)', () => {
    expect(html('***both***')).toBe('<b><i>both</i></b>');
    expect(html('*italic **bold** more*')).toBe('<i>italic <b>bold</b> more</i>');
    expect(html('**run `npm i`**')).toBe('<b>run npm i</b>');
    expect(html('[`code` link](https://x.io)')).toBe('<a href="https://x.io">code link</a>');
  });

  it('always produces HTML Telegram accepts, never longer than the input', () => {
    const samples = [
      '**a *b** c*',
      '*a **b* c**',
      '`unclosed and **bold**',
      '[a](https://x.io/(y)) [b](https://x.io) [[c]](d)',
      '> **q\n> still q**',
      '_a __b_ c__',
      '~~**x~~**',
      '| a |\n| b |\n```\n| c |',
      '![img](https://x.io/i.png) and ![bad](nope)',
      '### \n#',
      'x'.repeat(4096),
      '&amp; literally',
      '**' + '<&>'.repeat(1000) + '**',
    ];
    for (const md of samples) {
      const v = visible(md);
      expect(v.length).toBeLessThanOrEqual(md.length);
    }
  });
});
