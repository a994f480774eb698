import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { tokens, usd } from '../format.js';
import type { BudgetCap, UsageDay } from '../types.js';
import { Empty, ErrorNote, Loading, Section, useLoad } from '../ui.js';

const COLORS = 8;

/** Spend per group per day: stacked bars (SVG built here; no chart library). */
function Chart({ days, groups, rows }: { days: string[]; groups: string[]; rows: UsageDay[] }) {
  const W = 640;
  const H = 220;
  const pad = { l: 56, b: 24, t: 8 };
  const byDay = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const m = byDay.get(r.day) ?? new Map<string, number>();
    m.set(r.group, (m.get(r.group) ?? 0) + r.costUsd);
    byDay.set(r.day, m);
  }
  const totals = days.map((d) => [...(byDay.get(d)?.values() ?? [])].reduce((a, b) => a + b, 0));
  const max = Math.max(...totals, 0.01);
  const bw = (W - pad.l) / Math.max(days.length, 1);
  const y = (v: number) => ((H - pad.b - pad.t) * v) / max;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="spend per day">
      {[0, 0.5, 1].map((f) => (
        <g>
          <line
            class="grid"
            x1={pad.l}
            x2={W}
            y1={H - pad.b - y(max * f)}
            y2={H - pad.b - y(max * f)}
          />
          <text class="axis" x={pad.l - 4} y={H - pad.b - y(max * f) + 4} text-anchor="end">
            {usd(max * f)}
          </text>
        </g>
      ))}
      {days.map((d, i) => {
        let acc = 0;
        return (
          <g>
            {groups.map((g, gi) => {
              const v = byDay.get(d)?.get(g) ?? 0;
              if (!v) return null;
              const h = y(v);
              acc += h;
              return (
                <rect
                  class={`c${gi % COLORS}`}
                  x={pad.l + i * bw + 1}
                  width={Math.max(bw - 2, 1)}
                  y={H - pad.b - acc}
                  height={h}
                >
                  <title>
                    {d} {g}: {usd(v)}
                  </title>
                </rect>
              );
            })}
            {i % Math.ceil(days.length / 6) === 0 ? (
              <text class="axis" x={pad.l + i * bw + bw / 2} y={H - 6} text-anchor="middle">
                {d.slice(5)}
              </text>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}

/** Every cap (config `budgets`, raised by the owner's answers) with this period's spend. */
function Budgets() {
  const b = useLoad((s) => get<BudgetCap[]>('/api/budgets', s), []);
  return (
    <Section title="Budgets">
      <ErrorNote error={b.error} />
      {!b.data ? (
        <Loading what="budgets" />
      ) : !b.data.length ? (
        <Empty>
          No caps set: add <code>budgets.groups.&lt;group&gt;</code> in config.yaml (see
          docs/budgets.md).
        </Empty>
      ) : (
        <table class="table" data-testid="budgets-table">
          <thead>
            <tr>
              <th>for</th>
              <th>period</th>
              <th class="num">spent</th>
              <th class="num">cap</th>
              <th>used</th>
            </tr>
          </thead>
          <tbody>
            {b.data.map((c) => {
              const fmt = (x: number) => (c.unit === 'usd' ? usd(x) : tokens(x));
              const pct = Math.round(c.used * 100);
              return (
                <tr>
                  <td>{c.scope === 'task' ? `task ${c.ref} (${c.group})` : c.group}</td>
                  <td>{c.period}</td>
                  <td class="num">{fmt(c.spent)}</td>
                  <td class="num">
                    {fmt(c.cap)}
                    {c.raised ? ' (raised)' : ''}
                  </td>
                  <td>
                    <meter min={0} max={1} low={0.8} high={0.99} optimum={0} value={c.used}>
                      {pct}%
                    </meter>{' '}
                    {pct}%
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </Section>
  );
}

export function UsageView() {
  const [span, setSpan] = useState(30);
  const u = useLoad((s) => get<UsageDay[]>(`/api/usage?days=${span}`, s), [span]);
  const rows = u.data ?? [];
  const groups = [...new Set(rows.map((r) => r.group))].sort();
  const days: string[] = [];
  const fmt = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  for (let i = span - 1; i >= 0; i--) days.push(fmt.format(new Date(Date.now() - i * 86_400_000)));
  const per = groups.map((g) => {
    const mine = rows.filter((r) => r.group === g);
    return {
      g,
      runs: mine.reduce((a, r) => a + r.runs, 0),
      tok: mine.reduce((a, r) => a + r.inputTokens + r.outputTokens, 0),
      cost: mine.reduce((a, r) => a + r.costUsd, 0),
      today: mine.find((r) => r.day === days[days.length - 1])?.costUsd ?? 0,
    };
  });
  return (
    <div class="stack">
      <Section
        title="Spend per day"
        actions={
          <select value={span} onChange={(e) => setSpan(Number(e.currentTarget.value))}>
            <option value={7}>7 days</option>
            <option value={30}>30 days</option>
            <option value={90}>90 days</option>
          </select>
        }
      >
        <ErrorNote error={u.error} />
        {u.loading && !u.data ? (
          <Loading what="usage" />
        ) : rows.length ? (
          <Chart days={days} groups={groups} rows={rows} />
        ) : (
          <Empty>No runs in this span.</Empty>
        )}
        <div class="legend">
          {groups.map((g, i) => (
            <span>
              <span class={`swatch c${i % COLORS}`} /> {g}
            </span>
          ))}
        </div>
      </Section>
      <Section title="Per group">
        <table class="table" data-testid="usage-table">
          <thead>
            <tr>
              <th>group</th>
              <th class="num">runs</th>
              <th class="num">tokens</th>
              <th class="num">today</th>
              <th class="num">{span} days</th>
            </tr>
          </thead>
          <tbody>
            {per.map((p) => (
              <tr>
                <td>{p.g}</td>
                <td class="num">{p.runs}</td>
                <td class="num">{tokens(p.tok)}</td>
                <td class="num">{usd(p.today)}</td>
                <td class="num">{usd(p.cost)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted small">
          Costs are what the harness reported; runs of models without a known price add tokens only.
        </p>
      </Section>
      <Budgets />
    </div>
  );
}
