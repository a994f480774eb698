/**
 * Helpers shared by the sandbox tests (not used by the daemon): collect a handle's output, and
 * lay out a throw-away data dir the way the daemon does.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxExit, SandboxHandle } from './runtime.js';

/** Everything a finished sandbox produced. */
export interface Collected {
  exit: SandboxExit;
  stdout: string;
  stderr: string;
}

function drain(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Read stdout/stderr to the end and wait for the exit. */
export async function collect(handle: SandboxHandle, stdin?: string): Promise<Collected> {
  handle.stdin.end(stdin ?? '');
  const [stdout, stderr, exit] = await Promise.all([
    drain(handle.stdout),
    drain(handle.stderr),
    handle.exited,
  ]);
  return { exit, stdout, stderr };
}

/** A temporary data dir: groups/{<group>,<other>,global}, ipc/<group>, sessions/<group>, a db. */
export interface TestLayout {
  base: string;
  dataDir: string;
  groupDir: string;
  otherGroupDir: string;
  globalDir: string;
  ipcDir: string;
  sessionDir: string;
  dbPath: string;
  cleanup(): void;
}

/**
 * Create the layout under a fresh temp dir (mode 0755 so a sandbox uid can traverse it). When
 * running as root, the group's rw dirs are chowned to `owner` (the sandbox uid:gid).
 */
export function makeLayout(group = 'team', owner = { uid: 1000, gid: 1000 }): TestLayout {
  const base = mkdtempSync(join(tmpdir(), 'clawpod-sbx-'));
  chmodSync(base, 0o755);
  const dataDir = join(base, 'home');
  const l = {
    base,
    dataDir,
    groupDir: join(dataDir, 'groups', group),
    otherGroupDir: join(dataDir, 'groups', 'other'),
    globalDir: join(dataDir, 'groups', 'global'),
    ipcDir: join(dataDir, 'ipc', group),
    sessionDir: join(dataDir, 'sessions', group),
    dbPath: join(dataDir, 'clawpod.db'),
  };
  for (const d of [l.groupDir, l.otherGroupDir, l.globalDir, l.ipcDir, l.sessionDir]) {
    mkdirSync(d, { recursive: true, mode: 0o755 });
  }
  writeFileSync(l.dbPath, 'SQLite format 3\0 secret rows');
  writeFileSync(join(l.globalDir, 'README.md'), 'shared knowledge');
  writeFileSync(join(l.otherGroupDir, 'private.txt'), 'other group secret');
  if (process.getuid?.() === 0) {
    for (const d of [l.groupDir, l.ipcDir, l.sessionDir]) chownSync(d, owner.uid, owner.gid);
  }
  return { ...l, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/**
 * Runs inside a sandbox (node -e) and prints one JSON object: identity, env, which writes work,
 * which of the probe paths are visible, nested user namespaces, interfaces, a TCP connect.
 * argv: JSON array of paths that must be invisible, the TCP port the test listens on.
 */
export const ISOLATION_PROBE = `
const fs = require('fs'), net = require('net'), cp = require('child_process');
const t = (f) => { try { const v = f(); return v === undefined ? 'ok' : v; } catch (e) { return e.code || e.message; } };
const [probes, port] = [JSON.parse(process.argv[1]), Number(process.argv[2])];
const out = { uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), env: process.env };
out.writeGroup = t(() => fs.writeFileSync('/workspace/group/written.txt', 'hi'));
out.readGlobal = t(() => fs.readFileSync('/workspace/global/README.md', 'utf8'));
out.writeGlobal = t(() => fs.writeFileSync('/workspace/global/x', 'x'));
out.writeIpc = t(() => fs.writeFileSync('/workspace/ipc/r.json', '{}'));
out.writeSession = t(() => fs.writeFileSync('/workspace/session/s', 's'));
out.writeRoot = t(() => fs.writeFileSync('/evil', 'x'));
out.writeUsr = t(() => fs.writeFileSync('/usr/evil', 'x'));
out.writeTmp = t(() => fs.writeFileSync('/tmp/ok', 'x'));
out.visible = probes.filter((p) => fs.existsSync(p));
out.rootDir = fs.readdirSync('/').sort();
out.nestedUserns = t(() => cp.execFileSync('/usr/bin/unshare', ['--user', '/usr/bin/true'], { stdio: 'ignore' }));
out.interfaces = Object.keys(require('os').networkInterfaces());
const s = net.connect(port, '127.0.0.1');
const done = (r) => { out.tcp = r; console.log(JSON.stringify(out)); process.exit(0); };
s.on('connect', () => done('connected'));
s.on('error', (e) => done(e.code));
`;
