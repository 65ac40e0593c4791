/** The normalized, validated form of a tenant's YAML policy (what the issuer and enforcer use). */
import type { Constraints } from '../constraints';
import type { Sensitivity } from './keys';

export interface DataClassification {
  domain: string;
  sensitivity: Sensitivity;
  piiFields: string[];
  retentionDays: number;
  description: string;
}

/** A named bundle of scopes that agents can list under `roles`. */
export interface PolicyRole {
  name: string;
  description: string;
  scopes: string[];
}

export interface PolicyAgent {
  id: string;
  description: string;
  /** The scopes written under the agent's own `scopes` key. */
  ownScopes: string[];
  /** The role names the agent lists. */
  roles: string[];
  /** Effective scopes: own scopes then each role's scopes, in order, without duplicates. */
  scopes: string[];
  /** Resource patterns (fnmatch globs); `["slos://vaults/*"]` when the entry has none. */
  resources: string[];
  /**
   * The agent's constraints, with its top-level `denied_resources` merged in (union). An agent
   * with neither `constraints` nor `denied_resources` is `{unconstrained: true}` (the original's
   * default when it minted for such an agent).
   */
  constraints: Constraints;
  /** Same list as `constraints.deniedResources` (the union of both places it can be written). */
  deniedResources: string[];
  /** `max_ttl` in seconds, when the policy sets one. */
  maxTtlSeconds?: number;
}

/**
 * An explicit deny: it wins over every grant. It applies to a request when the agent is listed (or
 * the list has `*`), and, if given, some `scopes` entry matches the required scope (as a granted
 * pattern would) and some `resources` glob matches the resource. A rule with neither `scopes` nor
 * `resources` denies everything to its agents.
 */
export interface PolicyDenyRule {
  /** Position in the `deny` list (0-based), for messages. */
  index: number;
  agents: string[];
  scopes?: string[];
  resources?: string[];
  description: string;
}

export interface Policy {
  /** `version` as written (any scalar, kept as its source text, e.g. `1.0`); `"1.0"` when absent. */
  version: string;
  organization: string;
  /** The tenant the document says it is for, when it says. */
  tenant?: string;
  /** `pop: required`: every check of the tenant must carry a per-request proof of possession. */
  popRequired?: boolean;
  /**
   * `read_only_actions`: the actions that need no approval under `write_requires_approval` in this
   * tenant (envelope and policy constraints alike), replacing DEFAULT_READ_ONLY_ACTIONS. Lower
   * case, without duplicates, in the order written.
   */
  readOnlyActions?: readonly string[];
  complianceFrameworks: string[];
  dataClassifications: ReadonlyMap<string, DataClassification>;
  roles: ReadonlyMap<string, PolicyRole>;
  agents: ReadonlyMap<string, PolicyAgent>;
  denyRules: readonly PolicyDenyRule[];
}
