// Original file: proto/authority/v1/events.proto

export const CredentialKind = {
  CREDENTIAL_KIND_UNSPECIFIED: 'CREDENTIAL_KIND_UNSPECIFIED',
  ADMIN: 'ADMIN',
  APPROVER: 'APPROVER',
  CHECKER: 'CHECKER',
  AUDITOR: 'AUDITOR',
} as const;

export type CredentialKind =
  | 'CREDENTIAL_KIND_UNSPECIFIED'
  | 0
  | 'ADMIN'
  | 1
  | 'APPROVER'
  | 2
  | 'CHECKER'
  | 3
  | 'AUDITOR'
  | 4

export type CredentialKind__Output = typeof CredentialKind[keyof typeof CredentialKind]
