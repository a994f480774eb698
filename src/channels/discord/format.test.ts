import { describe, expect, it } from 'vitest';
import { toDiscordMarkdown, toPlainText } from './format.js';

describe('toDiscordMarkdown', () => {
  it('passes through what Discord renders the same way', () => {
    const md =
      '**bold**, *italic*, _also italic_, ~~gone~~, `code`\n> quoted\n1. first\n- item\n# Big\n### Small';
    expect(toDiscordMarkdown(md)).toBe(md);
  });

  it('turns Markdown strong underscores into bold (Discord would underline)', () => {
    expect(toDiscordMarkdown('call __init__ or __this__, keep snake_case_name')).toBe(
      'call **init** or **this**, keep snake_case_name',
    );
  });

  it('renders headings Discord lacks as bold lines', () => {
    expect(toDiscordMarkdown('#### Details ##\n###### *tiny* `x`')).toBe(
      '**Details**\n***tiny* `x`**',
    );
  });

  it('keeps web links masked, spells out other targets, and shows images as URLs', () => {
    expect(
      toDiscordMarkdown(
        '[docs](https://example.com/a__b "title") [file](./notes.md) [https://x.io](https://x.io) ![chart](https://x.io/c.png) https://x.io/__raw__',
      ),
    ).toBe(
      '[docs](https://example.com/a__b) file (./notes.md) https://x.io chart: https://x.io/c.png https://x.io/__raw__',
    );
  });

  it('escapes what Discord would misread: spoiler bars, subtext, deep quotes', () => {
    expect(toDiscordMarkdown('a || b\n-# not small\n>>> all of it\n>> nested')).toBe(
      'a \\|\\| b\n\\-# not small\n> all of it\n> nested',
    );
  });

  it('normalises bullets, task boxes and rules', () => {
    expect(toDiscordMarkdown('* one\n  + two\n- [ ] todo\n- [x] done\n***\n---')).toBe(
      '- one\n  - two\n- ☐ todo\n- ☑ done\n──────────\n──────────',
    );
  });

  it('never touches code: inline spans and fenced blocks (a ~~~ fence becomes ```)', () => {
    const md =
      'use `a || __b__` here\n```python\nx = a || b  # __init__\n```\n~~~\n# not a heading\n~~~';
    expect(toDiscordMarkdown(md)).toBe(
      'use `a || __b__` here\n```python\nx = a || b  # __init__\n```\n```\n# not a heading\n```',
    );
  });

  it('closes a fence left open (a reply split inside a code block) and breaks inner fences', () => {
    expect(toDiscordMarkdown('see:\n```js\nconst a = 1;')).toBe('see:\n```js\nconst a = 1;\n```');
    expect(toDiscordMarkdown('~~~md\n```\ninner\n```\n~~~')).toBe(
      '```md\n`\u200b``\ninner\n`\u200b``\n```',
    );
  });

  it('renders tables as aligned text in a code block', () => {
    const md = '| Name | Qty |\n|:-----|----:|\n| **apple** | 3 |\n| pear | 10 |\nafter';
    expect(toDiscordMarkdown(md)).toBe(
      '```\nName  | Qty\n------+----\napple | 3\npear  | 10\n```\nafter',
    );
  });

  it('turns <br> into a line break', () => {
    expect(toDiscordMarkdown('one<br>two<br/>three')).toBe('one\ntwo\nthree');
  });
});

describe('toPlainText', () => {
  it('removes markup and keeps the words, code and link targets', () => {
    const md =
      '## Plan\n**Bold**, *it*, __strong__, ~~old~~, `code`\n- [docs](https://example.com)\n```sh\nls -la\n```';
    expect(toPlainText(md)).toBe(
      'Plan\nBold, it, strong, old, code\n- docs (https://example.com)\nls -la',
    );
  });

  it('leaves lone symbols and identifiers alone', () => {
    expect(toPlainText('2 * 3 * 4 and snake_case_name and a_b')).toBe(
      '2 * 3 * 4 and snake_case_name and a_b',
    );
  });
});
