// Policy parsing on the worst documents a tenant admin can upload (each at most 1 MiB), one JSON
// line per case on stdout: wall time (median, min, max of the runs) and CPU time of one
// parsePolicy call, whether it was accepted or refused (and the first issue), plus a baseline
// measured in the same run (JSON.parse of 1 MiB) so figures from different machines compare.
//
//   policy.parse.worst_flow_mapping_1mib   `{k0: 0, k1: 1, ...}`: about a minute before the fix
//   policy.parse.classifications_30k       30,000 data_classifications (1 MB): 6-16 s before
//   policy.parse.classifications_10k       10,000 (the per-mapping limit): accepted
//   policy.parse.flow_list_1mib            `[a,a,a,...]`: 500,000 items
//   policy.parse.blank_lines_1mib          one token per byte
//   policy.parse.stray_tokens_1mib         `]]]]...`: a YAML error per byte
//   policy.parse.deep_compact_1mib         `- - - - ...`
//   policy.parse.dense_accepted            the costliest accepted shape found: short list items up to the token budget
//   policy.parse.realistic_1mib            5,800 agents with descriptions, scopes and resources
//
//   POLICY_BENCH_RUNS   runs per case after one warm-up (default 5); each case stops after 20 s
import { bench } from '@authority/test-helpers';
import { Lexer } from 'yaml';
import { DEFAULT_POLICY_LIMITS, PolicyValidationError, parsePolicy } from '../src/policy';
import { classifications, fill as fillTo } from '../test/policy-documents';

// One JSON line per result with the machine it ran on, as every benchmark prints (test-helpers).
const { note, report, round } = bench;

const MiB = 1024 * 1024;
const RUNS = Math.max(1, Number(process.env['POLICY_BENCH_RUNS'] ?? 5) || 5);
const CASE_BUDGET_MS = 20_000;
/** A document of at most 1 MiB (test/policy-documents.ts). */
const fill = (head: string, unit: (i: number) => string, tail: string) => fillTo(head, unit, tail, MiB);

function lexemes(text: string): number {
  let n = 0;
  for (const _ of new Lexer().lex(text)) n++;
  return n;
}

/** Data classifications with 24 one-letter pii_fields each, as many as fit in the token budget. */
function denseAccepted(): string {
  const line = (i: number) => `  d${i}: {pii_fields: [a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x]}\n`;
  const perLine = lexemes(line(1000)) - 1; // less the document-start lexeme
  const n = Math.min(
    DEFAULT_POLICY_LIMITS.maxMappingKeys,
    Math.floor((DEFAULT_POLICY_LIMITS.maxTokens * 0.98) / perLine),
  );
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(line(i));
  return `organization: A\ndata_classifications:\n${lines.join('')}`;
}

function realistic(): string {
  const lines = ['organization: A', 'agents:'];
  for (let i = 0; i < 5800; i++) {
    lines.push(
      `  agent-${i}:`,
      '    description: reads the finance vault for the monthly close',
      '    scopes: [vault:finance:read, vault:finance:list]',
      `    resources: ["slos://vaults/finance/${i}/*"]`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const CASES: { name: string; what: string; text: () => string }[] = [
  {
    name: 'policy.parse.worst_flow_mapping_1mib',
    what: 'a 1 MiB flow mapping {k0: 0, k1: 1, ...} (75,000 keys); refused: too many keys',
    text: () => fill('{', (i) => `k${i}: ${i}, `, 'z: 0}\n'),
  },
  {
    name: 'policy.parse.classifications_30k',
    what: '30,000 data_classifications (1 MB); refused: too many keys',
    text: () => classifications(30_000),
  },
  {
    name: 'policy.parse.classifications_10k',
    what: '10,000 data_classifications (the per-mapping limit); accepted',
    text: () => classifications(10_000),
  },
  {
    name: 'policy.parse.flow_list_1mib',
    what: 'a 1 MiB flow list [a,a,a,...] under compliance_frameworks; refused: too many items',
    text: () => fill('organization: A\ncompliance_frameworks: [', () => 'a,', 'a]\n'),
  },
  {
    name: 'policy.parse.blank_lines_1mib',
    what: '1 MiB of blank lines after organization (one token per byte); refused: token budget',
    text: () => fill('organization: A\n', () => '\n', ''),
  },
  {
    name: 'policy.parse.stray_tokens_1mib',
    what: '1 MiB of ] after organization (a YAML error per byte); refused',
    text: () => fill('organization: A\n', () => ']', '\n'),
  },
  {
    name: 'policy.parse.deep_compact_1mib',
    what: '1 MiB of "- - - - ..." (compact nesting); refused by the pre-scan',
    text: () => fill('', () => '- ', 'x\n'),
  },
  {
    name: 'policy.parse.dense_accepted',
    what: 'data_classifications with 24 one-letter pii_fields each, up to 98% of the token budget; accepted (the costliest accepted shape found)',
    text: denseAccepted,
  },
  {
    name: 'policy.parse.realistic_1mib',
    what: '5,800 agents with a description, two scopes and a resource each (just under 1 MiB); accepted',
    text: realistic,
  },
];

function once(text: string): { wallMs: number; cpuMs: number; outcome: string } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let outcome: string;
  try {
    parsePolicy(text);
    outcome = 'accepted';
  } catch (err) {
    if (!(err instanceof PolicyValidationError)) throw err;
    const first = err.issues[0];
    outcome = `refused (${err.issues.length} issues): ${first?.line}:${first?.column} ${first?.path || '(document)'}: ${first?.message.slice(0, 120)}`;
  }
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000, outcome };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function baselineJsonParseMs(): number {
  const items: unknown[] = [];
  let size = 2;
  for (let i = 0; size < MiB; i++) {
    const item = { domain: `d${i}`, sensitivity: 'internal', pii_fields: ['a', 'b'] };
    size += JSON.stringify(item).length + 1;
    items.push(item);
  }
  const text = JSON.stringify(items);
  JSON.parse(text);
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    JSON.parse(text);
    times.push(performance.now() - t0);
  }
  return round(median(times), 2);
}

function main(): void {
  const baseline = baselineJsonParseMs();
  for (const c of CASES) {
    const text = c.text();
    note(`${c.name}: ${text.length} bytes`);
    once(text); // warm-up
    const runs: { wallMs: number; cpuMs: number; outcome: string }[] = [];
    const start = performance.now();
    while (runs.length < RUNS && performance.now() - start < CASE_BUDGET_MS) runs.push(once(text));
    const wall = runs.map((r) => r.wallMs);
    report({
      name: c.name,
      what: c.what,
      unit: 'ms',
      value: round(median(wall)),
      min_ms: round(Math.min(...wall)),
      max_ms: round(Math.max(...wall)),
      cpu_ms: round(median(runs.map((r) => r.cpuMs))),
      runs: runs.length,
      bytes: Buffer.byteLength(text, 'utf8'),
      outcome: runs[0]?.outcome,
      baseline: { json_parse_1mib_ms: baseline },
      ratio_vs_json_parse: round(median(wall) / baseline, 1),
    });
  }
}

main();
