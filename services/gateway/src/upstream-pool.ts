// The budget of per-agent upstream connections (`sessions: per-agent`). Each one is a process of
// its own (stdio) or a connection (HTTP), so it is the costliest thing a session can make the
// gateway create. The proxy opens one only after the enforcer ALLOWED a call of the session's
// caller (so signature, seal or proof, audience, expiry and revocation were verified) and only
// through this pool: at most `perAgent` per (tenant, agent), `perTenant` per tenant and `total`
// overall, counted over every session; beyond, the open is refused, never queued. A connection
// with no request in flight and no subscription for `idleMs` is closed (the next allowed call
// opens it again).

export interface PoolLimits {
  perAgent: number;
  perTenant: number;
  total: number;
  idleMs: number;
}

/** Which bound refused an open, and how full it was. */
export interface PoolRefusal {
  limit: 'per_agent' | 'per_tenant' | 'total';
  held: number;
  max: number;
}

/** One open connection's place in the budget. */
export interface PoolLease {
  /** Runs `fn` with the connection counted busy (not closed while idle sweeps run). */
  hold<T>(fn: () => Promise<T>): Promise<T>;
  /** Gives the place back (idempotent). */
  release(): void;
}

interface Entry {
  tenant: string;
  agent: string;
  lastUsed: number;
  active: number;
  /** True while something other than a request keeps the connection in use (a subscription). */
  pinned: () => boolean;
  /** Closes the connection; the owner releases the lease. */
  close: () => Promise<void>;
  released: boolean;
}

const key = (tenant: string, agent: string) => `${tenant.length}:${tenant}:${agent}`;

export class UpstreamPool {
  private readonly entries = new Set<Entry>();
  private readonly perAgent = new Map<string, number>();
  private readonly perTenant = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limits: PoolLimits,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Open connections. */
  get size(): number {
    return this.entries.size;
  }

  /** Open connections of one agent (all its sessions). */
  heldBy(tenant: string, agent: string): number {
    return this.perAgent.get(key(tenant, agent)) ?? 0;
  }

  /**
   * A place for a new connection of (tenant, agent) (both verified by the enforcer), or which
   * bound refuses it. `close` is how an idle sweep closes it.
   */
  acquire(
    tenant: string,
    agent: string,
    conn: { close: () => Promise<void>; pinned?: () => boolean },
  ): PoolLease | PoolRefusal {
    const a = key(tenant, agent);
    const heldAgent = this.perAgent.get(a) ?? 0;
    if (heldAgent >= this.limits.perAgent) return { limit: 'per_agent', held: heldAgent, max: this.limits.perAgent };
    const heldTenant = this.perTenant.get(tenant) ?? 0;
    if (heldTenant >= this.limits.perTenant)
      return { limit: 'per_tenant', held: heldTenant, max: this.limits.perTenant };
    if (this.entries.size >= this.limits.total)
      return { limit: 'total', held: this.entries.size, max: this.limits.total };
    const entry: Entry = {
      tenant,
      agent,
      lastUsed: this.clock(),
      active: 0,
      pinned: conn.pinned ?? (() => false),
      close: conn.close,
      released: false,
    };
    this.entries.add(entry);
    this.perAgent.set(a, heldAgent + 1);
    this.perTenant.set(tenant, heldTenant + 1);
    const release = () => {
      if (entry.released) return;
      entry.released = true;
      this.entries.delete(entry);
      decrement(this.perAgent, a);
      decrement(this.perTenant, tenant);
    };
    return {
      hold: async <T>(fn: () => Promise<T>): Promise<T> => {
        entry.active++;
        entry.lastUsed = this.clock();
        try {
          return await fn();
        } finally {
          entry.active--;
          entry.lastUsed = this.clock();
        }
      },
      release,
    };
  }

  /** Closes every connection idle for `idleMs` (no request in flight, not pinned); returns how many. */
  async sweep(): Promise<number> {
    const cutoff = this.clock() - this.limits.idleMs;
    const idle = [...this.entries].filter((e) => e.active === 0 && !e.pinned() && e.lastUsed <= cutoff);
    await Promise.all(idle.map((e) => e.close().catch(() => undefined)));
    return idle.length;
  }

  /** Sweeps in the background (every half idle period, 1 s to 60 s). */
  start(): void {
    if (this.timer !== undefined) return;
    const every = Math.max(1000, Math.min(60_000, Math.floor(this.limits.idleMs / 2)));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function decrement(map: Map<string, number>, k: string): void {
  const n = (map.get(k) ?? 0) - 1;
  if (n <= 0) map.delete(k);
  else map.set(k, n);
}

/** Whether an acquire was refused. */
export function isRefusal(x: PoolLease | PoolRefusal): x is PoolRefusal {
  return 'limit' in x;
}
