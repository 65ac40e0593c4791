// The compliance report as one self-contained HTML page: inline CSS, no scripts, no links, no
// external resources (a Content-Security-Policy meta tag forbids them too), and every value that
// comes from data (agent ids, resources, reasons, policy text) escaped. Markup is only ever built
// with the `h` template tag, which escapes each interpolated value unless it is itself markup made
// by `h`: injection-safe by construction.
//
// Text never breaks inside a word: no hyphenation, no break-all; identifiers (agent ids,
// resources, hashes) are split into unbreakable chunks with a break opportunity after `/`, `.`,
// `:` and similar punctuation only (a long run without any is chunked every 16 characters, as
// hashes are read), so a table cell wraps at those points or at spaces. The same page prints to
// A4 (`@page`), which is how the PDF is made.
//
// The page ends with an empty signature slot (core REPORT_SIGNATURE_SLOT): the auditor hashes the
// page with the slot empty, signs, and fills the slot with the signed content (report/sign.ts).
import { REPORT_SIGNATURE_SLOT_CLOSE, REPORT_SIGNATURE_SLOT_OPEN } from '@authority/core';
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
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);margin:0;background:var(--bg);hyphens:none;-webkit-hyphens:none;word-break:normal;overflow-wrap:normal}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:2px solid var(--line);padding-bottom:4px;break-after:avoid}
.sub{color:var(--muted);margin:0 0 16px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:4px 16px 16px;margin:16px 0}
.tiles{display:flex;flex-wrap:wrap;gap:10px}.tile{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:120px}
.tile b{display:block;font-size:20px}.tile span{color:var(--muted);font-size:12px}
table{border-collapse:collapse;width:100%;margin-top:8px}thead{display:table-header-group}tr{break-inside:avoid}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.ok{background:var(--ok)}.bad{background:var(--bad)}.warn{background:var(--warn)}.info{background:#3b5b8a}
code{font:12px ui-monospace,SFMono-Regular,Menlo,"DejaVu Sans Mono",monospace}
.id span,.nw{white-space:nowrap}
.note{color:var(--muted);font-size:12px}
@page{size:A4;margin:12mm}
@media print{body{background:#fff;font-size:10px}main{max-width:none;padding:0}section{border:none;padding:0;margin:8px 0}
h1{font-size:18px}h2{font-size:13px;margin:14px 0 6px}th,td{padding:3px 4px}code{font-size:9px}.tile{padding:4px 8px;min-width:90px}.tile b{font-size:14px}.badge{font-size:9px}.note{font-size:9px}}
`;

/**
 * Break opportunities inside an identifier: after these structural separators only (never after
 * `-`, `_` or `.`, which join the parts of one name: `academic-advisor`, `RESOURCE_NOT_ALLOWED`,
 * `approval.decide` never break).
 */
const ID_BREAK_AFTER = /[/:?&=,;@#|\\]/;
/** A run longer than this with no separator is cut every CHUNK characters (hashes, signatures). */
const LONG_RUN = 40;
const CHUNK = 16;

/** Splits an identifier into unbreakable chunks, each ending at a safe break point. */
export function idChunks(id: string): string[] {
  const chunks: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur.length > LONG_RUN) for (let i = 0; i < cur.length; i += CHUNK) chunks.push(cur.slice(i, i + CHUNK));
    else if (cur !== '') chunks.push(cur);
    cur = '';
  };
  for (const ch of id) {
    cur += ch;
    if (ID_BREAK_AFTER.test(ch)) flush();
  }
  flush();
  return chunks;
}

/** An identifier in code type that wraps only at safe points (idChunks). */
function id(value: string): Html {
  return h`<code class="id">${idChunks(value).map((c, i) => h`${i > 0 ? new Html('<wbr>') : ''}<span>${c}</span>`)}</code>`;
}

/** Prose: wraps at spaces; a word with a hyphen or other joiner never breaks inside. */
function prose(text: string): Html {
  return h`${text
    .split(/(\s+)/)
    .map((w) =>
      /^\s*$/.test(w)
        ? w
        : w.length > CHUNK * 2
          ? idChunks(w).map((c, i) => h`${i > 0 ? new Html('<wbr>') : ''}<span class="nw">${c}</span>`)
          : /[-‐/']/.test(w)
            ? h`<span class="nw">${w}</span>`
            : w,
    )}`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function counts(list: Count[], empty = 'none'): Html {
  if (list.length === 0) return h`<span class="note">${empty}</span>`;
  return h`${list.map((c, i) => h`${i > 0 ? ', ' : ''}<span class="nw">${id(c.key)} ${c.count}</span>`)}`;
}

function tile(label: string, value: string | number): Html {
  return h`<div class="tile"><b>${value}</b><span>${label}</span></div>`;
}

function omitted(n: number, what: string): Html {
  return n > 0
    ? h`<p class="note">and ${n} more ${what} not listed (the list is bounded; query the chain for all of them: <code>authority audit query</code>).</p>`
    : h``;
}

/** Who signs the page and what its signature is bound to: shown on the page, signed with it. */
export interface SigningInfo {
  keyId: string;
  /** Unix seconds. */
  issuedAt: number;
}

function scopeText(r: ComplianceReport): string {
  const parts: string[] = [];
  if (r.scope.agentId !== null) parts.push(`agent ${r.scope.agentId} (events on whose delegation path it is)`);
  if (r.scope.resourceGlob !== null) parts.push(`resources matching ${r.scope.resourceGlob}`);
  const what = parts.length === 0 ? 'all events of the tenant' : parts.join(', ');
  return r.scope.summary ? `${what}; summary (lists left out)` : what;
}

const START_BASIS: Record<ComplianceReport['window']['startBasis'], string> = {
  requested: 'as requested',
  'first-entry': "the chain's first entry",
  'empty-chain': 'the chain has no entries',
};

/**
 * Renders the report (the same object the JSON format returns), with the signature slot empty.
 * `signing` (who will sign, when) is shown on the page; without it the page says it is unsigned.
 */
export function renderComplianceHtml(r: ComplianceReport, signing?: SigningInfo): string {
  const s = r.executiveSummary;
  const v = r.chainVerification;
  const title = `Compliance report: ${r.policy?.organization || r.tenant}`;
  const policyCell = (a: ComplianceReport['agents'][number]) =>
    a.inPolicy
      ? 'yes'
      : a.policyEntry !== null
        ? h`via root ${id(a.policyEntry)}`
        : h`<span class="badge warn">no</span>`;
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
<h1>${prose(title)}</h1>
<p class="sub">Tenant ${id(r.tenant)} · window <span class="nw">${r.window.start}</span> to <span class="nw">${r.window.end}</span> (inclusive; start: ${START_BASIS[r.window.startBasis]}) · generated <span class="nw">${r.generatedAt}</span></p>
<p class="sub">Scope: ${prose(scopeText(r))}</p>

<section id="executive-summary">
<h2>Executive summary</h2>
<div class="tiles">
${tile('access checks', s.accessChecks)}${tile('allowed', s.accessAllowed)}${tile('denied', s.accessDenied)}${tile('deny rate (access checks)', pct(s.denyRate))}${tile('administrative events', s.adminEvents)}${tile('agents', s.agents)}
</div>
<table>
<tr><th>All events</th><td>${s.totalEvents} (${s.allowed} allowed, ${s.denied} denied, ${s.otherDecisions} other)</td></tr>
<tr><th>Administrative events</th><td>${s.adminEvents}, of which ${s.adminDenied} denied: not in the deny rate, which is over access checks only</td></tr>
<tr><th>Reasons</th><td>${counts(s.reasons)}</td></tr>
<tr><th>Actions</th><td>${counts(s.actions)}</td></tr>
<tr><th>Approval events</th><td>${r.approvals.rows.length + r.approvals.omitted}</td></tr>
<tr><th>Revocations</th><td>${r.revocations.rows.length + r.revocations.omitted}</td></tr>
</table>
</section>
${
  r.scope.summary
    ? h``
    : h`
<section id="agents">
<h2>Per-agent breakdown</h2>
<p class="note">An event counts for every agent on its delegation path: <b>acted</b> when the agent made the call, <b>delegated</b> when an agent it delegated to did. A delegated agent is in policy <b>via its root</b>: it holds a narrowing of the root's grant. Attempts with an unverified token are counted for the agents the token claimed; they prove nothing about who held it.</p>
${
  r.agents.length === 0
    ? h`<p class="note">No agent activity in the window and no agents in the policy.</p>`
    : h`<table>
<thead><tr><th>Agent</th><th>In policy</th><th>Events (acted / delegated)</th><th>Allowed</th><th>Denied (revoked)</th><th>Access checks</th><th>Resources</th><th>Deny reasons</th><th>First / last seen</th></tr></thead>
${r.agents.map(
  (a) =>
    h`<tr><td>${id(a.agentId)}${a.delegatedBy.length > 0 ? h`<br><span class="note">delegated by ${a.delegatedBy.map((l, i) => h`${i > 0 ? '; ' : ''}${id(l)}`)}${a.delegatedByOmitted > 0 ? ` (and ${a.delegatedByOmitted} more)` : ''}</span>` : ''}${a.unverifiedAttempts > 0 ? h`<br><span class="badge warn">attempts with an unverified token: ${a.unverifiedAttempts}</span>` : ''}</td><td>${policyCell(a)}</td><td class="n">${a.events} (${a.acted} / ${a.delegated})</td><td class="n">${a.allowed}</td><td class="n">${a.denied} (${a.revokedDenials})</td><td class="n">${a.accessChecks}</td><td class="n">${a.distinctResources}${a.distinctResourcesCapped ? '+' : ''}</td><td>${counts(a.denyReasons)}</td><td><span class="nw">${a.firstSeen ?? '—'}</span><br><span class="nw">${a.lastSeen ?? '—'}</span></td></tr>
`,
)}</table>`
}
</section>

<section id="resources">
<h2>Per-resource breakdown</h2>
<p class="note">Access checks per resource, the busiest first${r.resources.partial ? '; more distinct resources than the report tracks: the list is partial' : ''}.</p>
${
  r.resources.rows.length === 0
    ? h`<p class="note">No access checks in the window.</p>`
    : h`<table>
<thead><tr><th>Resource</th><th>Access checks</th><th>Allowed</th><th>Denied</th><th>Agents</th></tr></thead>
${r.resources.rows.map(
  (
    x,
  ) => h`<tr><td>${id(x.resource)}</td><td class="n">${x.accessChecks}</td><td class="n">${x.allowed}</td><td class="n">${x.denied}</td><td class="n">${x.agents}</td></tr>
`,
)}</table>${omitted(r.resources.omitted, 'resources')}`
}
</section>

<section id="approvals">
<h2>Approvals</h2>
<p class="note">Every approval request, decision and use in the window: who approved what, when, with which comment.</p>
${
  r.approvals.rows.length === 0
    ? h`<p class="note">No approval events in the window.</p>`
    : h`<table>
<thead><tr><th>Time</th><th>Step</th><th>Approval</th><th>Status</th><th>Agent and request</th><th>By</th><th>Comment</th></tr></thead>
${r.approvals.rows.map(
  (x) =>
    h`<tr><td><span class="nw">${x.time}</span></td><td>${id(x.action)}</td><td>${id(x.approvalId)}</td><td>${id(x.status)}</td><td>${id(x.agentId)}<br><span class="note">${id(x.requiredScope)} on ${id(x.resource)}${x.purpose ? h`, purpose ${id(x.purpose)}` : ''}</span></td><td>${id(x.principal)}</td><td>${x.comment ? prose(x.comment) : h`<span class="note">—</span>`}</td></tr>
`,
)}</table>${omitted(r.approvals.omitted, 'approval events')}`
}
</section>

<section id="revocations">
<h2>Revocations</h2>
${
  r.revocations.rows.length === 0
    ? h`<p class="note">No revocations in the window.</p>`
    : h`<table>
<thead><tr><th>Time</th><th>What</th><th>Envelope</th><th>Agent</th><th>Reason</th><th>By</th></tr></thead>
${r.revocations.rows.map(
  (x) =>
    h`<tr><td><span class="nw">${x.time}</span></td><td>${id(x.action)}</td><td>${x.jti ? id(x.jti) : '—'}</td><td>${x.agentId ? id(x.agentId) : '—'}</td><td>${x.reason ? prose(x.reason) : '—'}</td><td>${id(x.principal)}</td></tr>
`,
)}</table>${omitted(r.revocations.omitted, 'revocations')}`
}
</section>

<section id="denied-events">
<h2>Denied events</h2>
<p class="note">Each denial with its decision id (the enforcer's answer to the caller names it) and event id.</p>
${
  r.deniedEvents.rows.length === 0
    ? h`<p class="note">No denied events in the window.</p>`
    : h`<table>
<thead><tr><th>Time</th><th>Decision id</th><th>Agent</th><th>Action and resource</th><th>Reason</th></tr></thead>
${r.deniedEvents.rows.map(
  (x) =>
    h`<tr><td><span class="nw">${x.time}</span><br><span class="note">seq ${x.seq}</span></td><td>${x.decisionId ? id(x.decisionId) : h`<span class="note">—</span>`}${x.eventId !== x.decisionId ? h`<br><span class="note">event ${id(x.eventId)}</span>` : ''}</td><td>${x.agentId ? id(x.agentId) : '—'}</td><td>${id(x.action)}<br>${id(x.resource)}</td><td>${id(x.reason)}${x.message ? h`<br><span class="note">${prose(x.message)}</span>` : ''}</td></tr>
`,
)}</table>${omitted(r.deniedEvents.omitted, 'denied events')}`
}
</section>

<section id="attestation-matrix">
<h2>Attestation matrix</h2>
<p class="note">${prose(r.attestationMatrix.basis)}</p>
${
  r.attestationMatrix.classifications.length === 0
    ? h`<p class="note">The tenant's policy defines no data classifications.</p>`
    : r.attestationMatrix.rows.length === 0
      ? h`<p class="note">No agents.</p>`
      : h`<table>
<thead><tr><th>Agent</th>${r.attestationMatrix.classifications.map((c) => h`<th>${id(c.domain)}<br>${id(c.pattern)}</th>`)}</tr></thead>
${r.attestationMatrix.rows.map(
  (row) => h`<tr><td>${id(row.agentId)}</td>${row.cells.map(
    (c) =>
      h`<td>${c.neverAccessed ? h`<span class="badge ok">NEVER ACCESSED</span>` : h`<span class="badge info">ACCESSED ${c.allowed}</span>`}${c.allowedDelegated > 0 ? h` <span class="note">${c.allowedDelegated} through delegates</span>` : ''}${c.denied > 0 ? h` <span class="note">${c.denied} denied</span>` : ''}</td>`,
  )}</tr>
`,
)}</table>`
}
</section>
`
}
<section id="chain-verification">
<h2>Chain verification</h2>
<p>${v.ok ? h`<span class="badge ok">VERIFIED</span>` : h`<span class="badge bad">FAILED: ${v.fault} at seq ${v.firstBadSeq}</span>`} ${prose(v.message)}</p>
<table>
<tr><th>Entries checked</th><td>${v.checked}</td></tr>
<tr><th>Chain head</th><td>seq ${v.headSeq}</td></tr>
<tr><th>Report covers</th><td>seq ${r.coverage.fromSeq} to ${r.coverage.verifiedThroughSeq} (the verified entries)</td></tr>
<tr><th>Checkpoint</th><td>${
    v.checkpoint
      ? h`seq ${v.checkpoint.seq}, signed <span class="nw">${v.checkpoint.time}</span> by key ${id(v.checkpoint.keyId)}<br>head ${id(v.checkpoint.headHash)}`
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
<thead><tr><th>Domain</th><th>Sensitivity</th><th>PII fields</th><th>Retention</th><th>Description</th><th>Resource pattern</th></tr></thead>
${r.dataClassifications.map(
  (d) =>
    h`<tr><td>${id(d.domain)}</td><td><span class="badge ${d.sensitivity === 'restricted' ? 'bad' : d.sensitivity === 'confidential' ? 'warn' : 'ok'}">${d.sensitivity}</span></td><td>${d.piiFields.map((p, i) => h`${i > 0 ? ', ' : ''}${id(p)}`)}</td><td class="n">${d.retentionDays > 0 ? `${d.retentionDays} days` : 'N/A'}</td><td>${prose(d.description)}</td><td>${id(d.pattern)}</td></tr>
`,
)}</table>`
}
</section>

<section id="signature">
<h2>Signature</h2>
${
  signing && v.checkpoint
    ? h`<p>Signed by the auditor's key ${id(signing.keyId)} at <span class="nw">${new Date(signing.issuedAt * 1000).toISOString()}</span>, bound to the checkpoint at seq ${v.checkpoint.seq} (head ${id(v.checkpoint.headHash)}). The signature covers this page and the report's content; both are embedded at the end of the page.</p>
<p class="note">Verify offline: <code>authority audit keys --json &gt; auditor-keys.json</code>, then <code>authority compliance verify THIS-FILE --keys auditor-keys.json</code>. One changed byte fails it.</p>`
    : h`<p><span class="badge warn">UNSIGNED</span> ${v.checkpoint ? 'this rendering was not signed' : 'the tenant had no signed checkpoint when the report was made; a report is signed bound to one'}.</p>`
}
</section>

<section id="report-metadata">
<h2>Report metadata</h2>
<table>
<tr><th>Report type</th><td>${r.reportType} (format ${r.formatVersion})</td></tr>
<tr><th>Tenant</th><td>${id(r.tenant)}</td></tr>
<tr><th>Policy</th><td>${r.policy ? h`version ${r.policy.version} (${id(r.policy.policyVersion)}), ${prose(r.policy.organization)}, frameworks ${prose(r.policy.complianceFrameworks.join(', ') || 'none')}, sha256 ${id(r.policy.sha256)}` : 'none'}</td></tr>
<tr><th>Generated at</th><td>${r.generatedAt}</td></tr>
</table>
</section>
</main>
${new Html(REPORT_SIGNATURE_SLOT_OPEN)}${new Html(REPORT_SIGNATURE_SLOT_CLOSE)}
</body>
</html>
`;
  return doc.value;
}
