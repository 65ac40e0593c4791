// Original file: proto/authority/v1/events.proto

export const RevocationKind = {
  REVOCATION_KIND_UNSPECIFIED: 'REVOCATION_KIND_UNSPECIFIED',
  JTI: 'JTI',
  AGENT: 'AGENT',
} as const;

export type RevocationKind =
  | 'REVOCATION_KIND_UNSPECIFIED'
  | 0
  | 'JTI'
  | 1
  | 'AGENT'
  | 2

export type RevocationKind__Output = typeof RevocationKind[keyof typeof RevocationKind]
