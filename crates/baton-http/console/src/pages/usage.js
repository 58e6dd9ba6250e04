// Usage: cost and tokens per day, per agent and per model, over a chosen period.
import { useState } from "preact/hooks";
import { get } from "../api.js";
import { html, useLoad, Loading, Page, Field, fmtCost, fmtInt } from "../ui.js";

const DAY = 86400000;

function range(days) {
  const to = new Date(Date.now() + 60000);
  return `from=${encodeURIComponent(new Date(to - days * DAY).toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
}

export function Usage() {
  const [days, setDays] = useState(30);
  const load = (group) => () => get(`/v3/usage?group_by=${group}&${range(days)}`);
  const byDay = useLoad(load("day"), [days]);
  const byAgent = useLoad(load("agent"), [days]);
  const byModel = useLoad(load("model"), [days]);
  return html`<${Page} title="Usage">
    <${Field} label="Period">
      <select value=${days} onChange=${(e) => setDays(Number(e.target.value))}><option value="7">Last 7 days</option><option value="30">Last 30 days</option><option value="90">Last 90 days</option></select>
    <//>
    <${Loading} state=${byDay}>${(r) => html`
      <dl class="facts">
        <div><dt>Cost</dt><dd>${fmtCost(r.total.cost)}</dd></div>
        <div><dt>Tokens</dt><dd>${fmtInt(r.total.total_tokens)}</dd></div>
        <div><dt>Model calls</dt><dd>${fmtInt(r.total.count)}</dd></div>
      </dl>
      <div class="grid charts">
        <${DayChart} title="Cost per day" rows=${everyDay(r.data, days)} value=${(d) => costOf(d)} format=${fmtCost} />
        <${DayChart} title="Tokens per day" rows=${everyDay(r.data, days)} value=${(d) => d.total_tokens} format=${fmtInt} />
      </div>`}<//>
    <div class="grid charts">
      <${Loading} state=${byAgent}>${(r) => html`<${Bars} title="By agent" rows=${r.data} />`}<//>
      <${Loading} state=${byModel}>${(r) => html`<${Bars} title="By model" rows=${r.data} />`}<//>
    </div>
  <//>`;
}

/** One row per UTC day of the period, oldest first; days without usage count zero. */
function everyDay(rows, days) {
  const byDay = new Map(rows.map((r) => [String(r.key).slice(0, 10), r]));
  const out = [];
  for (let i = days - 1; i >= 0; i--) {
    const key = new Date(Date.now() - i * DAY).toISOString().slice(0, 10);
    out.push(byDay.get(key) || { key, cost: 0, total_tokens: 0 });
  }
  return out;
}

const costOf = (d) => (d.cost && typeof d.cost === "object" ? d.cost.total : d.cost) || 0;

function DayChart({ title, rows, value, format }) {
  const max = Math.max(...rows.map(value), 0) || 1;
  const w = 600;
  const h = 160;
  const step = rows.length ? w / rows.length : w;
  return html`<figure class="panel chart">
    <figcaption>${title}</figcaption>
    ${rows.every((d) => !value(d))
      ? html`<p class="muted">No usage in this period.</p>`
      : html`<svg viewBox=${`0 0 ${w} ${h + 20}`} role="img" aria-label=${`${title}: ${rows.map((d) => `${d.key} ${format(value(d))}`).join(", ")}`}>
          ${rows.map((d, i) => {
            const bh = (value(d) / max) * h;
            return html`<g><rect x=${i * step + step * 0.15} y=${h - bh} width=${step * 0.7} height=${bh} class="bar"><title>${d.key}: ${format(value(d))}</title></rect>
              ${i % Math.ceil(rows.length / 8) === 0 && html`<text x=${i * step + step / 2} y=${h + 14} text-anchor="middle" class="tick">${String(d.key).slice(5, 10)}</text>`}</g>`;
          })}
        </svg>`}
  </figure>`;
}

function Bars({ title, rows }) {
  const max = Math.max(...rows.map((r) => r.total_tokens), 0) || 1;
  return html`<figure class="panel chart">
    <figcaption>${title}</figcaption>
    ${rows.length === 0 ? html`<p class="muted">No usage in this period.</p>` : html`<table>
      <thead><tr><th scope="col">Name</th><th scope="col">Tokens</th><th scope="col">Cost</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr><td>${r.key || "—"}</td>
        <td><span class="hbar" style=${{ width: `${(r.total_tokens / max) * 100}%` }}></span>${fmtInt(r.total_tokens)}</td><td>${fmtCost(r.cost)}</td></tr>`)}</tbody>
    </table>`}
  </figure>`;
}
