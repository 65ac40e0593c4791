// Approvals through the issuer: the enforcer never stores approvals itself. A check that needs one
// asks the issuer to record a request (RequestApproval); a retried check carrying an approval id
// asks the issuer to consume it atomically (ConsumeApproval), so an approval is single-use across
// every enforcer replica. Both carry the whole request the approval is bound to (core's
// ApprovalBinding: resource or none, purpose, record count, context fields, the presenting chain);
// the issuer compares it by digest. Calls carry the internal service credential and a deadline;
// any failure is reported as a failure (the caller denies: fail closed).
import * as grpc from '@grpc/grpc-js';
import type { ApprovalBinding } from '@authority/core';
import { bearerMetadata } from '@authority/platform';
import {
  loadAuthorityProto,
  type ConsumeApprovalRequest,
  type IssuerServiceClient,
  type ReasonCode__Output,
} from '@authority/proto';

/** What the enforcer asks of the approvals store. */
export interface ApprovalsPort {
  /** Records a pending approval request; returns its id. Throws when the issuer cannot be reached. */
  request(input: ApprovalRequestInput): Promise<string>;
  /** Consumes an approved request exactly once for exactly this request. Throws when unreachable. */
  consume(input: ApprovalConsumeInput): Promise<ApprovalConsumeResult>;
  close(): void;
}

/** The request to record an approval for: exactly what the approver will be shown. */
export type ApprovalRequestInput = ApprovalBinding;

/** The approval presented, and the request presenting it (it must equal the approved one). */
export interface ApprovalConsumeInput extends ApprovalBinding {
  approvalId: string;
}

/** A binding as the issuer's request messages carry it (proto3: empty is absent). */
function bindingMessage(b: ApprovalBinding): Omit<ConsumeApprovalRequest, 'approvalId'> {
  return {
    tenant: b.tenant,
    agentId: b.agent,
    requiredScope: b.requiredScope,
    action: b.action,
    resource: b.resource ?? '',
    purpose: b.purpose ?? '',
    ...(b.recordCount !== undefined ? { recordCount: b.recordCount } : {}),
    contextFields: { ...b.contextFields },
    chain: [...b.chain],
    agentChain: [...b.agentChain],
  };
}

export interface ApprovalConsumeResult {
  consumed: boolean;
  /** When not consumed: APPROVAL_REQUIRED (still pending) or APPROVAL_INVALID. */
  reason: ReasonCode__Output;
  message: string;
}

export interface IssuerApprovalsOptions {
  address: string;
  serviceApiKey: string;
  timeoutMs: number;
  credentials?: grpc.ChannelCredentials;
}

/** The issuer-backed approvals port (one channel, reused). */
export class IssuerApprovals implements ApprovalsPort {
  private readonly client: IssuerServiceClient;

  constructor(private readonly opts: IssuerApprovalsOptions) {
    const { grpcObject } = loadAuthorityProto();
    this.client = new grpcObject.authority.v1.IssuerService(
      opts.address,
      opts.credentials ?? grpc.credentials.createInsecure(),
    );
  }

  private metadata(): grpc.Metadata {
    return bearerMetadata(this.opts.serviceApiKey);
  }

  private deadline(): grpc.CallOptions {
    return { deadline: new Date(Date.now() + this.opts.timeoutMs) };
  }

  request(input: ApprovalRequestInput): Promise<string> {
    return new Promise((resolve, reject) => {
      this.client.RequestApproval(bindingMessage(input), this.metadata(), this.deadline(), (err, res) => {
        if (err) return reject(err);
        const id = res?.approval?.approvalId;
        if (!id) return reject(new Error('issuer returned no approval id'));
        resolve(id);
      });
    });
  }

  consume(input: ApprovalConsumeInput): Promise<ApprovalConsumeResult> {
    return new Promise((resolve, reject) => {
      this.client.ConsumeApproval(
        { ...bindingMessage(input), approvalId: input.approvalId },
        this.metadata(),
        this.deadline(),
        (err, res) => {
          if (err) return reject(err);
          if (!res) return reject(new Error('issuer returned no response'));
          resolve({ consumed: res.consumed, reason: res.reason, message: res.message });
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
