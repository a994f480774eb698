import { parse as parseQuery } from 'node:querystring';
import { isValidSlackRequest, type App, type Receiver } from '@slack/bolt';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** Where Slack posts events, under the channel's mount point `/channels/slack`. */
export const EVENTS_PATH = '/events';
const MAX_BODY = 4 * 1024 * 1024;

/**
 * Slack's HTTP Events API as a route of the daemon's server (`POST /channels/slack/events`), in
 * place of Bolt's HTTPReceiver with a port of its own. Every request must carry a valid
 * X-Slack-Signature over its raw body, made with the signing secret at most 5 minutes ago; others
 * get 401. Slack's URL verification is answered with its challenge. An event is acknowledged
 * only after the app has processed it (the message is stored): a failure answers 500, and Slack
 * delivers it again.
 */
export class DaemonReceiver implements Receiver {
  private app?: App;

  constructor(
    private readonly signingSecret: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  init(app: App): void {
    this.app = app;
  }

  /** Nothing to open: the daemon's server is already listening. */
  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  routes(): Hono {
    const routes = new Hono();
    routes.post(
      EVENTS_PATH,
      bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.body(null, 413) }),
      async (c) => {
        const raw = await c.req.text();
        const signature = c.req.header('x-slack-signature');
        const timestamp = Number(c.req.header('x-slack-request-timestamp'));
        const signed =
          !!signature &&
          isValidSlackRequest({
            signingSecret: this.signingSecret,
            body: raw,
            headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
          });
        if (!signed) return c.body(null, 401);
        let body: Record<string, unknown>;
        try {
          body = parseBody(raw, c.req.header('content-type'));
        } catch {
          return c.body(null, 400);
        }
        if (body.type === 'url_verification') return c.json({ challenge: body.challenge });
        const app = this.app;
        if (!app) return c.body(null, 503);
        let acked = false;
        let response: unknown;
        const retryNum = Number(c.req.header('x-slack-retry-num'));
        try {
          await app.processEvent({
            body,
            ack: async (r?: unknown) => {
              acked = true;
              response = r;
            },
            ...(Number.isInteger(retryNum) ? { retryNum } : {}),
            retryReason: c.req.header('x-slack-retry-reason'),
          });
        } catch (err) {
          this.onError(err);
          return c.body(null, 500);
        }
        if (!acked) return c.body(null, 404);
        if (response === undefined || response === '') return c.body(null, 200);
        return typeof response === 'string' ? c.text(response) : c.json(response);
      },
    );
    return routes;
  }
}

/** A JSON body, or a form with a JSON `payload` (interactivity), as Bolt reads them. */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const form = parseQuery(raw);
    return typeof form.payload === 'string'
      ? (JSON.parse(form.payload) as Record<string, unknown>)
      : (form as Record<string, unknown>);
  }
  return JSON.parse(raw) as Record<string, unknown>;
}
