/**
 * The Control UI end to end in a real browser: Debian's Chromium driven by playwright-core,
 * against a real daemon (bubblewrap sandboxes, the `command` harness, and the `claude` harness
 * on the fake Anthropic server), at the default settings but for a fake clock that lets the
 * test fire a task and run out a dead letter's retries. Screenshots of each view at phone size
 * go to a temp dir, or to docs/ui/ with CLAWPOD_UI_SCREENSHOTS=1.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { startFakeAnthropic, reply, type FakeAnthropic } from '../fakes/anthropic-server.js';
import { TEST_MODEL } from '../support/claude-world.js';
import { defaultHome, nextMessage, runEnded, startDaemon } from '../support/daemon-harness.js';
import { FakeClock, flush } from '../support/fake-clock.js';
import { hasBwrap } from '../support/host-tools.js';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
// CI installs both (.ci/run); there a missing one is a failure, not a skip.
if (process.env.CI && (!hasBrowser || !hasBwrap))
  throw new Error(`the Control UI test needs ${CHROMIUM} and bwrap (see .ci/run)`);

const root = resolve(import.meta.dirname, '../..');
const shots = process.env.CLAWPOD_UI_SCREENSHOTS
  ? join(root, 'docs/ui')
  : mkdtempSync(join(tmpdir(), 'clawpod-ui-shots-'));
const PHONE = { width: 390, height: 844 };
const SEC = 1000;

/** The main group's agent: streams in pieces, works long on request, or fails. */
const AGENT = `#!/bin/sh
p=$(cat)
case "$p" in
  *long*) printf 'Starting the long job. '; sleep 120; echo never;;
  *digest*) printf 'Digest: **3** new items.';;
  *) printf 'First piece. '; sleep 1; printf 'Second piece. '; sleep 1
     printf '**Done.** A table:\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\n\\n<img src=x onerror=alert(1)> [bad](javascript:alert(1)) [good](https://example.com)\\n\\n\`\`\`sh\\necho hi\\n\`\`\`\\n';;
esac
`;

describe.skipIf(!hasBrowser || !hasBwrap)('Control UI in Chromium', () => {
  let d: Daemon;
  let home: string;
  let owner: string;
  let base: string;
  let token: string;
  let clock: FakeClock;
  let fake: FakeAnthropic;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    fake = await startFakeAnthropic();
    fake.setScript(() =>
      reply.text('Research notes: the **fake model** answered.', {
        input_tokens: 1200,
        output_tokens: 300,
      }),
    );
    // The owner's folders and mount allowlist, apart from the data dir.
    owner = mkdtempSync(join(tmpdir(), 'clawpod-ui-owner-'));
    mkdirSync(join(owner, 'projects', 'app'), { recursive: true });
    writeFileSync(
      join(owner, 'mount-allowlist.json'),
      JSON.stringify({ allowedRoots: [{ path: join(owner, 'projects'), allowReadWrite: true }] }),
    );
    home = defaultHome(
      `runtime: bubblewrap\ndefaults: { harness: command }\nsandbox: { allowlistPath: ${JSON.stringify(join(owner, 'mount-allowlist.json'))} }\n`,
    );
    clock = new FakeClock(Date.now());
    d = await startDaemon(
      home,
      [],
      undefined,
      { ANTHROPIC_API_KEY: 'sk-ant-test-ui-key-000000000001', ANTHROPIC_BASE_URL: fake.url },
      { clock },
    );
    writeFileSync(join(home, 'groups/main/agent.sh'), AGENT);
    d.groups.update('main', { harness: 'command', command: 'sh /workspace/group/agent.sh' });
    d.groups.add({
      name: 'research',
      chats: ['web:research'],
      requiresTrigger: false,
      harness: 'claude',
      model: TEST_MODEL,
    });
    d.groups.add({
      name: 'ops',
      chats: ['web:ops'],
      requiresTrigger: false,
      harness: 'command',
      command: 'echo "upstream refused" >&2; exit 3',
    });
    base = `http://127.0.0.1:${d.port}`;
    token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    ctx = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2 });
    page = await ctx.newPage();
    // Playwright's own error (what it waited for) comes before the test's time limit.
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (err) => {
      throw err;
    });
    mkdirSync(shots, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await d?.stop();
    await fake?.close();
    if (owner) rmSync(owner, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });
  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });
    return res.json() as Promise<unknown>;
  };

  it('without a token explains how to get one and never spins', async () => {
    const p = await (await browser.newContext({ viewport: PHONE })).newPage();
    await p.goto(`${base}/`);
    await p.getByTestId('no-token').waitFor();
    expect(await p.textContent('body')).toContain('clawpod open');
    expect(await p.textContent('body')).not.toContain('connecting');
    await p.context().close();
  });

  it('opens with the token link, keeps the token out of the address bar, goes live', async () => {
    await page.goto(`${base}/#token=${encodeURIComponent(token)}`);
    await page.locator('[data-testid=link-state].link-live').waitFor();
    expect(page.url()).not.toContain(token);
    expect(page.url()).toContain('#/chat');
  });

  it('streams a reply in pieces; Enter sends, Shift+Enter makes a new line; Markdown is safe', async () => {
    // Record every text the streaming bubble showed, as the DOM changed.
    // (A string: this code runs in the page, not in Node.)
    await page.evaluate(`
      window.seen = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid=partial]');
        if (el && window.seen.at(-1) !== el.textContent) window.seen.push(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    `);
    const box = page.getByTestId('composer');
    await box.click();
    await box.pressSequentially('hello');
    await page.keyboard.press('Shift+Enter');
    await box.pressSequentially('there');
    expect(await box.inputValue()).toBe('hello\nthere');
    expect(await page.locator('[data-testid=msg-in]').count()).toBe(0);
    const answered = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:main');
    await page.keyboard.press('Enter');
    await page.getByTestId('working').waitFor();
    expect(await box.inputValue()).toBe('');
    await answered;
    const reply = page.locator('[data-testid=msg-out]').last();
    await reply.locator('table').waitFor();
    const seen = (await page.evaluate('window.seen')) as string[];
    // The reply arrived in pieces: the first piece was shown before the second existed.
    expect(seen.some((t) => t.includes('First piece') && !t.includes('Second piece'))).toBe(true);
    expect(seen.some((t) => t.includes('Second piece'))).toBe(true);
    expect(await page.locator('[data-testid=msg-in]').last().textContent()).toContain(
      'hello\nthere'.replace('\n', ''),
    );
    // Markdown: a table, a code block, a safe link; raw HTML and javascript: stay text.
    expect(await reply.locator('pre code').textContent()).toBe('echo hi');
    expect(await reply.locator('a[href="https://example.com"]').count()).toBe(1);
    expect(await page.locator('.log img').count()).toBe(0);
    expect(await page.locator('.log a[href^="javascript"]').count()).toBe(0);
    expect(await reply.textContent()).toContain('<img src=x onerror=alert(1)>');
    await page.getByTestId('working').waitFor({ state: 'detached' });
    await shot('chat');
  });

  it('stops a long run: recorded as stopped, its message consumed, not retried', async () => {
    const box = page.getByTestId('composer');
    await box.fill('run the long job');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=partial]', { hasText: 'Starting the long job' }).waitFor();
    const ended = runEnded(d);
    await page.getByTestId('stop').click();
    const run = await ended;
    expect(run).toMatchObject({ status: 'error', error: 'stopped by the owner' });
    await page.getByTestId('working').waitFor({ state: 'detached' });
    // Consumed: nothing of main's is pending, and no further run started for it.
    const status = (await api('/api/status')) as {
      groups: Array<{ name: string; pendingMessages: number }>;
    };
    expect(status.groups.find((g) => g.name === 'main')?.pendingMessages).toBe(0);
    await page.goto(`${base}/#/runs`);
    await page.locator('[data-testid=run-row][data-status=stopped]').first().waitFor();
    const runs = (await api('/api/runs?group=main')) as Array<{ id: string; status: string }>;
    expect(runs[0]!.id).toBe(run.id);
    await shot('runs');
  });

  it('streams a claude reply from the fake model and records its cost', async () => {
    await page.goto(`${base}/#/chat/web%3Aresearch`);
    const answered = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:research');
    await page.getByTestId('composer').fill('summarise the news');
    await page.keyboard.press('Enter');
    await answered;
    await page.locator('[data-testid=msg-out]', { hasText: 'Research notes' }).waitFor();
    // Switching chats quickly aborts the loads in flight, and shows no error for it.
    for (const chat of ['web%3Amain', 'web%3Aresearch', 'web%3Amain', 'web%3Aresearch'])
      await page.goto(`${base}/#/chat/${chat}`);
    await page.locator('[data-testid=msg-out]', { hasText: 'Research notes' }).waitFor();
    expect(await page.locator('[role=alert]').count()).toBe(0);
    expect(await page.locator('[data-testid=msg-out] strong').last().textContent()).toBe(
      'fake model',
    );
  });

  it('creates an every-1m task with a live preview, sees it fire and its history fill', async () => {
    await page.goto(`${base}/#/tasks/new`);
    await page.getByTestId('task-schedule').fill('1m');
    await page.getByTestId('task-prompt').fill('Compile the daily digest');
    await expect.poll(() => page.getByTestId('next-time').count()).toBe(5);
    const times = await page.getByTestId('next-time').allTextContents();
    const gaps = times
      .map((t) => Date.parse(t.replace(' ', 'T')))
      .slice(1)
      .map((t, i) => t - Date.parse(times[i]!.replace(' ', 'T')));
    expect(gaps).toEqual([60 * SEC, 60 * SEC, 60 * SEC, 60 * SEC]);
    await shot('task-new');
    await page.getByTestId('task-save').click();
    await page.getByTestId('task-run-now').waitFor();
    const fired = runEnded(d);
    await clock.advance(61 * SEC);
    expect((await fired).status).toBe('ok');
    await page.getByTestId('task-output').filter({ hasText: 'Digest: 3 new items.' }).waitFor();
    await shot('tasks');
    // Cancel it, so later fake time fires nothing more.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('h1 .badge', { hasText: 'cancelled' }).waitFor();
  });

  it("edits a group's memory file", async () => {
    await page.goto(`${base}/#/groups/main`);
    const text = page.getByTestId('memory-text');
    await text.waitFor();
    await text.fill('# Main\n\nThe owner prefers short answers.\n');
    await page.getByTestId('save-memory').click();
    await page.getByTestId('memory-saved').waitFor();
    expect(readFileSync(join(home, 'groups/main/CLAUDE.md'), 'utf8')).toBe(
      '# Main\n\nThe owner prefers short answers.\n',
    );
    await shot('groups');
  });

  it("mounts a host folder for a group, and shows the allowlist's refusal", async () => {
    await page.goto(`${base}/#/groups/main`);
    await page.getByTestId('mount-path').fill(join(owner, 'projects', 'app'));
    await page.getByTestId('mount-rw').check();
    await page.getByTestId('mount-add').click();
    await page
      .getByTestId('mount-row')
      .filter({ hasText: '/workspace/extra/app' })
      .filter({ hasText: 'read-write' })
      .waitFor();
    expect(d.store.groups.get('main')?.mounts).toEqual([
      { name: 'app', hostPath: join(owner, 'projects', 'app'), readOnly: false },
    ]);
    mkdirSync(join(owner, 'elsewhere'));
    await page.getByTestId('mount-path').fill(join(owner, 'elsewhere'));
    await page.getByTestId('mount-add').click();
    await page.getByText(/is not under any allowedRoots/).waitFor();
    await page.getByTestId('mount-row').getByRole('button', { name: 'Remove' }).click();
    await page.getByText('No host folders mounted.').waitFor();
    expect(d.store.groups.get('main')?.mounts).toEqual([]);
  });

  it('retries a dead letter from the health view', async () => {
    let ended = runEnded(d);
    await api('/api/messages', {
      method: 'POST',
      body: JSON.stringify({ chat: 'web:ops', text: 'check the upstream' }),
    });
    // Each attempt fails in the sandbox; then the queue's backoff (5 s … 40 s) passes.
    for (let attempt = 1; (await ended).status !== 'dead'; attempt++) {
      expect(attempt).toBeLessThanOrEqual(5);
      ended = runEnded(d);
      await flush();
      await clock.advance(41 * SEC);
    }
    // The upstream is fixed; the owner retries the dead letter.
    await api('/api/groups/ops', {
      method: 'PATCH',
      body: JSON.stringify({ command: 'echo "upstream is back"' }),
    });
    await page.goto(`${base}/#/health`);
    await page.getByTestId('dead-letter').first().waitFor();
    await shot('health');
    const answered = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:ops');
    await page.getByTestId('dead-retry').first().click();
    expect((await answered).text).toContain('upstream is back');
    await page.getByTestId('dead-letter').waitFor({ state: 'detached' });
  });

  it('answers an approval from the inbox: the badge counts it, "Add sender" lets the message run', async () => {
    d.groups.add({
      name: 'club',
      chats: ['web:club'],
      requiresTrigger: false,
      harness: 'command',
      command: 'echo "welcome to the club"',
      senders: { allow: ['owner'], others: 'ask' },
    });
    await page.goto(`${base}/#/chat`);
    const asked = new Promise<number>((resolve) => d.bus.once('approval', (a) => resolve(a.id)));
    await api('/api/messages', {
      method: 'POST',
      body: JSON.stringify({ chat: 'web:club', text: 'may I join?', sender: 'web:stranger' }),
    });
    const id = await asked;
    expect(await page.getByTestId('approvals-waiting').textContent()).toBe('1');
    await page.getByTestId('nav-approvals').click();
    const card = page.getByTestId(`approval-${id}`);
    await card.waitFor();
    expect(await card.textContent()).toContain('web:stranger');
    await shot('approvals');
    const answered = nextMessage(d, (m) => m.direction === 'out' && m.chatId === 'web:club');
    await page.getByTestId(`approve-always-${id}`).click();
    expect((await answered).text).toContain('welcome to the club');
    expect(d.store.groups.get('club')?.senders?.allow).toContain('web:stranger');
    await card.waitFor({ state: 'detached' });
    await page.getByTestId('approvals-waiting').waitFor({ state: 'detached' });
  });

  it('shows usage per group and day, and every view fits a phone in light and dark', async () => {
    await page.goto(`${base}/#/usage`);
    await page.locator('[data-testid=usage-table] td', { hasText: 'research' }).waitFor();
    await shot('usage');
    for (const view of ['chat', 'groups', 'tasks', 'runs', 'approvals', 'health', 'usage']) {
      await page.goto(`${base}/#/${view}`);
      await page.locator(`main.view-${view} > *`).first().waitFor();
      const width = (await page.evaluate('document.documentElement.scrollWidth')) as number;
      expect(width, `${view} overflows a 390 px screen`).toBeLessThanOrEqual(PHONE.width);
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${base}/#/chat/web%3Amain`);
    await page.locator('[data-testid=msg-out]').first().waitFor();
    await shot('chat-dark');
    await page.goto(`${base}/#/tasks`);
    await page.getByTestId('task-row').first().waitFor();
    await shot('tasks-dark');
  });
});
