// The compliance report as one self-contained HTML page: inline CSS, no scripts, no links, no
// external resources (a Content-Security-Policy meta tag forbids them too), and every value that
// comes from data (agent ids, resources, reasons, policy text) escaped. Markup is only ever built
// with the `h` template tag, which escapes each interpolated value unless it is itself markup made
// by `h`: injection-safe by construction.
import type { ComplianceReport, Count } from './model';

/** Markup produced by `h` (trusted); anything else interpolated into `h` is escaped. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  // NUL and other C0 controls (except tab/newline) have no business in a report; U+FFFD shows them.
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] as string).replace(CONTROL_CHARS, '\uFFFD');
}

function render(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  return escapeHtml(String(v));
}

/** Template tag: literal parts are markup, interpolations are escaped (or nested `h` markup). */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const CSS = `
:root{--ink:#1d2433;--muted:#5b6475;--line:#d9dee7;--ok:#1b7f3b;--bad:#b42318;--warn:#9a6700;--bg:#f6f8fb}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:2px solid var(--line);padding-bottom:4px}
.sub{color:var(--muted);margin:0 0 16px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:4px 16px 16px;margin:16px 0}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:120px}
.tile b{display:block;font-size:20px}.tile span{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;margin-top:8px}th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#eef1f6;font-weight:600;word-break:normal}td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff}
.ok{background:var(--ok)}.bad{background:var(--bad)}.warn{background:var(--warn)}.info{background:#3b5b8a}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.note{color:var(--muted);font-size:12px}
`;

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function counts(list: Count[], empty = 'none'): Html {
  if (list.length === 0) return h`<span class="note">${empty}</span>`;
  return h`${list.map((c, i) => h`${i > 0 ? ', ' : ''}<code>${c.key}</code> ${c.count}`)}`;
}

function tile(label: string, value: string | number): Html {
  return h`<div class="tile"><b>${value}</b><span>${label}</span></div>`;
}

/** Renders the report (the same object the JSON format returns). */
export function renderComplianceHtml(r: ComplianceReport): string {
  const s = r.executiveSummary;
  const v = r.chainVerification;
  const title = `Compliance report: ${r.policy?.organization || r.tenant}`;
  const doc = h`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new Html(CSS)}</style>
</head>
<body>
<main>
<h1>${title}</h1>
<p class="sub">Tenant <code>${r.tenant}</code> · window ${r.window.start} to ${r.window.end} (inclusive) · generated ${r.generatedAt}</p>

<section id="executive-summary">
<h2>Executive summary</h2>
<div class="tiles">
${tile('events', s.totalEvents)}${tile('allowed', s.allowed)}${tile('denied', s.denied)}${tile('deny rate', pct(s.denyRate))}${tile('agents', s.agents)}${tile('access checks', s.accessChecks)}
</div>
<table>
<tr><th>Reasons</th><td>${counts(s.reasons)}</td></tr>
<tr><th>Actions</th><td>${counts(s.actions)}</td></tr>
<tr><th>Other decisions</th><td>${s.otherDecisions}</td></tr>
</table>
</section>

<section id="agents">
<h2>Per-agent breakdown</h2>
<p class="note">An event counts for every agent on its delegation path: <b>acted</b> when the agent made the call, <b>delegated</b> when an agent it delegated to did. Attempts with an unverified token are counted for the agents the token claimed; they prove nothing about who held it.</p>
${
  r.agents.length === 0
    ? h`<p class="note">No agent activity in the window and no agents in the policy.</p>`
    : h`<table>
<tr><th>Agent</th><th>In policy</th><th>Events</th><th>Acted</th><th>Delegated</th><th>Allowed</th><th>Denied</th><th>Access checks</th><th>Distinct resources</th><th>Deny reasons</th><th>First seen</th><th>Last seen</th></tr>
${r.agents.map(
  (
    a,
  ) => h`<tr><td><code>${a.agentId}</code>${a.delegatedBy.length > 0 ? h`<br><span class="note">delegated by ${a.delegatedBy.map((l, i) => h`${i > 0 ? '; ' : ''}<code>${l}</code>`)}${a.delegatedByOmitted > 0 ? ` (and ${a.delegatedByOmitted} more)` : ''}</span>` : ''}${a.unverifiedAttempts > 0 ? h`<br><span class="badge warn">attempts with an unverified token: ${a.unverifiedAttempts}</span>` : ''}</td><td>${a.inPolicy ? 'yes' : 'no'}</td><td class="n">${a.events}</td><td class="n">${a.acted}</td><td class="n">${a.delegated}</td><td class="n">${a.allowed}</td><td class="n">${a.denied}</td><td class="n">${a.accessChecks}</td><td class="n">${a.distinctResources}${a.distinctResourcesCapped ? '+' : ''}</td><td>${counts(a.denyReasons)}</td><td>${a.firstSeen ?? '—'}</td><td>${a.lastSeen ?? '—'}</td></tr>
`,
)}</table>`
}
</section>

<section id="attestation-matrix">
<h2>Attestation matrix</h2>
<p class="note">${r.attestationMatrix.basis}</p>
${
  r.attestationMatrix.classifications.length === 0
    ? h`<p class="note">The tenant's policy defines no data classifications.</p>`
    : r.attestationMatrix.rows.length === 0
      ? h`<p class="note">No agents.</p>`
      : h`<table>
<tr><th>Agent</th>${r.attestationMatrix.classifications.map((c) => h`<th>${c.domain}<br><code>${c.pattern}</code></th>`)}</tr>
${r.attestationMatrix.rows.map(
  (row) => h`<tr><td><code>${row.agentId}</code></td>${row.cells.map(
    (c) =>
      h`<td>${c.neverAccessed ? h`<span class="badge ok">NEVER ACCESSED</span>` : h`<span class="badge info">ACCESSED ${c.allowed}</span>`}${c.allowedDelegated > 0 ? h` <span class="note">${c.allowedDelegated} through delegates</span>` : ''}${c.denied > 0 ? h` <span class="note">${c.denied} denied</span>` : ''}</td>`,
  )}</tr>
`,
)}</table>`
}
</section>

<section id="chain-verification">
<h2>Chain verification</h2>
<p>${v.ok ? h`<span class="badge ok">VERIFIED</span>` : h`<span class="badge bad">FAILED: ${v.fault} at seq ${v.firstBadSeq}</span>`} ${v.message}</p>
<table>
<tr><th>Entries checked</th><td>${v.checked}</td></tr>
<tr><th>Chain head</th><td>seq ${v.headSeq}</td></tr>
<tr><th>Report covers</th><td>seq ${r.coverage.fromSeq} to ${r.coverage.verifiedThroughSeq} (the verified entries)</td></tr>
<tr><th>Checkpoint</th><td>${
    v.checkpoint
      ? h`seq ${v.checkpoint.seq}, signed ${v.checkpoint.time} by key <code>${v.checkpoint.keyId}</code><br>head <code>${v.checkpoint.headHash}</code>`
      : h`<span class="badge warn">NONE</span> no signed checkpoint yet: truncation and rewrites cannot be detected`
  }</td></tr>
<tr><th>After the checkpoint</th><td>${v.entriesAfterCheckpoint} entries linked by hashes, not yet covered by a signed checkpoint</td></tr>
</table>
</section>

<section id="data-classifications">
<h2>Data classifications</h2>
${
  r.dataClassifications.length === 0
    ? h`<p class="note">The tenant's policy defines no data classifications.</p>`
    : h`<table>
<tr><th>Domain</th><th>Sensitivity</th><th>PII fields</th><th>Retention</th><th>Description</th><th>Resource pattern</th></tr>
${r.dataClassifications.map(
  (d) =>
    h`<tr><td>${d.domain}</td><td><span class="badge ${d.sensitivity === 'restricted' ? 'bad' : d.sensitivity === 'confidential' ? 'warn' : 'ok'}">${d.sensitivity}</span></td><td>${d.piiFields.map((p, i) => h`${i > 0 ? ', ' : ''}<code>${p}</code>`)}</td><td>${d.retentionDays > 0 ? `${d.retentionDays} days` : 'N/A'}</td><td>${d.description}</td><td><code>${d.pattern}</code></td></tr>
`,
)}</table>`
}
</section>

<section id="report-metadata">
<h2>Report metadata</h2>
<table>
<tr><th>Report type</th><td>${r.reportType} (format ${r.formatVersion})</td></tr>
<tr><th>Tenant</th><td><code>${r.tenant}</code></td></tr>
<tr><th>Policy</th><td>${r.policy ? h`version ${r.policy.version} (<code>${r.policy.policyVersion}</code>), ${r.policy.organization}, frameworks ${r.policy.complianceFrameworks.join(', ') || 'none'}, sha256 <code>${r.policy.sha256}</code>` : 'none'}</td></tr>
<tr><th>Generated at</th><td>${r.generatedAt}</td></tr>
</table>
</section>
</main>
</body>
</html>
`;
  return doc.value;
}
