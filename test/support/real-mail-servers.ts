/**
 * Real mail servers for the email end-to-end test: Debian's Dovecot (IMAP with IDLE, LMTP,
 * Sieve vacation, SASL for Postfix) and a private Postfix instance (inbound SMTP, submission
 * with STARTTLS and login), on loopback ports picked at start, everything under one temp dir.
 *
 * Nothing of the machine's own mail setup is touched: Dovecot runs with `-c <our config>`,
 * Postfix with its own config_directory, queue_directory and data_directory (`postfix -c`),
 * both logging into the temp dir. `stop()` ends exactly the two master processes started here
 * (by their pid files) and removes the dir. Needs root (Postfix's master, Dovecot's privilege
 * separation: its login process runs as its own `dovenull` user) and the Debian packages
 * dovecot-imapd, dovecot-lmtpd, dovecot-sieve, postfix, openssl (`.ci/run` installs them).
 */
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';

const run = promisify(execFile);

/**
 * Runs a command that starts a daemon: its output is not captured (the daemon would hold the
 * pipes open and the call would never end); resolves on exit 0.
 */
function startDaemonCommand(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

export const MAIL_DOMAIN = 'clawpod.test';
/** Test users: address → password. carol answers every mail with a Sieve vacation reply. */
export const MAIL_USERS = {
  bot: 'bot-pass',
  alice: 'alice-pass',
  bob: 'bob-pass',
  carol: 'carol-pass',
} as const;
export type MailUser = keyof typeof MAIL_USERS;
export const address = (u: MailUser) => `${u}@${MAIL_DOMAIN}`;

const BINARIES = [
  '/usr/sbin/dovecot',
  '/usr/sbin/postfix',
  '/usr/bin/openssl',
  '/usr/lib/dovecot/imap',
  '/usr/lib/dovecot/lmtp',
  '/usr/lib/dovecot/modules/lib90_sieve_plugin.so',
];

/** Why the real servers cannot run here (the test is skipped with this), or null. */
export function realMailUnavailable(): string | null {
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length)
    return `real mail servers not installed (missing ${missing.join(', ')}): apt-get install dovecot-imapd dovecot-lmtpd dovecot-sieve postfix openssl (.ci/run does)`;
  if (process.getuid?.() !== 0)
    return 'real mail servers need root (Postfix master, Dovecot privilege separation)';
  return null;
}

export interface RealMailServers {
  dir: string;
  ports: { imaps: number; smtp: number; submission: number; lmtp: number; sasl: number };
  /** The self-signed certificate both servers present (a PEM file): clawpod's `tls.ca`. */
  caFile: string;
  /** Sends a mail through Postfix's inbound port (no login), as another mail server would. */
  send(mail: {
    from: MailUser;
    to: MailUser;
    subject: string;
    text: string;
    messageId?: string;
    headers?: Record<string, string>;
  }): Promise<void>;
  /** Watches a user's INBOX over IMAP IDLE: `next()` resolves with the next mail that arrives. */
  watch(user: MailUser): Promise<MailboxWatch>;
  /** Both servers' logs, for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

export interface MailboxWatch {
  next(): Promise<ParsedMail>;
  /** Every mail in the INBOX now, oldest first. */
  all(): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a connection, or rejects after `ms`. */
async function listening(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function dovecotConf(dir: string, p: RealMailServers['ports']): string {
  return `instance_name = clawpod-test-${p.imaps}
base_dir = ${dir}/dovecot/run
state_dir = ${dir}/dovecot/state
protocols = imap lmtp
listen = 127.0.0.1
log_path = ${dir}/dovecot.log
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <${dir}/tls/cert.pem
ssl_key = <${dir}/tls/key.pem
mail_location = maildir:~/Maildir
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 1
submission_host = 127.0.0.1:${p.smtp}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/dovecot/users
}
userdb {
  driver = static
  args = home=${dir}/mail/%u
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${p.imaps}
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${p.lmtp}
  }
}
service auth {
  inet_listener sasl {
    address = 127.0.0.1
    port = ${p.sasl}
  }
}
protocol lmtp {
  mail_plugins = sieve
  postmaster_address = postmaster@${MAIL_DOMAIN}
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
`;
}

function postfixMain(dir: string, p: RealMailServers['ports']): string {
  return `compatibility_level = 3.6
queue_directory = ${dir}/postfix/queue
data_directory = ${dir}/postfix/data
maillog_file = ${dir}/postfix.log
maillog_file_prefixes = ${dir}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.${MAIL_DOMAIN}
mydomain = ${MAIL_DOMAIN}
myorigin = ${MAIL_DOMAIN}
mydestination =
mynetworks = 127.0.0.0/8
default_transport = error
relay_transport = error
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = ${MAIL_DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:${p.lmtp}
smtpd_tls_cert_file = ${dir}/tls/cert.pem
smtpd_tls_key_file = ${dir}/tls/key.pem
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
`;
}

function postfixMaster(p: RealMailServers['ports']): string {
  const services = [
    `127.0.0.1:${p.smtp} inet n - n - - smtpd`,
    `127.0.0.1:${p.submission} inet n - n - - smtpd`,
    '  -o smtpd_tls_security_level=encrypt',
    '  -o smtpd_sasl_auth_enable=yes',
    '  -o smtpd_sasl_type=dovecot',
    `  -o smtpd_sasl_path=inet:127.0.0.1:${p.sasl}`,
    '  -o smtpd_client_restrictions=permit_sasl_authenticated,reject',
    '  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject',
  ];
  for (const [name, type, priv, wakeup, limit, cmd] of [
    ['pickup', 'unix', 'n', '60', '1', 'pickup'],
    ['cleanup', 'unix', 'n', '-', '0', 'cleanup'],
    ['qmgr', 'unix', 'n', '300', '1', 'qmgr'],
    ['tlsmgr', 'unix', '-', '1000?', '1', 'tlsmgr'],
    ['rewrite', 'unix', '-', '-', '-', 'trivial-rewrite'],
    ['bounce', 'unix', '-', '-', '0', 'bounce'],
    ['defer', 'unix', '-', '-', '0', 'bounce'],
    ['trace', 'unix', '-', '-', '0', 'bounce'],
    ['verify', 'unix', '-', '-', '1', 'verify'],
    ['flush', 'unix', 'n', '1000?', '0', 'flush'],
    ['proxymap', 'unix', '-', '-', '-', 'proxymap'],
    ['error', 'unix', '-', '-', '-', 'error'],
    ['retry', 'unix', '-', '-', '-', 'error'],
    ['discard', 'unix', '-', '-', '-', 'discard'],
    ['lmtp', 'unix', '-', '-', '-', 'lmtp'],
    ['anvil', 'unix', '-', '-', '1', 'anvil'],
    ['scache', 'unix', '-', '-', '1', 'scache'],
    ['postlog', 'unix-dgram', 'n', '-', '1', 'postlogd'],
  ])
    services.push(`${name} ${type} ${priv} - n ${wakeup} ${limit} ${cmd}`);
  return `${services.join('\n')}\n`;
}

/** Starts Dovecot and a private Postfix; call `stop()` in afterAll. */
export async function startRealMailServers(): Promise<RealMailServers> {
  const dir = mkdtempSync(join(tmpdir(), 'clawpod-mail-'));
  // Dovecot's unprivileged processes (dovenull, nobody) must reach their files below it.
  chmodSync(dir, 0o755);
  const ports = {
    imaps: await freePort(),
    smtp: await freePort(),
    submission: await freePort(),
    lmtp: await freePort(),
    sasl: await freePort(),
  };
  for (const d of [
    'dovecot/run',
    'dovecot/state',
    'tls',
    'postfix/conf',
    'postfix/queue',
    'postfix/data',
  ])
    mkdirSync(join(dir, d), { recursive: true });
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    join(dir, 'tls/key.pem'),
    '-out',
    join(dir, 'tls/cert.pem'),
  ]);
  writeFileSync(
    join(dir, 'dovecot/users'),
    Object.entries(MAIL_USERS)
      .map(([u, pass]) => `${u}@${MAIL_DOMAIN}:{PLAIN}${pass}`)
      .join('\n') + '\n',
  );
  for (const u of Object.keys(MAIL_USERS))
    mkdirSync(join(dir, 'mail', `${u}@${MAIL_DOMAIN}`), { recursive: true });
  writeFileSync(
    join(dir, 'mail', `carol@${MAIL_DOMAIN}`, '.dovecot.sieve'),
    'require ["vacation"];\nvacation :days 1 :subject "Out of office" "Carol is away until Monday.";\n',
  );
  await run('chown', ['-R', 'nobody:nogroup', join(dir, 'mail')]);
  writeFileSync(join(dir, 'dovecot.conf'), dovecotConf(dir, ports));
  writeFileSync(join(dir, 'postfix/conf/main.cf'), postfixMain(dir, ports));
  writeFileSync(join(dir, 'postfix/conf/master.cf'), postfixMaster(ports));
  const postfixUid = Number((await run('id', ['-u', 'postfix'])).stdout.trim());
  chownSync(join(dir, 'postfix/data'), postfixUid, -1);

  const logs = () =>
    ['dovecot.log', 'postfix.log']
      .map((f) => {
        const p = join(dir, f);
        return `--- ${f}\n${existsSync(p) ? readFileSync(p, 'utf8').split('\n').slice(-40).join('\n') : '(none)'}`;
      })
      .join('\n');
  const pids = () =>
    [join(dir, 'dovecot/run/master.pid'), join(dir, 'postfix/queue/pid/master.pid')]
      .filter((f) => existsSync(f))
      .map((f) => Number(readFileSync(f, 'utf8').trim()))
      .filter((pid) => pid > 1);
  const stop = async () => {
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    // Both masters end their children before they exit: wait for them, bounded.
    const until = Date.now() + 10_000;
    for (const pid of pids()) {
      while (Date.now() < until) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await startDaemonCommand('dovecot', ['-c', join(dir, 'dovecot.conf')]);
    await startDaemonCommand('postfix', ['-c', join(dir, 'postfix/conf'), 'start']);
    for (const p of [ports.imaps, ports.lmtp, ports.sasl, ports.smtp, ports.submission])
      await listening(p, 10_000);
  } catch (err) {
    const text = logs();
    await stop();
    throw new Error(`mail servers did not start: ${(err as Error).message}\n${text}`, {
      cause: err,
    });
  }

  const ca = readFileSync(join(dir, 'tls/cert.pem'), 'utf8');
  const relay = nodemailer.createTransport({
    host: '127.0.0.1',
    port: ports.smtp,
    secure: false,
    tls: { ca },
  });

  return {
    dir,
    ports,
    caFile: join(dir, 'tls/cert.pem'),
    logs,
    stop: async () => {
      relay.close();
      await stop();
    },
    send: async (m) => {
      await relay.sendMail({
        from: address(m.from),
        to: address(m.to),
        subject: m.subject,
        text: m.text,
        ...(m.messageId ? { messageId: m.messageId } : {}),
        ...(m.headers ? { headers: m.headers } : {}),
      });
    },
    watch: async (user) => {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: ports.imaps,
        secure: true,
        tls: { ca },
        auth: { user: address(user), pass: MAIL_USERS[user] },
        logger: false,
        autoIdleDelay: 100,
      });
      await client.connect();
      const box = await client.mailboxOpen('INBOX');
      let seen = box.uidNext - 1;
      const arrived: ParsedMail[] = [];
      const waiters: Array<(m: ParsedMail) => void> = [];
      let chain = Promise.resolve();
      const pull = () => {
        chain = chain.then(async () => {
          for (const m of await client.fetchAll(
            `${seen + 1}:*`,
            { uid: true, source: true },
            { uid: true },
          )) {
            if (m.uid <= seen || !m.source) continue;
            seen = m.uid;
            const parsed = await simpleParser(m.source);
            const w = waiters.shift();
            if (w) w(parsed);
            else arrived.push(parsed);
          }
        });
      };
      client.on('exists', pull);
      return {
        next: () =>
          new Promise<ParsedMail>((resolve) => {
            const ready = arrived.shift();
            if (ready) resolve(ready);
            else waiters.push(resolve);
          }),
        all: async () => {
          await chain;
          const all: ParsedMail[] = [];
          for (const m of await client.fetchAll('1:*', { source: true }))
            if (m.source) all.push(await simpleParser(m.source));
          return all;
        },
        close: () => client.logout().catch(() => client.close()),
      };
    },
  };
}
