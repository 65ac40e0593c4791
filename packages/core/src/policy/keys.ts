/**
 * The one table of keys the policy loader accepts, per mapping. The loader refuses every other key
 * (the original silently ignored them, so a typo such as `constriants:` dropped a restriction), and
 * a test checks that `schema/policy.schema.json` lists exactly these keys.
 */
export const POLICY_KEYS = {
  /** Top level of the document. */
  document: [
    'version',
    'organization',
    'tenant',
    'compliance_frameworks',
    'data_classifications',
    'roles',
    'agents',
    'deny',
  ],
  /** `data_classifications.<domain>`. */
  dataClassification: ['sensitivity', 'pii_fields', 'retention_days', 'description'],
  /** `roles.<name>`. */
  role: ['description', 'scopes'],
  /** `agents.<id>`. */
  agent: ['description', 'scopes', 'roles', 'resources', 'constraints', 'denied_resources', 'max_ttl'],
  /** An item of `deny`. */
  denyRule: ['agents', 'scopes', 'resources', 'description'],
} as const satisfies Record<string, readonly string[]>;

export type PolicyMappingKind = keyof typeof POLICY_KEYS;

/** `data_classifications.<domain>.sensitivity` values (the original documented but never checked them). */
export const SENSITIVITY_LEVELS = ['internal', 'confidential', 'restricted'] as const;
export type Sensitivity = (typeof SENSITIVITY_LEVELS)[number];

/** Resources granted to an agent whose entry has no `resources` key (the original's default). */
export const DEFAULT_AGENT_RESOURCES: readonly string[] = ['slos://vaults/*'];

/** `version` when the document has none (the original's default). */
export const DEFAULT_POLICY_VERSION = '1.0';

/**
 * Agent ids and role names: the original's agent-id rule (`^[a-zA-Z0-9_-]+$`, at most 100
 * characters), so every id a policy names is one an envelope can carry.
 */
export const POLICY_NAME_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;

/** The wildcard a deny rule's `agents` list may use to mean every agent. */
export const ANY_AGENT = '*';

/** Bounds on `agents.<id>.max_ttl`, equal to the envelope TTL bounds (60 s - 24 h). */
export const MIN_POLICY_TTL_SECONDS = 60;
export const MAX_POLICY_TTL_SECONDS = 86_400;

/** Limits that keep hostile documents cheap to refuse. */
export interface PolicyLimits {
  /** Largest document, in UTF-8 bytes, checked before parsing. */
  maxBytes: number;
  /** Deepest nesting of mappings and sequences (aliases count at the depth they are used). */
  maxDepth: number;
  /** Most alias nodes (`*name`) in one document. */
  maxAliases: number;
  /** Most nodes visited while reading, counting each alias use as the nodes it expands to. */
  maxNodes: number;
  /** Most entries under `agents`. */
  maxAgents: number;
  /** Most issues collected before the loader stops looking for more. */
  maxIssues: number;
}

export const DEFAULT_POLICY_LIMITS: Readonly<PolicyLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxAliases: 100,
  maxNodes: 1_000_000,
  maxAgents: 10_000,
  maxIssues: 100,
});
