// Typed promise clients for the four services. Requests and responses are the proto-loader types
// of @authority/proto (camelCase fields, enums as strings, int64 as strings).
// Size: one short class per service on the shared BaseClient (transport, tenant defaulting, health);
// a user reads the four side by side, and each is a thin list of typed calls.
import {
  loadAuthorityProto,
  type AttestRequest,
  type AttestResponse__Output,
  type BatchCheckRequest,
  type BatchCheckResponse__Output,
  type CheckRequest,
  type CheckResponse__Output,
  type ChainEntry__Output,
  type ConsumeApprovalRequest,
  type ConsumeApprovalResponse__Output,
  type CreateCredentialRequest,
  type CreateCredentialResponse__Output,
  type CreateTenantRequest,
  type CreateTenantResponse__Output,
  type DecideApprovalRequest,
  type DecideApprovalResponse__Output,
  type DelegateRequest,
  type DelegateResponse__Output,
  type Envelope__Output,
  type DeletePolicyRequest,
  type DeletePolicyResponse__Output,
  type GetApprovalRequest,
  type GetApprovalResponse__Output,
  type GetCheckpointRequest,
  type GetCheckpointResponse__Output,
  type GetComplianceReportRequest,
  type GetComplianceReportResponse__Output,
  type GetPolicyRequest,
  type GetPolicyResponse__Output,
  type ListApprovalsRequest,
  type ListApprovalsResponse__Output,
  type ListAuditorKeysRequest,
  type GetChainStatusRequest,
  type GetChainStatusResponse__Output,
  type ArchiveChainSegmentRequest,
  type ArchiveChainSegmentResponse__Output,
  type ListAuditorKeysResponse__Output,
  type ListCheckpointsRequest,
  type ListCheckpointsResponse__Output,
  type ListKeysRequest,
  type ListKeysResponse__Output,
  type ListPolicyVersionsRequest,
  type ListPolicyVersionsResponse__Output,
  type MintRequest,
  type MintResponse__Output,
  type PutPolicyRequest,
  type PutPolicyResponse__Output,
  type QueryEventsRequest,
  type QueryEventsResponse__Output,
  type RequestApprovalRequest,
  type RequestApprovalResponse__Output,
  type RevokeAgentRequest,
  type RevokeAgentResponse__Output,
  type RevokeCredentialRequest,
  type RevokeCredentialResponse__Output,
  type RevokeRequest,
  type RevokeResponse__Output,
  type RotateKeyRequest,
  type RotateKeyResponse__Output,
  type ValidatePolicyRequest,
  type ValidatePolicyResponse__Output,
  type VerifyChainRequest,
  type VerifyChainResponse__Output,
  type WatchPoliciesRequest,
  type WatchPoliciesResponse__Output,
  type PolicyVersion__Output,
} from '@authority/proto';
import * as grpc from '@grpc/grpc-js';
import { apiError } from './errors';
import { checkHealth, type ServingStatus } from './health';
import { HolderKey } from './holder-key';
import { assertLeafHolder, isSealed, requestProof, seal, shouldProve, type ProofMode } from './possession';
import { Transport, type CallOptions, type ClientOptions, type ServiceClientConstructor } from './transport';

export const ISSUER_SERVICE = 'authority.v1.IssuerService';
export const ENFORCER_SERVICE = 'authority.v1.EnforcerService';
export const POLICY_SERVICE = 'authority.v1.PolicyService';
export const AUDITOR_SERVICE = 'authority.v1.AuditorService';

/** Health of one address of a service. */
export interface AddressHealth {
  address: string;
  /** Health of the whole server (`''`). */
  server?: ServingStatus;
  /** Health of the service itself (readiness: caught up and connected). */
  service?: ServingStatus;
  /** Set when the address could not be asked. */
  error?: string;
  /** Round trip of the service health call, in milliseconds. */
  latencyMs?: number;
  /**
   * Estimated server clock minus local clock, in milliseconds, from the HTTP/2 `date` response
   * header (1 s resolution, so only skews of a few seconds or more are meaningful).
   */
  clockSkewMs?: number;
}

type Tenanted = { tenant?: string | undefined };

abstract class BaseClient<C extends grpc.Client> {
  protected readonly transport: Transport<C>;
  protected readonly tenant: string | undefined;

  protected constructor(
    serviceName: string,
    ctor: ServiceClientConstructor<C>,
    addresses: string | readonly string[],
    options: ClientOptions,
  ) {
    this.transport = new Transport(serviceName, ctor, addresses, options);
    this.tenant = options.tenant;
  }

  /** Addresses this client talks to (replicas for the enforcer). */
  get addresses(): readonly string[] {
    return this.transport.addresses;
  }

  /** The default tenant, filled into requests that leave it out. */
  get defaultTenant(): string | undefined {
    return this.tenant;
  }

  protected withTenant<R extends Tenanted>(req: R): R {
    if ((req.tenant === undefined || req.tenant === '') && this.tenant !== undefined)
      return { ...req, tenant: this.tenant };
    return req;
  }

  protected call<Res>(
    method: string,
    req: unknown,
    opts: CallOptions | undefined,
    safe: boolean,
    prepare?: (req: unknown, attempt: number) => unknown,
  ): Promise<Res> {
    return this.transport.unary<Res>(method, req, opts, safe, prepare);
  }

  /** grpc.health.v1 of every address: the server and this service (readiness). Never throws. */
  async health(opts: { deadlineMs?: number } = {}): Promise<AddressHealth[]> {
    return Promise.all(
      this.transport.addresses.map(async (address, i): Promise<AddressHealth> => {
        try {
          const client = this.transport.client(i);
          const md = this.transport.metadata();
          const server = await checkHealth(client, '', { ...opts, metadata: md, address });
          let date: string | undefined;
          const t0 = Date.now();
          const service = await checkHealth(client, this.transport.serviceName, {
            ...opts,
            metadata: md,
            address,
            onResponseHeaders: (h) => {
              const v = h.get('date')[0];
              if (v !== undefined) date = String(v);
            },
          });
          const t1 = Date.now();
          const out: AddressHealth = { address, server, service, latencyMs: t1 - t0 };
          const serverMs = date === undefined ? Number.NaN : Date.parse(date);
          // The header has whole seconds: compare with the local midpoint, shifted by half a second.
          if (Number.isFinite(serverMs)) out.clockSkewMs = Math.round(serverMs + 500 - (t0 + t1) / 2);
          return out;
        } catch (err) {
          return { address, error: err instanceof Error ? err.message : String(err) };
        }
      }),
    );
  }

  /** Closes the channels. */
  close(): void {
    this.transport.close();
  }
}

function grpcV1() {
  return loadAuthorityProto().grpcObject.authority.v1;
}

/** IssuerService: tenants, keys, credentials, envelopes, revocations, approvals. */
export class IssuerClient extends BaseClient<grpc.Client> {
  constructor(address: string, options: ClientOptions = {}) {
    super(ISSUER_SERVICE, grpcV1().IssuerService as unknown as ServiceClientConstructor<grpc.Client>, address, options);
  }
  /** Operator only. Not retried. */
  createTenant(req: CreateTenantRequest, opts?: CallOptions): Promise<CreateTenantResponse__Output> {
    return this.call('CreateTenant', req, opts, false);
  }
  createCredential(req: CreateCredentialRequest, opts?: CallOptions): Promise<CreateCredentialResponse__Output> {
    return this.call('CreateCredential', this.withTenant(req), opts, false);
  }
  revokeCredential(req: RevokeCredentialRequest, opts?: CallOptions): Promise<RevokeCredentialResponse__Output> {
    return this.call('RevokeCredential', this.withTenant(req), opts, false);
  }
  rotateKey(req: RotateKeyRequest = {}, opts?: CallOptions): Promise<RotateKeyResponse__Output> {
    return this.call('RotateKey', this.withTenant(req), opts, false);
  }
  listKeys(req: ListKeysRequest = {}, opts?: CallOptions): Promise<ListKeysResponse__Output> {
    return this.call('ListKeys', this.withTenant(req), opts, true);
  }
  /**
   * Mints a root envelope. Not retried: a repeated Mint would sign a second envelope.
   * With `holderPublicKey` (the agent's own key, recommended) the envelope's token is the UNSEALED
   * chain for the agent to seal (`seal(token, key)`); without it the issuer generates the key and
   * the result carries it as `holderKey` (the token is then sealed).
   */
  async mint(req: MintRequest, opts?: CallOptions): Promise<IssuedEnvelope> {
    const res = await this.call<MintResponse__Output>('Mint', this.withTenant(req), opts, false);
    return issued(res, `${ISSUER_SERVICE}/Mint`);
  }
  /**
   * Asks the issuer for a narrower child (online). The issuer requires the parent to be SEALED:
   * pass `parentHolderKey` to have an unsealed `parentToken` sealed first (locally; the key is
   * never sent). The child's agent must be the parent's or under it (`<parent>/<name>`). Give the
   * sub-agent's public key as `holderPublicKey`; without it the issuer generates one (`holderKey`).
   */
  async delegate(req: DelegateRequest, opts: DelegateCallOptions = {}): Promise<IssuedEnvelope> {
    const { parentHolderKey, ...callOpts } = opts;
    let parentToken = req.parentToken ?? '';
    if (parentHolderKey !== undefined && parentToken !== '' && !isSealed(parentToken))
      parentToken = seal(parentToken, parentHolderKey);
    const res = await this.call<DelegateResponse__Output>(
      'Delegate',
      this.withTenant({ ...req, parentToken }),
      callOpts,
      false,
    );
    return issued(res, `${ISSUER_SERVICE}/Delegate`);
  }
  revoke(req: RevokeRequest, opts?: CallOptions): Promise<RevokeResponse__Output> {
    return this.call('Revoke', this.withTenant(req), opts, false);
  }
  revokeAgent(req: RevokeAgentRequest, opts?: CallOptions): Promise<RevokeAgentResponse__Output> {
    return this.call('RevokeAgent', this.withTenant(req), opts, false);
  }
  requestApproval(req: RequestApprovalRequest, opts?: CallOptions): Promise<RequestApprovalResponse__Output> {
    return this.call('RequestApproval', this.withTenant(req), opts, false);
  }
  decideApproval(req: DecideApprovalRequest, opts?: CallOptions): Promise<DecideApprovalResponse__Output> {
    return this.call('DecideApproval', this.withTenant(req), opts, false);
  }
  consumeApproval(req: ConsumeApprovalRequest, opts?: CallOptions): Promise<ConsumeApprovalResponse__Output> {
    return this.call('ConsumeApproval', this.withTenant(req), opts, false);
  }
  getApproval(req: GetApprovalRequest, opts?: CallOptions): Promise<GetApprovalResponse__Output> {
    return this.call('GetApproval', this.withTenant(req), opts, true);
  }
  listApprovals(req: ListApprovalsRequest = {}, opts?: CallOptions): Promise<ListApprovalsResponse__Output> {
    return this.call('ListApprovals', this.withTenant(req), opts, true);
  }
}

/**
 * EnforcerService: Check and BatchCheck. Give several addresses (replicas) to fail over: a call
 * that meets UNAVAILABLE, a refused connection or a hung replica moves on to the next address
 * within the deadline. Check and BatchCheck are retried because they change nothing but the
 * audit trail (a retried check may leave two decision events).
 */
export class EnforcerClient extends BaseClient<grpc.Client> {
  private readonly holderKey: HolderKey | undefined;
  private readonly proofMode: ProofMode;

  constructor(addresses: string | readonly string[], options: EnforcerClientOptions = {}) {
    const { holderKey, proof, ...clientOptions } = options;
    super(
      ENFORCER_SERVICE,
      grpcV1().EnforcerService as unknown as ServiceClientConstructor<grpc.Client>,
      addresses,
      clientOptions,
    );
    this.holderKey = holderKey;
    this.proofMode = checkProofMode(proof ?? 'auto', holderKey);
  }
  /** The address the next call goes to first. */
  get currentAddress(): string {
    return this.transport.currentAddress;
  }
  /**
   * One check. With a holder key (the client's or this call's) and a proof mode that asks for it,
   * the request carries a per-request proof, signed afresh for every attempt; a `proof` already in
   * the request is kept. Throws AuthorityError INVALID_REQUEST (before sending) when the key is not
   * the token's leaf key.
   */
  check(req: CheckRequest, opts: CheckCallOptions = {}): Promise<CheckResponse__Output> {
    const { holderKey, proof, ...callOpts } = opts;
    const prove = this.prover(holderKey, proof);
    if (prove === undefined) return this.call('Check', req, callOpts, true);
    return this.call('Check', req, callOpts, true, (r) => prove(r as CheckRequest));
  }
  /** Many checks; each item gets a proof as in `check` (same key for all). */
  batchCheck(req: BatchCheckRequest, opts: CheckCallOptions = {}): Promise<BatchCheckResponse__Output> {
    const { holderKey, proof, ...callOpts } = opts;
    const prove = this.prover(holderKey, proof);
    if (prove === undefined) return this.call('BatchCheck', req, callOpts, true);
    return this.call('BatchCheck', req, callOpts, true, (r) => {
      const b = r as BatchCheckRequest;
      return { ...b, checks: (b.checks ?? []).map(prove) };
    });
  }

  /** A function adding a fresh proof to a request that needs one, or undefined when none will. */
  private prover(
    callKey: HolderKey | undefined,
    callMode: ProofMode | undefined,
  ): ((r: CheckRequest) => CheckRequest) | undefined {
    const key = callKey ?? this.holderKey;
    const mode = checkProofMode(callMode ?? this.proofMode, key);
    if (key === undefined || mode === 'never') return undefined;
    return (r) => {
      const token = r.token ?? '';
      if (token === '' || (r.proof !== undefined && r.proof !== '') || !shouldProve(token, mode)) return r;
      return { ...r, proof: requestProof(token, key, r) };
    };
  }
}

function checkProofMode(mode: ProofMode, key: HolderKey | undefined): ProofMode {
  if (mode !== 'auto' && mode !== 'always' && mode !== 'never')
    throw new TypeError(`proof must be 'auto', 'always' or 'never', got ${JSON.stringify(mode)}`);
  if (mode === 'always' && key === undefined) throw new TypeError("proof 'always' needs a holderKey");
  return mode;
}

/** Options of an EnforcerClient. */
export interface EnforcerClientOptions extends ClientOptions {
  /**
   * Default holder key for checks (the holder key of the tokens this client presents): checks then
   * carry per-request proofs as `proof` says. Per call: `check(req, { holderKey })`.
   */
  holderKey?: HolderKey;
  /** When to attach a proof; default `auto` (see ProofMode). */
  proof?: ProofMode;
}

/** Options of one check. */
export interface CheckCallOptions extends CallOptions {
  holderKey?: HolderKey;
  proof?: ProofMode;
}

/** Options of a Delegate call. */
export interface DelegateCallOptions extends CallOptions {
  /** Seals an unsealed parent token with this key first (the issuer requires a sealed parent). */
  parentHolderKey?: HolderKey;
}

/** What Mint and Delegate return. */
export interface IssuedEnvelope {
  /**
   * The envelope. `envelope.token` is sealed (presentable) when `envelope.sealed`; otherwise it is
   * the chain for the holder to seal with its key. `envelope.agentChain` is the delegation path.
   */
  envelope: Envelope__Output;
  /**
   * The holder key the issuer generated (only when no `holderPublicKey` was sent). Its secret is
   * redacted from logs and JSON; keep it like the token.
   */
  holderKey?: HolderKey;
}

async function issued(
  res: { envelope: Envelope__Output | null; holderSecretKey?: Buffer | null },
  method: string,
): Promise<IssuedEnvelope> {
  const seed = res.holderSecretKey;
  try {
    if (!res.envelope || res.envelope.token === '')
      throw apiError({ code: grpc.status.INTERNAL, message: `${method}: the issuer returned no envelope`, method });
    const out: IssuedEnvelope = { envelope: res.envelope };
    if (seed && seed.length > 0) {
      if (seed.length !== 32) {
        throw apiError({
          code: grpc.status.INTERNAL,
          message: `${method}: the returned holder key must be a 32-byte seed, got ${seed.length} bytes`,
          method,
        });
      }
      const key = await HolderKey.fromSeed(seed);
      try {
        assertLeafHolder(res.envelope.token, key);
      } catch {
        key.destroy();
        throw apiError({
          code: grpc.status.INTERNAL,
          message: `${method}: the returned holder key is not the envelope's 'cnf' key`,
          method,
        });
      }
      out.holderKey = key;
    }
    return out;
  } finally {
    // The seed now lives only inside the HolderKey.
    seed?.fill(0);
  }
}

/** PolicyService: versioned YAML policies per tenant. */
export class PolicyClient extends BaseClient<grpc.Client> {
  constructor(address: string, options: ClientOptions = {}) {
    super(POLICY_SERVICE, grpcV1().PolicyService as unknown as ServiceClientConstructor<grpc.Client>, address, options);
  }
  /** Not retried; `expectedVersion` guards against lost updates (ABORTED on a conflict). */
  putPolicy(req: PutPolicyRequest, opts?: CallOptions): Promise<PutPolicyResponse__Output> {
    return this.call('PutPolicy', this.withTenant(req), opts, false);
  }
  getPolicy(req: GetPolicyRequest = {}, opts?: CallOptions): Promise<GetPolicyResponse__Output> {
    return this.call('GetPolicy', this.withTenant(req), opts, true);
  }
  listPolicyVersions(
    req: ListPolicyVersionsRequest = {},
    opts?: CallOptions,
  ): Promise<ListPolicyVersionsResponse__Output> {
    return this.call('ListPolicyVersions', this.withTenant(req), opts, true);
  }
  /** Every version, newest first, following page tokens. */
  async *allPolicyVersions(
    req: ListPolicyVersionsRequest = {},
    opts?: CallOptions,
  ): AsyncGenerator<PolicyVersion__Output> {
    let pageToken = req.pageToken ?? '';
    for (;;) {
      const page = await this.listPolicyVersions({ ...req, pageToken }, opts);
      yield* page.versions;
      if (page.nextPageToken === '' || page.nextPageToken === pageToken) return;
      pageToken = page.nextPageToken;
    }
  }
  validatePolicy(req: ValidatePolicyRequest, opts?: CallOptions): Promise<ValidatePolicyResponse__Output> {
    return this.call('ValidatePolicy', this.withTenant(req), opts, true);
  }
  deletePolicy(req: DeletePolicyRequest, opts?: CallOptions): Promise<DeletePolicyResponse__Output> {
    return this.call('DeletePolicy', this.withTenant(req), opts, false);
  }
  /** Streams every version after `afterVersion`; ends on cancel (signal) or error. */
  watchPolicies(
    req: WatchPoliciesRequest,
    opts?: CallOptions,
  ): AsyncIterable<WatchPoliciesResponse__Output> & { cancel(): void } {
    return this.transport.serverStream<WatchPoliciesResponse__Output>('WatchPolicies', this.withTenant(req), opts);
  }
}

/** AuditorService: queries, verification, checkpoints, attestations, reports (all reads). */
export class AuditorClient extends BaseClient<grpc.Client> {
  constructor(address: string, options: ClientOptions = {}) {
    super(
      AUDITOR_SERVICE,
      grpcV1().AuditorService as unknown as ServiceClientConstructor<grpc.Client>,
      address,
      options,
    );
  }
  queryEvents(req: QueryEventsRequest = {}, opts?: CallOptions): Promise<QueryEventsResponse__Output> {
    return this.call('QueryEvents', this.withTenant(req), opts, true);
  }
  /** Every matching entry in sequence order, following page tokens. */
  async *allEvents(req: QueryEventsRequest = {}, opts?: CallOptions): AsyncGenerator<ChainEntry__Output> {
    let pageToken = req.pageToken ?? '';
    for (;;) {
      const page = await this.queryEvents({ ...req, pageToken }, opts);
      yield* page.entries;
      if (page.nextPageToken === '' || page.nextPageToken === pageToken) return;
      pageToken = page.nextPageToken;
    }
  }
  verifyChain(req: VerifyChainRequest = {}, opts?: CallOptions): Promise<VerifyChainResponse__Output> {
    return this.call('VerifyChain', this.withTenant(req), opts, true);
  }
  getCheckpoint(req: GetCheckpointRequest = {}, opts?: CallOptions): Promise<GetCheckpointResponse__Output> {
    return this.call('GetCheckpoint', this.withTenant(req), opts, true);
  }
  listCheckpoints(req: ListCheckpointsRequest = {}, opts?: CallOptions): Promise<ListCheckpointsResponse__Output> {
    return this.call('ListCheckpoints', this.withTenant(req), opts, true);
  }
  attest(req: AttestRequest, opts?: CallOptions): Promise<AttestResponse__Output> {
    return this.call('Attest', this.withTenant(req), opts, true);
  }
  getComplianceReport(
    req: GetComplianceReportRequest,
    opts?: CallOptions,
  ): Promise<GetComplianceReportResponse__Output> {
    return this.call('GetComplianceReport', this.withTenant(req), opts, true);
  }
  listAuditorKeys(req: ListAuditorKeysRequest = {}, opts?: CallOptions): Promise<ListAuditorKeysResponse__Output> {
    return this.call('ListAuditorKeys', req, opts, true);
  }
  getChainStatus(req: GetChainStatusRequest = {}, opts?: CallOptions): Promise<GetChainStatusResponse__Output> {
    return this.call('GetChainStatus', this.withTenant(req), opts, true);
  }
  /** Deletes an exported segment (ADMIN only; not retried: it changes the store). */
  archiveChainSegment(
    req: ArchiveChainSegmentRequest,
    opts?: CallOptions,
  ): Promise<ArchiveChainSegmentResponse__Output> {
    return this.call('ArchiveChainSegment', this.withTenant(req), opts, false);
  }
}
