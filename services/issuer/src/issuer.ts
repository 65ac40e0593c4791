// The issuer's operations (after authentication and authorization, which server.ts does): tenants,
// credentials, keys, minting, delegation and revocation. Domain rules come from @authority/core;
// this file orders the I/O around them: validate → decide → publish and wait for the ack → answer.
// Size: one method per issuer operation, each a short validate → decide → publish → answer
// sequence; kept together so that one ordering rule is read in one place.
import { randomBytes } from 'node:crypto';
import {
  AuthorityError,
  checkMintAgainstPolicy,
  deriveChild,
  lineageProblem,
  isoTime,
  mintRoot,
  parseToken,
  sha256Hex,
  randomId,
  verifyEnvelopeFor,
  audiencesOf,
  type Constraints,
  type EnvelopeClaims,
  type MintedToken,
  type ParsedLink,
  type PolicyExcess,
} from '@authority/core';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, type Logger } from '@authority/platform';
import { createMessage, pb, timestampFromDate, timestampToGrpc, type Envelope, type PublicKey } from '@authority/proto';
import type { PolicyView, RevocationView } from '@authority/views';
import {
  binaryBytes,
  isDuplicateKey,
  type CredentialDoc,
  type CredentialKindName,
  type IssuerStore,
  type KeyDoc,
} from './adapters/mongo';
import type { IssuerEvents } from './adapters/kafka';
import type { AuditTrail } from './audit';
import type { Clock } from './clock';
import type { KeyManager, RetiredKey } from './keys';
import * as v from './validate';
import type { DelegateRequest__Output, MintRequest__Output } from '@authority/proto';

export interface IssuerOptions {
  store: IssuerStore;
  keys: KeyManager;
  events: IssuerEvents;
  audit: AuditTrail;
  clock: Clock;
  revocations: RevocationView;
  policies: PolicyView;
  logger: Logger;
  skewSeconds: number;
  maxDepth: number;
  maxTtlSeconds: number;
  issuerName?: string;
}

/** A minted or delegated envelope, and the holder's seed when the issuer generated the holder key. */
export interface IssuedEnvelope {
  envelope: Envelope;
  /**
   * The 32-byte Ed25519 seed of the generated holder key (expand with ed25519KeyPairFromSeed).
   * Returned once to the caller; never stored, logged or audited.
   */
  holderSecretKey?: Buffer;
}

export interface CreatedCredential {
  doc: CredentialDoc;
  /** Shown once. */
  secret: string;
}

export function publicKeyMessage(doc: KeyDoc): PublicKey {
  const key: PublicKey = {
    tenant: doc.tenant,
    keyId: doc.kid,
    publicKey: Buffer.from(binaryBytes(doc.publicKey)),
    status: doc.status,
    createdAt: timestampToGrpc(doc.createdAt),
  };
  if (doc.verifyUntil) key.verifyUntil = timestampToGrpc(doc.verifyUntil);
  if (doc.signedUntil) key.signedUntil = timestampToGrpc(doc.signedUntil);
  if (doc.compromised) key.compromised = true;
  return key;
}

/**
 * The envelope message of a freshly minted token, and the holder's seed when the issuer generated
 * the holder key. The 64-byte secret key core returned is wiped once its seed is copied out.
 */
function issued(minted: MintedToken, agentChain: readonly string[], kid: string): IssuedEnvelope {
  const envelope = envelopeMessage(minted.token, minted.claims, kid, minted.sealed, agentChain);
  const secret = minted.holderSecretKey;
  if (secret === undefined) return { envelope };
  const seed = Buffer.from(secret.subarray(0, 32));
  secret.fill(0);
  return { envelope, holderSecretKey: seed };
}

function envelopeMessage(
  token: string,
  claims: EnvelopeClaims,
  kid: string,
  sealed: boolean,
  agentChain: readonly string[],
): Envelope {
  return {
    token,
    jti: claims.jti,
    agentId: claims.sub,
    tenant: claims.tnt,
    notBefore: timestampToGrpc(new Date(claims.nbf * 1000)),
    expiresAt: timestampToGrpc(new Date(claims.exp * 1000)),
    depth: claims.dep,
    keyId: kid,
    sealed,
    agentChain: [...agentChain],
  };
}

/** Maps a policy excess (request-relative field of core) onto this API's field names. */
function policyField(field: string, grantField: string): string {
  if (field === 'agent') return 'agent_id';
  if (field === 'ttl_seconds') return 'ttl_seconds';
  if (field.startsWith('constraints.')) return `${grantField}.constraints_json.${field.slice('constraints.'.length)}`;
  return `${grantField}.${field}`;
}

export class Issuer {
  constructor(private readonly o: IssuerOptions) {}

  private async requireTenantExists(tenant: string): Promise<void> {
    if (!(await this.o.store.tenants.findOne({ _id: tenant })))
      throw new NotFoundError(`tenant '${tenant}' does not exist`, 'tenant');
  }

  // ------------------------------------------------------------------------------------------
  // Tenants and credentials.

  async createTenant(
    principal: string,
    tenantIn: string,
    displayNameIn: string,
  ): Promise<{ key: KeyDoc; admin: CreatedCredential }> {
    const tenant = v.tenantId(tenantIn);
    const displayName = v.optionalText(displayNameIn, 'display_name', 256);
    try {
      await this.o.store.tenants.insertOne({ _id: tenant, displayName, createdAt: this.o.clock.now() });
    } catch (err) {
      if (isDuplicateKey(err)) throw new AlreadyExistsError(`tenant '${tenant}' already exists`, 'tenant');
      throw err;
    }
    await this.o.audit.record({
      tenant,
      action: 'tenant.create',
      principal,
      resource: `tenant/${tenant}`,
      message: `tenant '${tenant}' created`,
    });
    const key = await this.o.keys.createFirstKey(tenant, principal);
    const admin = await this.createCredential(principal, tenant, 'ADMIN');
    return { key, admin };
  }

  async createCredential(principal: string, tenant: string, kind: CredentialKindName): Promise<CreatedCredential> {
    await this.requireTenantExists(tenant);
    const secret = randomBytes(32).toString('base64url');
    const doc: CredentialDoc = {
      _id: `cred-${randomId(12)}`,
      tenant,
      kind,
      secretSha256: sha256Hex(secret),
      revoked: false,
      published: false,
      createdAt: this.o.clock.now(),
      createdBy: principal,
    };
    await this.o.store.credentials.insertOne(doc);
    await this.o.events.publishCredential(doc);
    await this.o.store.credentials.updateOne({ _id: doc._id, revoked: false }, { $set: { published: true } });
    doc.published = true;
    await this.o.audit.record({
      tenant,
      action: 'credential.create',
      principal,
      resource: `credential/${doc._id}`,
      message: `${kind} credential '${doc._id}' created`,
    });
    return { doc, secret };
  }

  async revokeCredential(principal: string, tenant: string, credentialIdIn: string): Promise<void> {
    const id = v.identifier(credentialIdIn, 'credential_id');
    const doc = await this.o.store.credentials.findOne({ _id: id, tenant });
    if (!doc) throw new NotFoundError(`tenant '${tenant}' has no credential '${id}'`, 'credential_id');
    if (doc.revoked && doc.published) return; // idempotent
    const revokedAt = this.o.clock.now();
    await this.o.store.credentials.updateOne({ _id: id }, { $set: { revoked: true, revokedAt, published: false } });
    const revoked: CredentialDoc = { ...doc, revoked: true, revokedAt, published: false };
    await this.o.events.publishCredential(revoked);
    await this.o.store.credentials.updateOne({ _id: id }, { $set: { published: true } });
    await this.o.audit.record({
      tenant,
      action: 'credential.revoke',
      principal,
      resource: `credential/${id}`,
      message: `${doc.kind} credential '${id}' revoked`,
    });
  }

  /** Publishes credentials whose last state was not acknowledged (after a crash or Kafka outage). */
  async republishCredentials(): Promise<void> {
    for (const doc of await this.o.store.credentials.find({ published: false }).toArray()) {
      await this.o.events.publishCredential(doc);
      await this.o.store.credentials.updateOne({ _id: doc._id, revoked: doc.revoked }, { $set: { published: true } });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Keys.

  async rotateKey(principal: string, tenant: string): Promise<{ active: KeyDoc; previous?: KeyDoc }> {
    return this.o.keys.rotate(tenant, principal);
  }

  /** RetireKey: see KeyManager.retire. */
  async retireKey(
    principal: string,
    tenant: string,
    keyIdIn: string,
    compromised: boolean,
    reasonIn: string,
  ): Promise<RetiredKey> {
    const kid = v.identifier(keyIdIn, 'key_id');
    const reason = v.optionalText(reasonIn, 'reason', 1024);
    return this.o.keys.retire(tenant, kid, principal, { compromised, reason });
  }

  async listKeys(tenant: string): Promise<KeyDoc[]> {
    await this.requireTenantExists(tenant);
    return this.o.keys.list(tenant);
  }

  // ------------------------------------------------------------------------------------------
  // Envelopes.

  /** POLICY_DENIED (audited as a DENY) when the tenant has a policy and the request exceeds it. */
  private async enforcePolicy(
    principal: string,
    tenant: string,
    action: 'envelope.mint' | 'envelope.delegate',
    actor: { agent: string; jtiChain: readonly string[]; agentChain: readonly string[] },
    policyAgents: readonly string[],
    bounds: { scopes: string[]; resources: string[]; constraints: Constraints; ttlSeconds: number },
    grantField: string,
  ): Promise<string> {
    const current = this.o.policies.get(tenant);
    if (current === undefined) return '';
    const version = String(current.version);
    let excess: PolicyExcess | undefined;
    for (const agent of policyAgents) {
      excess = checkMintAgainstPolicy(current.policy, agent, bounds);
      if (excess !== undefined) break;
    }
    if (excess === undefined) return version;
    const field = policyField(excess.field, grantField);
    const message = `${field}: ${excess.message}`;
    await this.o.audit.record({
      tenant,
      action,
      principal,
      agentId: actor.agent,
      jtiChain: actor.jtiChain,
      agentChain: actor.agentChain,
      decision: 'DENY',
      reason: 'POLICY_DENIED',
      message,
      policyVersion: version,
    });
    throw new AuthorityError('POLICY_DENIED', message, field);
  }

  /**
   * Mint: a root envelope bound to the holder key given (an unsealed chain the holder seals), or to
   * a key pair generated here (a sealed token, and the pair's seed returned once).
   */
  async mint(principal: string, req: MintRequest__Output): Promise<IssuedEnvelope> {
    const tenant = req.tenant;
    const agent = v.identifier(req.agentId, 'agent_id');
    const g = v.grant(req.grant, 'grant', { requireConstraints: true });
    const constraints = g.constraints as Constraints;
    const ttl = v.ttlSeconds(req.ttlSeconds);
    const holderKey = v.holderKey(req.holderPublicKey, 'holder_public_key');
    const audience = v.audience(req.audience);
    await this.requireTenantExists(tenant);

    const policyVersion = await this.enforcePolicy(
      principal,
      tenant,
      'envelope.mint',
      { agent, jtiChain: [], agentChain: [] },
      [agent],
      { scopes: g.scopes, resources: g.resources, constraints, ttlSeconds: ttl },
      'grant',
    );
    const signer = await this.o.keys.activeSigner(tenant);
    const now = this.o.clock.nowSec();
    await this.o.keys.recordSigning(tenant, signer.kid, now + ttl);
    const minted = mintRoot(
      {
        tenant,
        agent,
        scopes: g.scopes,
        resources: g.resources,
        context: g.context,
        constraints,
        ttlSeconds: ttl,
        ...(holderKey ? { holderKey } : {}),
        ...(audience ? { audience } : {}),
        ...(this.o.issuerName ? { issuer: this.o.issuerName } : {}),
      },
      { secretKey: signer.secretKey, kid: signer.kid, now },
    );
    await this.o.audit.record({
      tenant,
      action: 'envelope.mint',
      principal,
      agentId: agent,
      jtiChain: [minted.claims.jti],
      agentChain: [agent],
      resource: minted.claims.res.join(','),
      message: `root envelope '${minted.claims.jti}' minted for agent '${agent}' with key '${signer.kid}'${minted.sealed ? ', sealed with a holder key generated by the issuer' : ", bound to the caller's holder key"}`,
      policyVersion,
      detail: {
        case: 'issuance',
        value: createMessage(pb.IssuanceDetailSchema, {
          jti: minted.claims.jti,
          scopes: minted.claims.scp,
          resources: minted.claims.res,
          expiresAt: timestampFromDate(new Date(minted.claims.exp * 1000)),
          depth: 0,
          keyId: signer.kid,
        }),
      },
    });
    return issued(minted, [agent], signer.kid);
  }

  /**
   * Verifies a token of `tenant` completely, as an enforcer would (signatures with the tenant's
   * keys, time, revocation, chain rules) and requires its holder's seal: only the holder of the
   * parent's leaf key can have it delegated (PROOF_REQUIRED without a seal, INVALID_PROOF for a
   * seal that does not verify). Audience: a token restricted to audiences is verified on behalf of
   * the narrowest one it names (the issuer is not an audience itself).
   */
  private async verifyToken(
    tenant: string,
    token: string,
  ): Promise<{ links: readonly ParsedLink[]; jtis: readonly string[] }> {
    let links: ParsedLink[];
    try {
      links = parseToken(token);
    } catch (err) {
      if (err instanceof AuthorityError)
        throw new AuthorityError(err.reason, `parent_token: ${err.message}`, 'parent_token');
      throw err;
    }
    const rootTenant = (links[0] as ParsedLink).claims.tnt;
    if (rootTenant !== tenant) {
      throw new AuthorityError(
        'TENANT_MISMATCH',
        `parent_token belongs to tenant '${rootTenant}', not '${tenant}'`,
        'parent_token',
      );
    }
    let audience: string | undefined;
    for (let i = links.length - 1; i >= 0 && audience === undefined; i--)
      audience = audiencesOf((links[i] as ParsedLink).claims)[0];
    const resolve = await this.o.keys.verificationKeys(tenant);
    const now = this.o.clock.nowSec();
    try {
      const verified = verifyEnvelopeFor(
        token,
        {
          resolveKey: (t, kid) => (t === tenant ? resolve(kid, now) : undefined),
          now,
          isRevoked: (jti, sub, iat) => this.o.revocations.isRevoked(tenant, jti, sub, iat),
          skewSeconds: this.o.skewSeconds,
          maxDepth: this.o.maxDepth,
          ...(audience !== undefined ? { audience } : {}),
        },
        tenant,
      );
      return { links: verified.links, jtis: verified.jtis };
    } catch (err) {
      if (err instanceof AuthorityError)
        throw new AuthorityError(err.reason, `parent_token: ${err.message}`, err.field ?? 'parent_token');
      throw err;
    }
  }

  /**
   * Delegate: a narrower child of a SEALED parent for the parent's agent or an agent under it
   * (`<parent>/<name>`), bound to the new holder's key as in Mint.
   */
  async delegate(principal: string, req: DelegateRequest__Output): Promise<IssuedEnvelope> {
    const tenant = req.tenant;
    if (req.parentToken === '') throw new InvalidArgumentError('parent_token', 'parent_token: required');
    const agentIn = req.agentId === '' ? undefined : v.identifier(req.agentId, 'agent_id');
    const g = req.grant === null ? undefined : v.grant(req.grant, 'grant', { requireConstraints: false });
    const ttl = req.ttlSeconds === 0 ? undefined : v.ttlSeconds(req.ttlSeconds);
    const holderKey = v.holderKey(req.holderPublicKey, 'holder_public_key');
    await this.requireTenantExists(tenant);

    const { links, jtis } = await this.verifyToken(tenant, req.parentToken);
    const parent = (links[links.length - 1] as ParsedLink).claims;
    const parentConstraints = (links[links.length - 1] as ParsedLink).constraints;
    const agent = agentIn ?? parent.sub;
    const parentPath = links.map((l) => l.claims.sub);
    const deny = async (err: AuthorityError, policyVersion?: string): Promise<never> => {
      await this.o.audit.record({
        tenant,
        action: 'envelope.delegate',
        principal,
        agentId: agent,
        jtiChain: jtis,
        agentChain: parentPath,
        decision: 'DENY',
        reason: err.reason,
        message: err.message,
        ...(policyVersion !== undefined ? { policyVersion } : {}),
      });
      throw err;
    };
    // Attribution first (core enforces it again when deriving): whatever the grant, a child can only
    // be booked to its parent's agent or an agent under it.
    const lineage = lineageProblem(parent.sub, agent);
    if (lineage !== undefined) await deny(new AuthorityError('CHAIN_VIOLATION', `agent_id ${lineage}`, 'sub'));
    const now = this.o.clock.nowSec();
    const nbf = Math.max(now, parent.nbf);
    if (ttl !== undefined && nbf + ttl > parent.exp) {
      throw new AuthorityError(
        'CHAIN_VIOLATION',
        `ttl_seconds ${ttl} would end the child at ${isoTime(nbf + ttl)}, after its parent's exp ${isoTime(parent.exp)} (at most ${parent.exp - nbf} s remain): a child cannot outlive its parent`,
        'exp',
      );
    }
    const exp = ttl === undefined ? parent.exp : nbf + ttl;
    const scopes = g?.scopes ?? [...parent.scp];
    const resources = g?.resources ?? [...parent.res];
    const constraints = g?.constraints ?? parentConstraints;
    // The root agent's entry bounds the child, and so does every agent on the child's path that the
    // policy names (what the enforcer applies too); a sub-agent the policy does not name, such as
    // `academic-advisor/summarizer`, is held to the root agent's entry: the chain only narrows it.
    const policy = this.o.policies.get(tenant)?.policy;
    const rootAgent = parentPath[0] as string;
    const policyAgents = [rootAgent];
    if (policy !== undefined) {
      for (const a of [...parentPath.slice(1), agent])
        if (policy.agents.has(a) && !policyAgents.includes(a)) policyAgents.push(a);
    }
    const policyVersion = await this.enforcePolicy(
      principal,
      tenant,
      'envelope.delegate',
      { agent, jtiChain: jtis, agentChain: parentPath },
      policyAgents,
      { scopes, resources, constraints, ttlSeconds: exp - nbf },
      'grant',
    );

    const signer = await this.o.keys.activeSigner(tenant);
    await this.o.keys.recordSigning(tenant, signer.kid, exp);
    let minted;
    try {
      minted = deriveChild(
        req.parentToken,
        {
          agent,
          scopes,
          resources,
          context: g?.context ?? [...parent.ctx],
          ...(g?.constraints ? { constraints: g.constraints } : {}),
          ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
          ...(holderKey ? { holderKey } : {}),
          ...(this.o.issuerName ? { issuer: this.o.issuerName } : {}),
        },
        { secretKey: signer.secretKey, kid: signer.kid },
        now,
        { maxDepth: this.o.maxDepth },
      );
    } catch (err) {
      if (err instanceof AuthorityError && (err.reason === 'CHAIN_VIOLATION' || err.reason === 'TENANT_MISMATCH'))
        return deny(err, policyVersion);
      throw err;
    }
    await this.o.audit.record({
      tenant,
      action: 'envelope.delegate',
      principal,
      agentId: agent,
      jtiChain: [...jtis, minted.claims.jti],
      agentChain: [...parentPath, agent],
      resource: minted.claims.res.join(','),
      message: `envelope '${minted.claims.jti}' delegated to agent '${agent}' from '${parent.jti}' with key '${signer.kid}'${minted.sealed ? ', sealed with a holder key generated by the issuer' : ", bound to the caller's holder key"}`,
      policyVersion,
      detail: {
        case: 'issuance',
        value: createMessage(pb.IssuanceDetailSchema, {
          jti: minted.claims.jti,
          parentJti: parent.jti,
          scopes: minted.claims.scp,
          resources: minted.claims.res,
          expiresAt: timestampFromDate(new Date(minted.claims.exp * 1000)),
          depth: minted.claims.dep,
          keyId: signer.kid,
        }),
      },
    });
    return issued(minted, [...parentPath, agent], signer.kid);
  }

  // ------------------------------------------------------------------------------------------
  // Revocation.

  private forgetAfter(at: Date): Date {
    return new Date(at.getTime() + (this.o.maxTtlSeconds + this.o.skewSeconds) * 1000);
  }

  /** Revokes one link (and so every descendant); answers after Kafka acknowledged it. */
  async revoke(
    principal: string,
    tenant: string,
    jtiIn: string,
    reasonIn: string,
  ): Promise<{ revokedAt: Date; alreadyRevoked: boolean }> {
    const jti = v.jti(jtiIn);
    const reason = v.optionalText(reasonIn, 'reason', 1024);
    await this.requireTenantExists(tenant);
    // Revoking twice changes nothing: say so (and when it happened) instead of publishing again.
    const earlier = this.o.revocations.jtiRevokedAt(tenant, jti);
    if (earlier !== undefined) return { revokedAt: new Date(earlier * 1000), alreadyRevoked: true };
    const at = this.o.clock.now();
    const event = createMessage(pb.RevocationEventSchema, {
      tenant,
      kind: pb.RevocationKind.JTI,
      jti,
      revokedAt: timestampFromDate(at),
      forgetAfter: timestampFromDate(this.forgetAfter(at)),
      reason,
    });
    await this.o.events.publishRevocation(event);
    this.o.revocations.apply(event); // read-your-writes for Delegate on this replica
    await this.o.audit.record({
      tenant,
      action: 'envelope.revoke',
      principal,
      jtiChain: [jti],
      resource: `envelope/${jti}`,
      message: `envelope '${jti}' and every descendant revoked${reason ? `: ${reason}` : ''}`,
      detail: { case: 'revocation', value: createMessage(pb.RevocationDetailSchema, { jti, reason }) },
    });
    return { revokedAt: at, alreadyRevoked: false };
  }

  /**
   * Revokes every envelope issued to an agent until now (`iat` at or before the cut-off second, so
   * an envelope minted for the agent within the same second is revoked too).
   */
  async revokeAgent(principal: string, tenant: string, agentIn: string, reasonIn: string): Promise<Date> {
    const agent = v.identifier(agentIn, 'agent_id');
    const reason = v.optionalText(reasonIn, 'reason', 1024);
    await this.requireTenantExists(tenant);
    const at = this.o.clock.now();
    const event = createMessage(pb.RevocationEventSchema, {
      tenant,
      kind: pb.RevocationKind.AGENT,
      agentId: agent,
      revokedBefore: timestampFromDate(at),
      revokedAt: timestampFromDate(at),
      forgetAfter: timestampFromDate(this.forgetAfter(at)),
      reason,
    });
    await this.o.events.publishRevocation(event);
    this.o.revocations.apply(event);
    await this.o.audit.record({
      tenant,
      action: 'agent.revoke',
      principal,
      agentId: agent,
      resource: `agent/${agent}`,
      message: `every envelope issued to agent '${agent}' until ${at.toISOString()} revoked${reason ? `: ${reason}` : ''}`,
      detail: { case: 'revocation', value: createMessage(pb.RevocationDetailSchema, { agentId: agent, reason }) },
    });
    return at;
  }
}
