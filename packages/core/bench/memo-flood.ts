// The link memo under a flood of distinct valid chains, and how well its byte accounting bounds
// the heap it really holds.
//   memo.retained.<shape>: heap retained per memoized link (heapUsed delta after a full GC,
//     nothing evicted) against the bytes the memo charged for it, for three shapes of link:
//       typical        roots like the enforcer's memory bench (1 scope, 1 resource, 100 agents)
//       large-distinct ~3.9 KB children with 34 distinct long resources each (the flood)
//       many-small     children with 64 scopes, 64 resources, 64 context fields and 256 denied
//                      resources, all short (the most heap per byte of link)
//     `charge_over_heap` ≥ 1 means the estimate bounds what the memo holds.
//   memo.flood.bounded: one tenant verifies N distinct ~3.9 KB children through a memo with the
//     default budget (64 MiB) and tenant share (25 %) while another tenant has 100 hot tokens:
//     links/s (each costs two Ed25519 verifications: link and seal), the memo's bytes, the heap
//     after a full GC, and whether the hot tokens are still memo hits.
// No infrastructure needed: `node packages/core/dist/bench/memo-flood.js` (about a minute).
// BENCH_FLOOD_LINKS (default 20,000) sets N.
import { bench } from '@authority/test-helpers';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { cryptoReady, declareUnconstrained, ed25519KeyPairFromSeed, type Ed25519KeyPair } from '../src';
import {
  DEFAULT_MEMO_BYTES,
  DEFAULT_MEMO_TENANT_SHARE,
  LinkMemo,
  deriveChild,
  mintRoot,
  offlineSigner,
  verifyEnvelope,
  type ChildParams,
  type MintedToken,
} from '../src/envelope';

// One JSON line per result with the machine it ran on, as every benchmark prints (test-helpers).
const { report, round } = bench;

const NOW = Math.floor(Date.now() / 1000);
const FLOOD = Number(process.env['BENCH_FLOOD_LINKS'] ?? 20_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

interface Tenant {
  tenant: string;
  key: Ed25519KeyPair;
}

function tenant(name: string, seed: number): Tenant {
  return { tenant: name, key: ed25519KeyPairFromSeed(new Uint8Array(32).fill(seed)) };
}

function resolver(...tenants: Tenant[]) {
  return (t: string, kid: string) => (kid === 'k1' ? tenants.find((x) => x.tenant === t)?.key.publicKey : undefined);
}

const CONTEXT = Array.from({ length: 64 }, (_, i) => `f${i}`);

function root(t: Tenant, agent: string, wide = false): MintedToken {
  return mintRoot(
    {
      tenant: t.tenant,
      agent,
      scopes: wide ? ['*:*'] : ['vault:finance:read'],
      resources: wide ? ['slos://v/*'] : ['slos://vaults/finance/*'],
      context: wide ? CONTEXT : [],
      constraints: declareUnconstrained(),
      ttlSeconds: 3600,
    },
    { secretKey: t.key.secretKey, kid: 'k1', now: NOW },
  );
}

/** A distinct ~3.9 KB child: 34 resources of 63 characters. */
function largeChild(parent: MintedToken, i: number): MintedToken {
  const resources = Array.from(
    { length: 34 },
    (_, k) => `slos://vaults/finance/${String(i).padStart(8, '0')}-${String(k).padStart(3, '0')}-${'x'.repeat(28)}`,
  );
  return deriveChild(parent.token, { resources }, offlineSigner(parent.holderSecretKey!), NOW);
}

/** A distinct child made of as many short strings as a 4 KiB link holds (about 260). */
function manySmallChild(parent: MintedToken, i: number): MintedToken {
  const tag = i.toString(36);
  const params: ChildParams = {
    scopes: Array.from({ length: 64 }, (_, k) => `${tag}:${k}`),
    resources: Array.from({ length: 64 }, (_, k) => `slos://v/${tag}${k}`),
    context: CONTEXT,
    constraints: {
      ...declareUnconstrained(),
      unconstrained: false,
      deniedResources: Array.from({ length: 40 }, (_, k) => `slos://v/${k}`),
    },
  };
  return deriveChild(parent.token, params, offlineSigner(parent.holderSecretKey!), NOW);
}

function retained(shape: string, make: (i: number) => MintedToken, n: number, owner: Tenant): void {
  const tokens = Array.from({ length: n }, (_, i) => Buffer.from(make(i).token, 'latin1').toString('latin1'));
  const linkChars = tokens.reduce((sum, t) => sum + (t.split('~').at(-2)?.length ?? 0), 0) / n;
  const memo = new LinkMemo(undefined, { maxBytes: 1024 * 1024 * 1024, tenantShare: 1, textIndex: false });
  const opts = { resolveKey: resolver(owner), now: NOW, isRevoked: () => false, memo };
  // The parents first (they are shared by the children and not part of the figure).
  verifyEnvelope(tokens[0]!, opts);
  const parentsSize = memo.size - 1;
  memo.clear();
  const before = heapUsed();
  for (const t of tokens) verifyEnvelope(t, opts);
  const after = heapUsed();
  const entries = memo.size - parentsSize;
  const heapPerLink = (after - before) / entries;
  const chargePerLink = memo.bytes / entries;
  report({
    name: `memo.retained.${shape}`,
    links: entries,
    link_chars: Math.round(linkChars),
    heap_bytes_per_link: Math.round(heapPerLink),
    charged_bytes_per_link: Math.round(chargePerLink),
    charge_over_heap: round(chargePerLink / heapPerLink, 2),
    what: 'heapUsed delta after a full GC per memoized link (nothing evicted, no text index) vs the bytes the memo charged for it',
  });
  if (tokens.length < 0) console.log(tokens.length); // keep the tokens alive until after the measurement
}

function flood(n: number): void {
  const acme = tenant('acme', 1);
  const globex = tenant('globex', 2);
  const memo = new LinkMemo();
  const opts = { resolveKey: resolver(acme, globex), now: NOW, isRevoked: () => false, memo };
  const hot = Array.from({ length: 100 }, (_, i) => root(globex, `hot-${i}`).token);
  for (const t of hot) verifyEnvelope(t, opts);
  const parent = root(acme, 'flooder');
  const children: string[] = [];
  // Flat copies: a token built by concatenation is flattened (a copy kept with it) when first read.
  for (let i = 0; i < n; i++) children.push(Buffer.from(largeChild(parent, i).token, 'latin1').toString('latin1'));
  const before = heapUsed();
  const start = performance.now();
  let maxBytes = 0;
  for (const c of children) {
    verifyEnvelope(c, opts);
    if (memo.bytes > maxBytes) maxBytes = memo.bytes;
  }
  const ms = performance.now() - start;
  const after = heapUsed();
  const hits = hot.filter((t) => verifyEnvelope(t, opts).memoHits === 1).length;
  const entries = memo.size;
  const bytes = memo.bytes;
  const flooderBytes = memo.tenantBytes('acme');
  // What the memo itself held: the heap it frees when cleared.
  memo.clear();
  const cleared = heapUsed();
  report({
    name: 'memo.flood.bounded',
    distinct_links: n,
    link_chars: children[0]!.split('~').at(-2)!.length,
    links_per_sec: Math.round((n * 1000) / ms),
    memo_budget_bytes: DEFAULT_MEMO_BYTES,
    tenant_share: DEFAULT_MEMO_TENANT_SHARE,
    memo_entries: entries,
    memo_bytes: bytes,
    memo_heap_bytes: after - cleared,
    memo_bytes_max_seen: maxBytes,
    flooder_bytes: flooderBytes,
    evictions: memo.stats.evictions,
    heap_delta_mb: round((after - before) / 1e6, 1),
    heap_used_mb: round(after / 1e6, 1),
    other_tenant_hot_hits: `${hits}/${hot.length}`,
    within_budget: maxBytes <= DEFAULT_MEMO_BYTES,
  });
  if (children.length < 0) console.log(children.length);
}

async function main(): Promise<void> {
  await cryptoReady();
  const acme = tenant('acme', 1);
  retained('typical', (i) => root(acme, `agent-${i % 100}`), 20_000, acme);
  const largeParent = root(acme, 'flooder');
  retained('large-distinct', (i) => largeChild(largeParent, i), 5_000, acme);
  const wideParent = root(acme, 'wide', true);
  retained('many-small', (i) => manySmallChild(wideParent, i), 2_000, acme);
  flood(FLOOD);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
