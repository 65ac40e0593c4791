// Original file: proto/authority/v1/common.proto

export const Decision = {
  DECISION_UNSPECIFIED: 'DECISION_UNSPECIFIED',
  ALLOW: 'ALLOW',
  DENY: 'DENY',
} as const;

export type Decision =
  | 'DECISION_UNSPECIFIED'
  | 0
  | 'ALLOW'
  | 1
  | 'DENY'
  | 2

export type Decision__Output = typeof Decision[keyof typeof Decision]
