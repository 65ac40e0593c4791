// RevocationView: revoked envelope links and agent cut-offs, as replayed from the compacted
// `revocations` topic. The enforcer asks it on every check, so a revocation needs no cache eviction.
import { parseRecordKey } from '@authority/core';
import { pb } from '@authority/proto';

export class RevocationView {
  /** `<tenant>/<jti>` of revoked links → when (seconds; 0 when the event had no time). */
  private readonly jtis = new Map<string, number>();
  /** `<tenant>/<agent>` → seconds: every envelope issued to the agent at or before it is revoked. */
  private readonly agents = new Map<string, number>();

  apply(e: pb.RevocationEvent): void {
    if (!e.tenant) return;
    if (e.kind === pb.RevocationKind.JTI && e.jti) {
      const key = `${e.tenant}/${e.jti}`;
      // The first revocation's time is kept: a repeated one changes nothing.
      if (!this.jtis.has(key)) this.jtis.set(key, Number(e.revokedAt?.seconds ?? 0));
    }
    if (e.kind === pb.RevocationKind.AGENT && e.agentId && e.revokedBefore) {
      const key = `${e.tenant}/${e.agentId}`;
      const before = Number(e.revokedBefore.seconds);
      this.agents.set(key, Math.max(before, this.agents.get(key) ?? 0));
    }
  }

  /** A compaction tombstone (record key `<tenant>/jti/<jti>` or `<tenant>/agent/<agent>`). */
  applyTombstone(recordKey: string): void {
    const parsed = parseRecordKey(recordKey);
    if (parsed === undefined) return;
    const { tenant, kind: type, id } = parsed;
    if (type === 'jti') this.jtis.delete(`${tenant}/${id}`);
    if (type === 'agent') this.agents.delete(`${tenant}/${id}`);
  }

  isJtiRevoked(tenant: string, jti: string): boolean {
    return this.jtis.has(`${tenant}/${jti}`);
  }

  /** When the link was revoked by its own id (seconds since the epoch), or undefined when it was not. */
  jtiRevokedAt(tenant: string, jti: string): number | undefined {
    return this.jtis.get(`${tenant}/${jti}`);
  }

  /** Is the link `jti` (issued to `sub` at `iatSec`) revoked, by its own id or by an agent cut-off? */
  isRevoked(tenant: string, jti: string, sub: string, iatSec: number): boolean {
    if (this.jtis.has(`${tenant}/${jti}`)) return true;
    const cutoff = this.agents.get(`${tenant}/${sub}`);
    return cutoff !== undefined && iatSec <= cutoff;
  }

  get size(): number {
    return this.jtis.size + this.agents.size;
  }
}
