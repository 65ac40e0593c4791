// PolicyView: the current policy of every tenant, as replayed from the compacted `policies` topic.
// Versions of one tenant may sit on different partitions, so the view keeps the highest version
// seen (a tombstone version removes the policy), whatever order they arrive in.
import { parsePolicy, type Policy } from '@authority/core';
import { pb } from '@authority/proto';

export interface CurrentPolicy {
  tenant: string;
  version: number;
  sha256: string;
  policy: Policy;
}

export class PolicyView {
  private readonly latestVersion = new Map<string, number>();
  private readonly current = new Map<string, CurrentPolicy>();
  private readonly listeners = new Set<(tenant: string, version: number) => void>();

  /** Applies a version; returns an error message when a (never expected) invalid policy was skipped. */
  apply(e: pb.PolicyVersionEvent): string | undefined {
    const version = Number(e.version);
    if (!e.tenant || !Number.isSafeInteger(version) || version <= (this.latestVersion.get(e.tenant) ?? 0)) return;
    this.latestVersion.set(e.tenant, version);
    if (e.deleted) {
      this.current.delete(e.tenant);
    } else {
      try {
        this.current.set(e.tenant, { tenant: e.tenant, version, sha256: e.sha256, policy: parsePolicy(e.yaml) });
      } catch (err) {
        // The policy service never publishes an invalid policy; if one appears anyway, keep the
        // last good version rather than dropping to "no policy" (which would loosen enforcement).
        return `policy ${e.tenant} v${version} is invalid and was skipped: ${(err as Error).message}`;
      }
    }
    for (const l of this.listeners) l(e.tenant, version);
    return undefined;
  }

  get(tenant: string): CurrentPolicy | undefined {
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
}
