// Original file: proto/authority/v1/events.proto

export const ApprovalStatus = {
  APPROVAL_STATUS_UNSPECIFIED: 'APPROVAL_STATUS_UNSPECIFIED',
  PENDING: 'PENDING',
  APPROVED: 'APPROVED',
  REJECTED: 'REJECTED',
  CONSUMED: 'CONSUMED',
  EXPIRED_UNUSED: 'EXPIRED_UNUSED',
} as const;

export type ApprovalStatus =
  | 'APPROVAL_STATUS_UNSPECIFIED'
  | 0
  | 'PENDING'
  | 1
  | 'APPROVED'
  | 2
  | 'REJECTED'
  | 3
  | 'CONSUMED'
  | 4
  | 'EXPIRED_UNUSED'
  | 5

export type ApprovalStatus__Output = typeof ApprovalStatus[keyof typeof ApprovalStatus]
