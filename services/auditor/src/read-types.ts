// The plain values the auditor's read side takes and returns (queries, verification,
// attestations, reports): a module of their own so the reader and the report model, which both use
// them, do not import each other.
import type { AuditChainFaultKind, SignedCheckpoint } from '@authority/core';
import type { StoredEntry } from './verify';

/** An inclusive time window in ms since the epoch. */
export interface TimeWindow {
  startMs: number;
  endMs: number;
}

export interface QueryInput {
  tenant: string;
  agentId: string;
  action: string;
  resourceGlob: string;
  /** Enum value name; '' or `DECISION_UNSPECIFIED` = any. */
  decision: string;
  /** Enum value name; '' or `REASON_CODE_UNSPECIFIED` = any. */
  reason: string;
  startMs?: number;
  endMs?: number;
  pageSize: number;
  pageToken: string;
}

/** A matched entry; with an agent filter, that agent's part in it. */
export interface QueriedEntry extends StoredEntry {
  agentRole?: 'ACTED' | 'DELEGATED';
}

export interface QueryOutput {
  entries: QueriedEntry[];
  nextPageToken: string;
  /** Entries examined (for tests and logs). */
  scanned: number;
}

export interface VerifyInput {
  tenant: string;
  fromSeq: number;
  toSeq: number;
  checkpointSeq: number;
}

export interface VerifyOutput {
  ok: boolean;
  firstBadSeq: number;
  /** aggregate_mismatch: the chain verifies, but a stored aggregate does not count its entries. */
  fault: AuditChainFaultKind | 'aggregate_mismatch' | 'none';
  message: string;
  checked: number;
  checkpoint?: SignedCheckpoint;
  headSeq: number;
}

export interface AttestInput {
  tenant: string;
  agentId: string;
  resourcePattern: string;
  /** Window in whole seconds, inclusive. */
  fromSec: number;
  toSec: number;
}
