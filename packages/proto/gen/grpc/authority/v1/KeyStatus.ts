// Original file: proto/authority/v1/events.proto

export const KeyStatus = {
  KEY_STATUS_UNSPECIFIED: 'KEY_STATUS_UNSPECIFIED',
  ACTIVE: 'ACTIVE',
  VERIFY_ONLY: 'VERIFY_ONLY',
  RETIRED: 'RETIRED',
} as const;

export type KeyStatus =
  | 'KEY_STATUS_UNSPECIFIED'
  | 0
  | 'ACTIVE'
  | 1
  | 'VERIFY_ONLY'
  | 2
  | 'RETIRED'
  | 3

export type KeyStatus__Output = typeof KeyStatus[keyof typeof KeyStatus]
