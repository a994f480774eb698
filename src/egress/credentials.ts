/**
 * The real model credentials, held by the daemon only. Read from the daemon's environment
 * (process env over `$CLAWPOD_HOME/.env`); the Claude OAuth token may later be replaced in
 * memory by the OAuth refresher. Nothing here is ever logged or passed into a sandbox.
 */
import type { AnthropicAuthKind } from '../protocol/runner-protocol.js';

/** How a credential goes out on the wire: the header and its full value. */
export interface WireCredential {
  header: 'x-api-key' | 'authorization';
  value: string;
}

/**
 * What the proxy does about credentials on one route: set a header, send none (a keyless
 * upstream such as a local Ollama), or refuse because the owner has not set one (`message`
 * names the variable to set).
 */
export type Injection =
  | { kind: 'set'; credential: WireCredential }
  | { kind: 'none' }
  | { kind: 'missing'; message: string };

const nonEmpty = (v: string | undefined): string | undefined => (v ? v : undefined);

/** The daemon's live view of its model credentials. */
export class ModelCredentials {
  private oauthToken: string | undefined;

  constructor(private readonly env: Readonly<Record<string, string>>) {
    this.oauthToken = nonEmpty(env.CLAUDE_CODE_OAUTH_TOKEN);
  }

  /**
   * Which Anthropic credential is in use, by precedence: `ANTHROPIC_API_KEY` (x-api-key), then
   * `CLAUDE_CODE_OAUTH_TOKEN` (subscription, Bearer), then `ANTHROPIC_AUTH_TOKEN` (Bearer, e.g.
   * a gateway). Undefined when none is set. The sandbox gets a placeholder of the same kind, so
   * the client behaves as it would with the real one (OAuth clients add their beta header).
   */
  anthropicKind(): AnthropicAuthKind | undefined {
    if (nonEmpty(this.env.ANTHROPIC_API_KEY)) return 'api-key';
    if (this.oauthToken) return 'oauth';
    if (nonEmpty(this.env.ANTHROPIC_AUTH_TOKEN)) return 'bearer';
    return undefined;
  }

  /** The Anthropic credential to inject. */
  anthropic(): Injection {
    switch (this.anthropicKind()) {
      case 'api-key':
        return set('x-api-key', this.env.ANTHROPIC_API_KEY!);
      case 'oauth':
        return set('authorization', `Bearer ${this.oauthToken!}`);
      case 'bearer':
        return set('authorization', `Bearer ${this.env.ANTHROPIC_AUTH_TOKEN!}`);
      default:
        return {
          kind: 'missing',
          message:
            'No Anthropic credential on the host: set ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN in the environment or in $CLAWPOD_HOME/.env, then restart clawpod.',
        };
    }
  }

  /** The OpenAI credential to inject (`OPENAI_API_KEY` as Bearer). */
  openai(): Injection {
    const key = nonEmpty(this.env.OPENAI_API_KEY);
    if (key) return set('authorization', `Bearer ${key}`);
    return {
      kind: 'missing',
      message:
        'No OpenAI credential on the host: set OPENAI_API_KEY in the environment or in $CLAWPOD_HOME/.env, then restart clawpod.',
    };
  }

  /** A custom upstream's credential: env variable `name` in `header` (Bearer for authorization). */
  fromEnv(name: string, header: WireCredential['header']): Injection {
    const value = nonEmpty(this.env[name]);
    if (!value) {
      return {
        kind: 'missing',
        message: `No credential for this upstream on the host: set ${name} in the environment or in $CLAWPOD_HOME/.env, then restart clawpod.`,
      };
    }
    return set(header, header === 'authorization' ? `Bearer ${value}` : value);
  }

  /** Replaces the Claude OAuth access token (called by the refresher after a refresh). */
  setOAuthToken(token: string): void {
    this.oauthToken = token;
  }
}

function set(header: WireCredential['header'], value: string): Injection {
  return { kind: 'set', credential: { header, value } };
}
