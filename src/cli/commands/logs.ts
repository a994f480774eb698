import type { Command } from 'commander';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { intOption } from '../local.js';
import { formatLogLine } from '../log-format.js';

const TAIL_WINDOW = 4 * 1024 * 1024;

/**
 * Reads `file` from byte `from` to its end (at most `max` bytes, the last ones). A different
 * inode than `ino` (the log was replaced) or a shorter file (truncated) reads from the start.
 */
function readFrom(
  file: string,
  from: number,
  opts: { max?: number; ino?: number } = {},
): { text: string; start: number; ino: number } {
  const fd = openSync(file, 'r');
  try {
    const { size, ino } = fstatSync(fd);
    const restart = from > size || (opts.ino !== undefined && opts.ino !== ino);
    const begin = Math.max(restart ? 0 : from, size - (opts.max ?? Number.MAX_SAFE_INTEGER));
    const buf = Buffer.alloc(size - begin);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, begin + read);
      if (n === 0) break;
      read += n;
    }
    return { text: buf.subarray(0, read).toString('utf8'), start: begin, ino };
  } finally {
    closeSync(fd);
  }
}

/**
 * The complete lines of `text` (read from byte `start`) and the byte offset just after the last
 * newline; a trailing partial line is left for later.
 */
export function completeLines(
  text: string,
  start: number,
  dropFirst: boolean,
): { lines: string[]; next: number } {
  const last = text.lastIndexOf('\n');
  if (last === -1) return { lines: [], next: start };
  const lines = text.slice(0, last).split('\n');
  if (dropFirst) lines.shift();
  return {
    lines: lines.filter((l) => l.trim() !== ''),
    next: start + Buffer.byteLength(text.slice(0, last + 1)),
  };
}

/** `clawpod logs [-f] [-n N] [--raw]`: the daemon's log file, human-readable. */
export function registerLogs(program: Command): void {
  program
    .command('logs')
    .description('print the daemon log ($CLAWPOD_HOME/logs/clawpod.log) human-readably')
    .option('-f, --follow', 'keep printing new lines as they are written (Ctrl-C stops)')
    .option('-n, --lines <n>', 'how many of the last lines to print first', intOption(0), 50)
    .option('--raw', 'print the JSON lines as they are')
    .action(async (opts: { follow?: boolean; lines: number; raw?: boolean }) => {
      const config = loadConfig();
      const file = join(config.paths.logs, 'clawpod.log');
      const show = (line: string) => console.log(opts.raw ? line : formatLogLine(line));
      let offset = 0;
      let ino: number | undefined;
      if (existsSync(file)) {
        const { text, start, ino: first } = readFrom(file, 0, { max: TAIL_WINDOW });
        ino = first;
        const { lines, next } = completeLines(text, start, start > 0);
        for (const line of lines.slice(Math.max(0, lines.length - opts.lines))) show(line);
        offset = next;
      } else if (!opts.follow) {
        console.error(
          `no log yet at ${file} (the daemon writes it; start it with \`clawpod start\`)`,
        );
        return;
      }
      if (!opts.follow) return;

      const pump = () => {
        if (!existsSync(file)) return void (offset = 0);
        const read = readFrom(file, offset, { ino });
        ino = read.ino;
        const { lines, next } = completeLines(read.text, read.start, false);
        for (const line of lines) show(line);
        offset = next;
      };
      mkdirSync(dirname(file), { recursive: true });
      // Watch the directory, not the file, so a rotated or newly created log is picked up.
      const watcher = watch(dirname(file), (_event, name) => {
        if (!name || name === basename(file)) pump();
      });
      pump();
      await new Promise<void>((resolve) => {
        const stop = () => {
          watcher.close();
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        watcher.on('error', (err) => {
          console.error(`clawpod: watching ${file} failed: ${err.message}`);
          process.exitCode = 1;
          stop();
        });
      });
    });
}
