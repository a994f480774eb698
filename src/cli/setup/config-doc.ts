import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { ConfigError } from '../../config/errors.js';
import { configFileSchema, type ConfigFile } from '../../config/schema.js';

type Path = readonly string[];

/**
 * config.yaml as a YAML document: the wizard changes single keys through the yaml Document
 * API, so every comment, key order and style the owner wrote stays. Nothing is written until
 * {@link save}, which validates the whole file with the config schema first.
 */
export class ConfigDoc {
  private constructor(
    readonly file: string,
    private readonly doc: Document,
  ) {}

  /** The file as it is (an empty document when it does not exist); bad YAML is a ConfigError. */
  static load(file: string): ConfigDoc {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const doc = parseDocument(text);
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      throw new ConfigError(file, `line ${e.linePos?.[0]?.line ?? '?'}`, `valid YAML (${e.code})`);
    }
    return new ConfigDoc(file, doc);
  }

  get(path: Path): unknown {
    const v = this.doc.getIn(path);
    return isMap(v) || isSeq(v) ? v.toJSON() : v;
  }

  /** Sets one key, creating the maps above it; `undefined` deletes it. */
  set(path: Path, value: unknown): void {
    if (value === undefined) {
      if (this.doc.hasIn(path)) this.doc.deleteIn(path);
      return;
    }
    if (this.doc.getIn(path) === value) return;
    this.doc.setIn(path, value);
  }

  /** Sets each key of `block` under `path` one by one (comments inside the block stay). */
  merge(path: Path, block: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(block)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v))
        this.merge([...path, k], v as Record<string, unknown>);
      else this.set([...path, k], v);
    }
  }

  /** Appends `item` to the list at `path` unless it is there already. */
  addToList(path: Path, item: string): void {
    const list = this.doc.getIn(path);
    if (isSeq(list)) {
      if (!list.items.some((i) => (isMap(i) || isSeq(i) ? false : String(i) === item)))
        list.add(item);
      return;
    }
    this.doc.setIn(path, [item]);
  }

  /** The configuration this document would give, validated (a ConfigError names the key). */
  validate(): ConfigFile {
    const r = configFileSchema.safeParse(this.doc.toJS() ?? {});
    if (r.success) return r.data;
    const i = r.error.issues[0]!;
    throw new ConfigError(this.file, i.path.map(String).join('.'), i.message);
  }

  toString(): string {
    return this.doc.contents === null ? '' : this.doc.toString();
  }

  /** Validates, then writes atomically with mode 0600. */
  save(): ConfigFile {
    const parsed = this.validate();
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, this.toString(), { mode: 0o600 });
    renameSync(tmp, this.file);
    return parsed;
  }
}
