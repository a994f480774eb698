/**
 * The chat platforms of the crash matrix: the fake Telegram Bot API and the fake Slack from
 * test/fakes, each behind a {@link FaultProxy}, so every reply the daemon delivers is recorded
 * at the platform (a reply sent twice shows there) and a send can be stopped before or after
 * the platform took it.
 */
import { startFakeTelegram, type FakeTelegram } from '../test/fakes/telegram-server.js';
import { FakeSlack } from '../test/fakes/slack-server.js';
import { FaultProxy } from './fault-proxy.js';

export interface Platform {
  readonly name: 'telegram' | 'slack';
  readonly proxy: FaultProxy;
  /** The `channels:` block of config.yaml and the `.env` lines it refers to. */
  readonly configYaml: string;
  readonly dotenv: string;
  /** A fresh chat id for trial `k` (each trial counts its own chat). */
  chat(k: number): string;
  /** Whether a request through the proxy is a send of a reply. */
  isSend(path: string): boolean;
  /** The texts delivered to `chat` so far, in order. */
  delivered(chat: string): string[];
  close(): Promise<void>;
}

export async function telegramPlatform(): Promise<Platform> {
  const fake: FakeTelegram = await startFakeTelegram();
  const proxy = await FaultProxy.start(fake.apiRoot);
  return {
    name: 'telegram',
    proxy,
    // perChatIntervalMs 0: no spacing between replies of one chat (speed only; same path).
    configYaml: `channels:\n  telegram: { token: env:TELEGRAM_BOT_TOKEN, apiRoot: "${proxy.origin}", perChatIntervalMs: 0 }\n`,
    dotenv: `TELEGRAM_BOT_TOKEN=${fake.token}\n`,
    chat: (k) => `tg:${7000 + k}`,
    isSend: (path) => path.endsWith('/sendMessage'),
    delivered: (chat) =>
      fake.sent
        .filter((s) => `tg:${s.chatId}` === chat && s.method === 'sendMessage')
        .map((s) => s.visible ?? s.text ?? ''),
    close: async () => {
      await proxy.close();
      await fake.close();
    },
  };
}

export async function slackPlatform(): Promise<Platform> {
  const fake = await FakeSlack.start();
  const proxy = await FaultProxy.start(new URL(fake.apiUrl).origin);
  return {
    name: 'slack',
    proxy,
    // Socket Mode: the WebSocket goes to the fake directly, the Web API through the proxy.
    configYaml: `channels:\n  slack: { botToken: env:SLACK_BOT_TOKEN, appToken: env:SLACK_APP_TOKEN, apiUrl: "${proxy.origin}/api/", perChatIntervalMs: 0 }\n`,
    dotenv: `SLACK_BOT_TOKEN=${fake.botToken}\nSLACK_APP_TOKEN=${fake.appToken}\n`,
    chat: (k) => `slack:C${9000 + k}`,
    isSend: (path) => path.endsWith('/chat.postMessage'),
    delivered: (chat) => fake.posts.filter((p) => `slack:${p.channel}` === chat).map((p) => p.text),
    close: async () => {
      await proxy.close();
      await fake.close();
    },
  };
}
