// PolicyView: the current policy of every tenant, as replayed from the compacted `policies` topic.
// Versions of one tenant may sit on different partitions, so the view keeps the highest version
// seen (a tombstone version removes the policy), whatever order they arrive in.
//
// The topic keeps every version (its key is `<tenant>/<version>`), so a replay delivers all of them
// although only the newest valid one per tenant is ever used. Parsing is therefore lazy: a
// tenant's versions are queued unparsed until its policy is first read (or the queue holds more
// than MAX_PENDING_CHARS of YAML), and then only the newest is parsed, falling back to older ones
// only if it is invalid. Once a tenant's policy has been read, each new version is parsed as it
// arrives, so `apply` reports a bad one to its caller straight away, as before.
import { parsePolicy, type Policy } from '@authority/core';
import { pb } from '@authority/proto';

export interface CurrentPolicy {
  tenant: string;
  version: number;
  sha256: string;
  policy: Policy;
}

interface PendingVersion {
  version: number;
  sha256: string;
  yaml: string;
}

/**
 * Most YAML (UTF-16 code units, about bytes) a tenant's queue of unparsed versions holds before the
 * newest is parsed anyway: bounds the memory of a long replay of a tenant nobody reads.
 */
export const MAX_PENDING_CHARS = 4 * 1024 * 1024;

export class PolicyView {
  private readonly latestVersion = new Map<string, number>();
  private readonly current = new Map<string, CurrentPolicy>();
  /** Versions newer than `current`, oldest first, not parsed yet. */
  private readonly pending = new Map<string, { versions: PendingVersion[]; chars: number }>();
  /** Tenants whose policy has been read: their new versions are parsed on arrival. */
  private readonly read = new Set<string>();
  private readonly listeners = new Set<(tenant: string, version: number) => void>();
  private readonly invalidListeners = new Set<(message: string) => void>();

  /**
   * Applies a version; returns an error message when a (never expected) invalid policy was skipped.
   * A version queued unparsed (see the top of this file) is reported once it is parsed: by the
   * `apply` that parses it, or else to the `onInvalid` listeners. Change listeners hear of every
   * newer version as it is applied, including a queued one later found invalid.
   */
  apply(e: pb.PolicyVersionEvent): string | undefined {
    const version = Number(e.version);
    if (!e.tenant || !Number.isSafeInteger(version) || version <= (this.latestVersion.get(e.tenant) ?? 0)) return;
    this.latestVersion.set(e.tenant, version);
    let problems: string[] = [];
    if (e.deleted) {
      this.current.delete(e.tenant);
      this.pending.delete(e.tenant);
    } else if (this.read.has(e.tenant)) {
      const problem = this.parseVersion(e.tenant, { version, sha256: e.sha256, yaml: e.yaml });
      // The policy service never publishes an invalid policy; if one appears anyway, keep the
      // last good version rather than dropping to "no policy" (which would loosen enforcement).
      if (problem !== undefined) return problem;
    } else {
      let queue = this.pending.get(e.tenant);
      if (queue === undefined) this.pending.set(e.tenant, (queue = { versions: [], chars: 0 }));
      queue.versions.push({ version, sha256: e.sha256, yaml: e.yaml });
      queue.chars += e.yaml.length;
      if (queue.chars > MAX_PENDING_CHARS) problems = this.settle(e.tenant);
    }
    for (const l of this.listeners) l(e.tenant, version);
    return problems.length === 0 ? undefined : problems.join('\n');
  }

  get(tenant: string): CurrentPolicy | undefined {
    this.read.add(tenant);
    if (this.pending.has(tenant)) {
      for (const problem of this.settle(tenant)) for (const l of this.invalidListeners) l(problem);
    }
    return this.current.get(tenant);
  }

  /** Highest version seen for the tenant (tombstones included); 0 when none. */
  versionOf(tenant: string): number {
    return this.latestVersion.get(tenant) ?? 0;
  }

  onChange(listener: (tenant: string, version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hears of invalid versions skipped when a queued version is parsed on a read (not by `apply`). */
  onInvalid(listener: (message: string) => void): () => void {
    this.invalidListeners.add(listener);
    return () => this.invalidListeners.delete(listener);
  }

  /** Makes the newest valid queued version current (older queued ones are dropped unparsed). */
  private settle(tenant: string): string[] {
    const queue = this.pending.get(tenant);
    this.pending.delete(tenant);
    const problems: string[] = [];
    const versions = queue?.versions ?? [];
    for (let i = versions.length - 1; i >= 0; i--) {
      const problem = this.parseVersion(tenant, versions[i] as PendingVersion);
      if (problem === undefined) break;
      problems.unshift(problem);
    }
    return problems;
  }

  private parseVersion(tenant: string, v: PendingVersion): string | undefined {
    try {
      this.current.set(tenant, { tenant, version: v.version, sha256: v.sha256, policy: parsePolicy(v.yaml) });
      return undefined;
    } catch (err) {
      return `policy ${tenant} v${v.version} is invalid and was skipped: ${(err as Error).message}`;
    }
  }
}
