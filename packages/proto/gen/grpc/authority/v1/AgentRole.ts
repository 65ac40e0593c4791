// Original file: proto/authority/v1/auditor.proto

export const AgentRole = {
  AGENT_ROLE_UNSPECIFIED: 'AGENT_ROLE_UNSPECIFIED',
  ACTED: 'ACTED',
  DELEGATED: 'DELEGATED',
} as const;

export type AgentRole =
  | 'AGENT_ROLE_UNSPECIFIED'
  | 0
  | 'ACTED'
  | 1
  | 'DELEGATED'
  | 2

export type AgentRole__Output = typeof AgentRole[keyof typeof AgentRole]
