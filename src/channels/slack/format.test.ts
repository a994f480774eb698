import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, markdownToMrkdwn, markdownToPlain } from './format.js';

describe('markdownToMrkdwn', () => {
  it('converts emphasis the way Slack writes it', () => {
    expect(markdownToMrkdwn('**bold** and *italic* and _also italic_ and ~~gone~~')).toBe(
      '*bold* and _italic_ and _also italic_ and ~gone~',
    );
    expect(markdownToMrkdwn('__bold__ ***both***')).toBe('*bold* *_both_*');
    expect(markdownToMrkdwn('a * b * c, 2*3*4')).toBe('a * b * c, 2*3*4');
  });

  it('escapes &, < and > everywhere, code included', () => {
    expect(markdownToMrkdwn('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(markdownToMrkdwn('use `a<b && **x**` here')).toBe('use `a&lt;b &amp;&amp; **x**` here');
    expect(markdownToMrkdwn('<!channel> wake up')).toBe('&lt;!channel&gt; wake up');
    expect(escapeMrkdwn('<&>')).toBe('&lt;&amp;&gt;');
  });

  it('keeps fenced code verbatim and drops the language tag', () => {
    const md = 'Here:\n```ts\nconst x = a**2 < b;\n// *not italic*\n```\ndone';
    expect(markdownToMrkdwn(md)).toBe(
      'Here:\n```\nconst x = a**2 &lt; b;\n// *not italic*\n```\ndone',
    );
  });

  it('closes a fence left open (a reply split inside a code block)', () => {
    expect(markdownToMrkdwn('```\nline 1\nline 2')).toBe('```\nline 1\nline 2\n```');
  });

  it('turns links into <url|text> and refuses unsafe schemes', () => {
    expect(markdownToMrkdwn('see [the docs](https://example.com/a?b=1&c=2) now')).toBe(
      'see <https://example.com/a?b=1&amp;c=2|the docs> now',
    );
    expect(markdownToMrkdwn('![chart](https://x.io/c.png)')).toBe('<https://x.io/c.png|chart>');
    expect(markdownToMrkdwn('<https://x.io>')).toBe('<https://x.io>');
    expect(markdownToMrkdwn('[click](javascript:alert(1))')).toBe('[click](javascript:alert(1))');
    expect(markdownToMrkdwn('[a|b](https://x.io/p|q)')).toBe('<https://x.io/p%7Cq|a¦b>');
  });

  it('keeps user and channel mentions an agent writes on purpose', () => {
    expect(markdownToMrkdwn('ping <@U123ABC> in <#C42|general>')).toBe(
      'ping <@U123ABC> in <#C42|general>',
    );
  });

  it('renders headings bold, lists with bullets, quotes and rules', () => {
    const md = [
      '# Title',
      '## Sub **bold**',
      '- one',
      '  * nested',
      '1. first',
      '2) second',
      '- [ ] todo',
      '- [x] done',
      '> quoted *text*',
      '---',
    ].join('\n');
    expect(markdownToMrkdwn(md)).toBe(
      [
        '*Title*',
        '*Sub bold*',
        '• one',
        '  • nested',
        '1. first',
        '2. second',
        '☐ todo',
        '☑ done',
        '> quoted _text_',
        '──────────',
      ].join('\n'),
    );
  });

  it('plain fallback keeps the words and only escapes', () => {
    expect(markdownToPlain('**Bold** & <tag>')).toBe('**Bold** &amp; &lt;tag&gt;');
  });
});
