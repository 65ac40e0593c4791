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
    'pop',
    'read_only_actions',
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
  /**
   * Most YAML tokens, counted while parsing: the lexemes of the `yaml` library (indicators, runs of
   * spaces, line breaks, comments, and two per value). Policies written by people have one per 3-5
   * bytes (a 1 MiB policy with 5,800 agents in block style has 210,000; 9,000 agents on one flow
   * line each about 420,000); text made of the shortest tokens has one per byte or more, and each
   * costs the library about a microsecond and a few hundred bytes of memory.
   */
  maxTokens: number;
  /** Deepest nesting of mappings and sequences (aliases count at the depth they are used). */
  maxDepth: number;
  /** Most alias nodes (`*name`) in one document. */
  maxAliases: number;
  /** Most nodes visited while reading, counting each alias use as the nodes it expands to. */
  maxNodes: number;
  /**
   * Most keys in any one mapping, checked on the syntax tree before composing (30,000
   * `data_classifications` fit in 1 MiB; nothing legitimate needs that many).
   */
  maxMappingKeys: number;
  /**
   * Most items in any one list, checked with `maxMappingKeys`: the enforcer scans `deny` rules and
   * an agent's scopes and resources on every request, so their length bounds the cost per request.
   */
  maxListItems: number;
  /** Most entries under `agents`. */
  maxAgents: number;
  /** Most issues collected before the loader stops looking for more. */
  maxIssues: number;
}

export const DEFAULT_POLICY_LIMITS: Readonly<PolicyLimits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxTokens: 500_000,
  maxDepth: 64,
  maxAliases: 100,
  maxNodes: 1_000_000,
  maxMappingKeys: 10_000,
  maxListItems: 10_000,
  maxAgents: 10_000,
  maxIssues: 100,
});
