// gRPC handlers of authority.v1.PolicyService: authenticate → validate the request → registry /
// store / watch hub → proto shapes. Errors go through the platform's one mapper (toGrpcError);
// an invalid policy also carries its issues as JSON in the `authority-issues-json` trailer.
import * as grpc from '@grpc/grpc-js';
import { METADATA_KEYS, type PolicyIssue } from '@authority/core';
import {
  cloudEventHeaders,
  InvalidArgumentError,
  NotFoundError,
  PlatformError,
  wrapServerStream,
  wrapUnary,
  type Logger,
} from '@authority/platform';
import {
  timestampToGrpc,
  type PolicyServiceHandlers,
  type PolicyVersion,
  type ValidationIssue,
} from '@authority/proto';
import { issuesForError, PolicyInvalidError } from './issues';
import { parseVersion, type PolicyRegistry } from './registry';
import type { Authorizer } from './auth';
import type { PolicyStore, PolicyVersionDoc, PolicyVersionMeta } from './adapters/mongo';
import type { WatchHub } from './watch';

/** Trailing-metadata key holding the JSON array of issues `[{line, column, path, message}]`. */
export const ISSUES_METADATA_KEY = METADATA_KEYS.issues;

export const DEFAULT_PAGE_SIZE = 50;

export class ResourceExhaustedError extends PlatformError {
  override readonly name = 'ResourceExhaustedError';
  readonly code = grpc.status.RESOURCE_EXHAUSTED;
  constructor(message: string) {
    super(message, 'RESOURCE_EXHAUSTED');
  }
}

export interface PolicyServerDeps {
  registry: PolicyRegistry;
  store: PolicyStore;
  hub: WatchHub;
  authorizer: Authorizer;
  logger: Logger;
  maxPageSize: number;
}

export function toPolicyVersion(doc: PolicyVersionDoc | PolicyVersionMeta, includeYaml = true): PolicyVersion {
  return {
    tenant: doc.tenant,
    version: String(doc.version),
    yaml: includeYaml ? (doc.yaml ?? '') : '',
    sha256: doc.sha256,
    author: doc.author,
    createdAt: timestampToGrpc(doc.createdAt),
    deleted: doc.deleted,
    diffSummary: doc.diffSummary,
  };
}

export function toValidationIssue(issue: PolicyIssue): ValidationIssue {
  return { line: Math.max(0, issue.line), column: Math.max(0, issue.column), path: issue.path, message: issue.message };
}

/** JSON with every non-ASCII character escaped, so it is a legal (ASCII) metadata value. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

interface PageToken {
  t: string;
  b: number;
}

function encodePageToken(tenant: string, before: number): string {
  return Buffer.from(JSON.stringify({ t: tenant, b: before } satisfies PageToken)).toString('base64url');
}

function decodePageToken(token: string, tenant: string): number | undefined {
  if (token === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const p = parsed as Partial<PageToken> | undefined;
  if (!p || typeof p.t !== 'string' || typeof p.b !== 'number' || !Number.isSafeInteger(p.b) || p.b < 1) {
    throw new InvalidArgumentError('page_token', 'page_token: not a token returned by ListPolicyVersions');
  }
  if (p.t !== tenant) throw new InvalidArgumentError('page_token', 'page_token: belongs to another tenant');
  return p.b;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The W3C traceparent of the handler's span (stored with the version so the events carry it even
 * when republished later); the caller's own traceparent when no span is active.
 */
function traceparentOf(metadata: grpc.Metadata): string | undefined {
  const active = cloudEventHeaders({ id: '-', type: '-', source: '-', subject: '-', time: 0 })['traceparent'];
  if (active !== undefined && TRACEPARENT.test(active)) return active;
  const v = metadata.get('traceparent')[0];
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? v : v.toString('utf8');
  return TRACEPARENT.test(s) ? s : undefined;
}

/**
 * Adds the issues trailer to the status of a call whose handler failed on an invalid policy.
 * The handler records the issues per call; the callback adds them to the mapped status.
 */
function withIssuesTrailer<Req, Res>(
  issuesByCall: WeakMap<object, readonly PolicyIssue[]>,
  handler: grpc.handleUnaryCall<Req, Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call, (err, value) => {
      const issues = issuesByCall.get(call);
      if (err && issues) {
        const status = err as Partial<grpc.StatusObject>;
        const metadata = status.metadata ?? new grpc.Metadata();
        const { shown } = issuesForError(issues);
        metadata.set(ISSUES_METADATA_KEY, asciiJson(shown.map(toValidationIssue)));
        callback({ ...status, metadata } as grpc.ServerErrorResponse, value);
        return;
      }
      callback(err, value);
    });
  };
}

export function policyServiceHandlers(deps: PolicyServerDeps): PolicyServiceHandlers {
  const { registry, store, hub, authorizer, logger } = deps;
  const opts = { logger };
  const issuesByCall = new WeakMap<object, readonly PolicyIssue[]>();

  const rememberIssues = (call: object, err: unknown): never => {
    if (err instanceof PolicyInvalidError) issuesByCall.set(call, err.issues);
    throw err;
  };

  return {
    PutPolicy: withIssuesTrailer(
      issuesByCall,
      wrapUnary(async (call) => {
        const req = call.request;
        const principal = authorizer.authorize(call.metadata, req.tenant);
        const expected = parseVersion(req.expectedVersion, 'expected_version');
        const doc = await registry
          .put(req.tenant, req.yaml, expected, principal, traceparentOf(call.metadata))
          .catch((err: unknown) => rememberIssues(call, err));
        return { policy: toPolicyVersion(doc) };
      }, opts),
    ),

    GetPolicy: wrapUnary(async (call) => {
      const req = call.request;
      authorizer.authorize(call.metadata, req.tenant);
      const version = parseVersion(req.version, 'version');
      const doc = version === 0 ? await store.latest(req.tenant) : await store.get(req.tenant, version);
      if (!doc) {
        throw new NotFoundError(
          version === 0
            ? `tenant ${req.tenant} has no policy`
            : `tenant ${req.tenant} has no policy version ${version}`,
          version === 0 ? 'tenant' : 'version',
        );
      }
      return { policy: toPolicyVersion(doc) };
    }, opts),

    ListPolicyVersions: wrapUnary(async (call) => {
      const req = call.request;
      authorizer.authorize(call.metadata, req.tenant);
      const size = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(req.pageSize, deps.maxPageSize);
      const before = decodePageToken(req.pageToken, req.tenant);
      const docs = await store.listDescending(req.tenant, before, size + 1);
      const page = docs.slice(0, size);
      const last = page[page.length - 1];
      const more = docs.length > size && last !== undefined;
      return {
        versions: page.map((d) => toPolicyVersion(d, false)),
        nextPageToken: more ? encodePageToken(req.tenant, last.version) : '',
      };
    }, opts),

    ValidatePolicy: wrapUnary(async (call) => {
      const req = call.request;
      authorizer.authorize(call.metadata, req.tenant);
      const result = registry.validate(req.tenant, req.yaml);
      if (!result.ok) return { valid: false, issues: result.issues.map(toValidationIssue), summary: '' };
      const p = result.policy;
      const summary = [
        `organization ${JSON.stringify(p.organization)}, version ${p.version}${p.tenant ? `, tenant ${p.tenant}` : ''}`,
        `agents (${p.agents.size}): ${[...p.agents.keys()].join(', ') || '-'}`,
        `roles (${p.roles.size}): ${[...p.roles.keys()].join(', ') || '-'}`,
        `data classifications (${p.dataClassifications.size}): ${[...p.dataClassifications.keys()].join(', ') || '-'}`,
        `deny rules: ${p.denyRules.length}`,
      ].join('\n');
      return { valid: true, issues: [], summary };
    }, opts),

    WatchPolicies: wrapServerStream(async (call, ctx) => {
      const req = call.request;
      authorizer.authorize(call.metadata, req.tenant);
      const after = parseVersion(req.afterVersion, 'after_version');
      if (hub.full)
        throw new ResourceExhaustedError(
          `too many watch streams on this replica (${hub.size}); retry later or elsewhere`,
        );
      const signal = ctx.signal;
      await hub.watch(
        req.tenant,
        after,
        {
          send: async (doc) => {
            if (signal.aborted) return;
            if (call.write({ policy: toPolicyVersion(doc) })) return;
            await new Promise<void>((resolve) => {
              const done = () => {
                call.off('drain', done);
                signal.removeEventListener('abort', done);
                resolve();
              };
              call.once('drain', done);
              signal.addEventListener('abort', done, { once: true });
            });
          },
        },
        signal,
      );
    }, opts),

    DeletePolicy: wrapUnary(async (call) => {
      const req = call.request;
      const principal = authorizer.authorize(call.metadata, req.tenant);
      const expected = parseVersion(req.expectedVersion, 'expected_version');
      const doc = await registry.delete(req.tenant, expected, principal, traceparentOf(call.metadata));
      return { policy: toPolicyVersion(doc) };
    }, opts),
  };
}
