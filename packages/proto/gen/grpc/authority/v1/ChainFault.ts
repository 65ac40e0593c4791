// Original file: proto/authority/v1/auditor.proto

export const ChainFault = {
  CHAIN_FAULT_UNSPECIFIED: 'CHAIN_FAULT_UNSPECIFIED',
  NONE: 'NONE',
  MODIFIED: 'MODIFIED',
  MISSING: 'MISSING',
  REORDERED: 'REORDERED',
  TRUNCATED: 'TRUNCATED',
  FORGED_CHECKPOINT: 'FORGED_CHECKPOINT',
  FORKED: 'FORKED',
  AGGREGATE_MISMATCH: 'AGGREGATE_MISMATCH',
} as const;

export type ChainFault =
  | 'CHAIN_FAULT_UNSPECIFIED'
  | 0
  | 'NONE'
  | 1
  | 'MODIFIED'
  | 2
  | 'MISSING'
  | 3
  | 'REORDERED'
  | 4
  | 'TRUNCATED'
  | 5
  | 'FORGED_CHECKPOINT'
  | 6
  | 'FORKED'
  | 7
  | 'AGGREGATE_MISMATCH'
  | 8

export type ChainFault__Output = typeof ChainFault[keyof typeof ChainFault]
