/**
 * parsePolicy: YAML text → validated, normalized Policy, or a PolicyValidationError listing every
 * problem with its line, column and path. The original's format loads unchanged; the superset
 * (tenant, roles, max_ttl, deny) is documented in docs/policy.md.
 *
 * Size: one validator per policy section, all reporting positioned issues the same way; split, the
 * sections' shared normalization would be repeated.
 */
import { parseDurationSeconds } from '../duration';
import { AuthorityError } from '../errors';
import {
  MAX_READ_ONLY_ACTIONS,
  declareUnconstrained,
  mergeConstraints,
  parseConstraints,
  readOnlyActionProblem,
  type Constraints,
} from '../constraints';
import { MAX_GLOB_PATTERN_LENGTH } from '../glob';
import { isValidScope } from '../scope';
import { PolicyValidationError } from './issues';
import {
  ANY_AGENT,
  DEFAULT_AGENT_RESOURCES,
  DEFAULT_POLICY_LIMITS,
  DEFAULT_POLICY_VERSION,
  MAX_POLICY_TTL_SECONDS,
  MIN_POLICY_TTL_SECONDS,
  POLICY_KEYS,
  POLICY_NAME_PATTERN,
  SENSITIVITY_LEVELS,
  type PolicyLimits,
  type Sensitivity,
} from './keys';
import type { DataClassification, Policy, PolicyAgent, PolicyDenyRule, PolicyRole } from './types';
import { pathJoin, readYamlDocument, type MapEntry, type YamlNode, type YamlReader } from './yaml-reader';
import { isMap, isScalar } from 'yaml';

export interface ParsePolicyOptions {
  /**
   * The tenant the policy is being put for. When given and the document has a `tenant` key, they
   * must be equal (the policy service passes it; other callers may leave it out).
   */
  expectedTenant?: string;
  /** Overrides for the hostile-input limits (tests and tooling). */
  limits?: Partial<PolicyLimits>;
}

const MAX_DESCRIPTION_LENGTH = 4096;

/**
 * Parses a `max_ttl` value: a non-negative integer (seconds) or a duration text in the CLI's
 * grammar (`90s`, `5m`, `24h`, `1d`, `1h30m`, `3600`). Returns the seconds, or a message saying
 * what is wrong.
 */
export function parsePolicyDuration(value: unknown): number | string {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : `must be a whole number of seconds, got ${value}`;
  }
  if (typeof value === 'string') {
    try {
      return parseDurationSeconds(value);
    } catch {
      return `must be seconds (e.g. 3600) or a duration like 90s, 5m, 24h, 1d, 1h30m; got ${JSON.stringify(value)}`;
    }
  }
  return 'must be seconds (e.g. 3600) or a duration like 90s, 5m, 24h, 1d, 1h30m';
}

function checkScope(value: string): string | undefined {
  return isValidScope(value)
    ? undefined
    : `invalid scope ${JSON.stringify(value)}: a scope is two or more ':'-separated segments of letters, digits and _ . / * - (at most 256 characters, 16 segments)`;
}

function checkPattern(value: string): string | undefined {
  if (value.length > MAX_GLOB_PATTERN_LENGTH) return `pattern longer than ${MAX_GLOB_PATTERN_LENGTH} characters`;
  // Control characters never belong in a resource URI or glob; refusing them avoids confusing logs.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return `pattern ${JSON.stringify(value)} contains a control character`;
  return undefined;
}

function checkName(kind: string): (value: string) => string | undefined {
  return (value) =>
    POLICY_NAME_PATTERN.test(value)
      ? undefined
      : `invalid ${kind} ${JSON.stringify(value)}: use 1-100 letters, digits, '_' or '-'`;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Finds the key node of `key` inside a mapping node, for positioning constraint errors. */
function findEntry(reader: YamlReader, node: YamlNode | null, key: string, path: string): MapEntry | undefined {
  const resolved = node === null ? null : reader.resolve(node, path);
  if (resolved === null || resolved === undefined || !isMap(resolved)) return undefined;
  for (const pair of resolved.items) {
    const k = pair.key as YamlNode | null;
    if (k !== null && isScalar(k) && String(k.value) === key) {
      return { key, keyNode: k, value: (pair.value as YamlNode | null) ?? null, path: pathJoin(path, key) };
    }
  }
  return undefined;
}

/**
 * Runs the shared constraints parser on a YAML value and turns its AuthorityError into an issue
 * placed on the offending key (unknown constraint) or value (bad value).
 */
function readConstraints(reader: YamlReader, entry: MapEntry): Constraints | undefined {
  const plain = reader.toPlain(entry.value, entry.path);
  if (!plain.ok) return undefined;
  // Each constraint alone first, so every bad one is reported in one run (the parser stops at
  // the first); then all together, for what only the combination can get wrong.
  const raw = plain.value;
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.keys(raw).length > 1) {
    let bad = false;
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      if (!tryConstraints(reader, entry, { [key]: value })) bad = true;
    }
    if (bad) return undefined;
  }
  return tryConstraints(reader, entry, raw);
}

/** parseConstraints, with its error reported as an issue on the key or value at fault. */
function tryConstraints(reader: YamlReader, entry: MapEntry, raw: unknown): Constraints | undefined {
  try {
    return parseConstraints(raw, 'INVALID_REQUEST', entry.path);
  } catch (err) {
    if (!(err instanceof AuthorityError)) throw err;
    const prefix = `${entry.path}.`;
    const key = err.field !== undefined && err.field.startsWith(prefix) ? err.field.slice(prefix.length) : undefined;
    const found = key === undefined ? undefined : findEntry(reader, entry.value, key, entry.path);
    if (found === undefined) {
      reader.report(entry.value, entry.path, err.message, entry.keyNode);
    } else {
      const onKey = err.message.startsWith('unknown constraint');
      reader.report(onKey ? found.keyNode : found.value, found.path, err.message, found.keyNode);
    }
    return undefined;
  }
}

function byKey(entries: readonly MapEntry[]): Map<string, MapEntry> {
  return new Map(entries.map((e) => [e.key, e]));
}

function readClassifications(reader: YamlReader, entry: MapEntry): Map<string, DataClassification> {
  const out = new Map<string, DataClassification>();
  const domains = reader.mapping(entry.value, entry.path, 'data_classifications', entry.keyNode);
  for (const d of domains ?? []) {
    if (reader.stopped) break;
    const fields = reader.mapping(d.value, d.path, `data classification '${d.key}'`, d.keyNode);
    if (fields === undefined) continue;
    reader.refuseUnknownKeys(fields, POLICY_KEYS.dataClassification, `data classification '${d.key}'`);
    const f = byKey(fields);
    let sensitivity: Sensitivity = 'internal';
    const s = f.get('sensitivity');
    if (s !== undefined) {
      const v = reader.string(s.value, s.path, 'sensitivity', { keyNode: s.keyNode });
      if (v !== undefined) {
        if ((SENSITIVITY_LEVELS as readonly string[]).includes(v)) sensitivity = v as Sensitivity;
        else
          reader.report(
            s.value,
            s.path,
            `sensitivity must be one of ${SENSITIVITY_LEVELS.join(', ')}; got ${JSON.stringify(v)}`,
          );
      }
    }
    const pii = f.get('pii_fields');
    const retention = f.get('retention_days');
    const description = f.get('description');
    out.set(d.key, {
      domain: d.key,
      sensitivity,
      piiFields: (pii && reader.stringList(pii.value, pii.path, 'pii_fields', { keyNode: pii.keyNode })) ?? [],
      retentionDays:
        (retention &&
          reader.integer(retention.value, retention.path, 'retention_days', 0, 1_000_000, retention.keyNode)) ??
        0,
      description: (description && readDescription(reader, description)) ?? '',
    });
  }
  return out;
}

function readDescription(reader: YamlReader, e: MapEntry): string | undefined {
  const v = reader.string(e.value, e.path, 'description', { keyNode: e.keyNode });
  if (v !== undefined && v.length > MAX_DESCRIPTION_LENGTH) {
    reader.report(e.value, e.path, `description longer than ${MAX_DESCRIPTION_LENGTH} characters`);
    return undefined;
  }
  return v;
}

/** Valid roles by name, plus every name declared (an invalid role is reported once, where it is). */
interface RoleTable {
  valid: Map<string, PolicyRole>;
  declared: Set<string>;
  /** The "defined roles" hint, built once (not once per unknown role, which was quadratic). */
  hint?: string;
}

/** At most this many role names are listed in an unknown-role message. */
const LISTED_ROLES = 20;

function definedRoles(table: RoleTable): string {
  if (table.hint !== undefined) return table.hint;
  const names: string[] = [];
  for (const name of table.declared) {
    if (names.length === LISTED_ROLES) break;
    names.push(name);
  }
  const more = table.declared.size - names.length;
  table.hint =
    names.length === 0
      ? 'the policy defines no roles'
      : `defined roles: ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
  return table.hint;
}

function readRoles(reader: YamlReader, entry: MapEntry): RoleTable {
  const out = new Map<string, PolicyRole>();
  const roles = reader.mapping(entry.value, entry.path, 'roles', entry.keyNode);
  const declared = new Set((roles ?? []).map((r) => r.key));
  for (const r of roles ?? []) {
    if (reader.stopped) break;
    const nameProblem = checkName('role name')(r.key);
    if (nameProblem !== undefined) reader.report(r.keyNode, r.path, nameProblem);
    const fields = reader.mapping(r.value, r.path, `role '${r.key}'`, r.keyNode);
    if (fields === undefined) continue;
    reader.refuseUnknownKeys(fields, POLICY_KEYS.role, `role '${r.key}'`);
    const f = byKey(fields);
    const scopesEntry = f.get('scopes');
    let scopes: string[] | undefined;
    if (scopesEntry === undefined) {
      reader.report(r.keyNode, r.path, `role '${r.key}' has no 'scopes'; a role is a bundle of scopes`);
    } else {
      scopes = reader.stringList(scopesEntry.value, scopesEntry.path, 'scopes', {
        keyNode: scopesEntry.keyNode,
        check: checkScope,
      });
      if (scopes !== undefined && scopes.length === 0) {
        reader.report(
          scopesEntry.value,
          scopesEntry.path,
          `role '${r.key}' has an empty scopes list`,
          scopesEntry.keyNode,
        );
        scopes = undefined;
      }
    }
    const description = f.get('description');
    if (scopes !== undefined && nameProblem === undefined) {
      out.set(r.key, {
        name: r.key,
        description: (description && readDescription(reader, description)) ?? '',
        scopes: unique(scopes),
      });
    } else if (description !== undefined) {
      readDescription(reader, description);
    }
  }
  return { valid: out, declared };
}

function readAgent(reader: YamlReader, a: MapEntry, roleTable: RoleTable): PolicyAgent | undefined {
  const roles = roleTable.valid;
  const nameProblem = checkName('agent id')(a.key);
  if (nameProblem !== undefined) reader.report(a.keyNode, a.path, nameProblem);
  const fields = reader.mapping(a.value, a.path, `agent '${a.key}'`, a.keyNode);
  if (fields === undefined) return undefined;
  reader.refuseUnknownKeys(fields, POLICY_KEYS.agent, `agent '${a.key}'`);
  const f = byKey(fields);
  let ok = nameProblem === undefined;

  let ownScopes: string[] = [];
  const scopesEntry = f.get('scopes');
  if (scopesEntry !== undefined) {
    const v = reader.stringList(scopesEntry.value, scopesEntry.path, 'scopes', {
      keyNode: scopesEntry.keyNode,
      check: checkScope,
    });
    if (v === undefined) ok = false;
    else ownScopes = v;
  }

  let roleNames: string[] = [];
  const rolesEntry = f.get('roles');
  if (rolesEntry !== undefined) {
    const items = reader.sequence(rolesEntry.value, rolesEntry.path, 'roles', rolesEntry.keyNode);
    if (items === undefined) ok = false;
    for (const [i, item] of (items ?? []).entries()) {
      if (reader.stopped) {
        ok = false;
        break;
      }
      const p = pathJoin(rolesEntry.path, i);
      const name = reader.string(item, p, 'role name', { nonEmpty: true });
      if (name === undefined) {
        ok = false;
      } else if (!roles.has(name)) {
        // A declared role that failed its own validation is reported there, not again here.
        if (!roleTable.declared.has(name)) {
          reader.report(item, p, `unknown role ${JSON.stringify(name)} (${definedRoles(roleTable)})`);
        }
        ok = false;
      } else {
        roleNames.push(name);
      }
    }
    roleNames = unique(roleNames);
  }

  const scopes = unique([...ownScopes, ...roleNames.flatMap((r) => roles.get(r)?.scopes ?? [])]);
  if (ok && scopes.length === 0) {
    reader.report(a.keyNode, a.path, `agent '${a.key}' grants nothing: give it a non-empty 'scopes' list or 'roles'`);
    ok = false;
  }

  let resources = [...DEFAULT_AGENT_RESOURCES];
  const resourcesEntry = f.get('resources');
  if (resourcesEntry !== undefined) {
    const v = reader.stringList(resourcesEntry.value, resourcesEntry.path, 'resources', {
      keyNode: resourcesEntry.keyNode,
      check: checkPattern,
    });
    if (v === undefined) ok = false;
    else if (v.length === 0) {
      reader.report(
        resourcesEntry.value,
        resourcesEntry.path,
        `resources must not be empty (leave the key out for the default ${JSON.stringify(DEFAULT_AGENT_RESOURCES)})`,
        resourcesEntry.keyNode,
      );
      ok = false;
    } else resources = unique(v);
  }

  let constraints: Constraints = declareUnconstrained();
  const constraintsEntry = f.get('constraints');
  if (constraintsEntry !== undefined) {
    const c = readConstraints(reader, constraintsEntry);
    if (c === undefined) ok = false;
    else constraints = c;
  }
  const deniedEntry = f.get('denied_resources');
  if (deniedEntry !== undefined) {
    const v = reader.stringList(deniedEntry.value, deniedEntry.path, 'denied_resources', {
      keyNode: deniedEntry.keyNode,
      check: checkPattern,
    });
    if (v === undefined) ok = false;
    else if (v.length > 0) {
      // Validate through the shared parser (limits, pattern rules), then merge: the union of both
      // deny lists, so writing a pattern in either place denies it.
      try {
        const denied = parseConstraints({ denied_resources: v }, 'INVALID_REQUEST', deniedEntry.path);
        // (mergeConstraints keeps `unconstrained` only if both sides have it, so it drops here.)
        constraints = mergeConstraints(constraints, denied);
      } catch (err) {
        if (!(err instanceof AuthorityError)) throw err;
        reader.report(deniedEntry.value, deniedEntry.path, err.message, deniedEntry.keyNode);
        ok = false;
      }
    }
  }

  let maxTtlSeconds: number | undefined;
  const ttlEntry = f.get('max_ttl');
  if (ttlEntry !== undefined) {
    const node = reader.resolve(ttlEntry.value, ttlEntry.path);
    const value = node !== undefined && node !== null && isScalar(node) ? node.value : undefined;
    const parsed = parsePolicyDuration(value);
    if (typeof parsed === 'string') {
      reader.report(ttlEntry.value, ttlEntry.path, `max_ttl ${parsed}`, ttlEntry.keyNode);
      ok = false;
    } else if (parsed < MIN_POLICY_TTL_SECONDS || parsed > MAX_POLICY_TTL_SECONDS) {
      reader.report(
        ttlEntry.value,
        ttlEntry.path,
        `max_ttl must be between 60s and 24h (${MIN_POLICY_TTL_SECONDS}-${MAX_POLICY_TTL_SECONDS} seconds), got ${parsed} seconds`,
        ttlEntry.keyNode,
      );
      ok = false;
    } else maxTtlSeconds = parsed;
  }

  const descriptionEntry = f.get('description');
  const description = (descriptionEntry && readDescription(reader, descriptionEntry)) ?? '';

  if (!ok) return undefined;
  const agent: PolicyAgent = {
    id: a.key,
    description,
    ownScopes: unique(ownScopes),
    roles: roleNames,
    scopes,
    resources,
    constraints,
    deniedResources: [...constraints.deniedResources],
  };
  if (maxTtlSeconds !== undefined) agent.maxTtlSeconds = maxTtlSeconds;
  return agent;
}

function readDenyRules(reader: YamlReader, entry: MapEntry, agentIds: ReadonlySet<string>): PolicyDenyRule[] {
  const out: PolicyDenyRule[] = [];
  const items = reader.sequence(entry.value, entry.path, 'deny', entry.keyNode);
  items?.forEach((item, index) => {
    if (reader.stopped) return;
    const path = pathJoin(entry.path, index);
    const fields = reader.mapping(item, path, `deny rule ${index}`);
    if (fields === undefined) return;
    reader.refuseUnknownKeys(fields, POLICY_KEYS.denyRule, `deny rule ${index}`);
    const f = byKey(fields);
    let ok = true;
    const agentsEntry = f.get('agents');
    let agents: string[] | undefined;
    if (agentsEntry === undefined) {
      reader.report(item, path, `deny rule ${index} has no 'agents' list (use ["*"] for every agent)`);
      ok = false;
    } else {
      agents = reader.stringList(agentsEntry.value, agentsEntry.path, 'agents', {
        keyNode: agentsEntry.keyNode,
        check: (id) => {
          if (id === ANY_AGENT) return undefined;
          const bad = checkName('agent id')(id);
          if (bad !== undefined) return bad;
          if (!agentIds.has(id)) return `deny rule names unknown agent ${JSON.stringify(id)} (not under 'agents')`;
          return undefined;
        },
      });
      if (agents === undefined) ok = false;
      else if (agents.length === 0) {
        reader.report(
          agentsEntry.value,
          agentsEntry.path,
          `deny rule ${index} has an empty 'agents' list`,
          agentsEntry.keyNode,
        );
        ok = false;
      }
    }
    const rule: PolicyDenyRule = { index, agents: unique(agents ?? []), description: '' };
    // `scopes` and `resources` narrow the rule; an empty list would match nothing, so it is refused.
    const narrowing = (key: 'scopes' | 'resources', check: (value: string) => string | undefined) => {
      const entry = f.get(key);
      if (entry === undefined) return undefined;
      const v = reader.stringList(entry.value, entry.path, key, { keyNode: entry.keyNode, check });
      if (v === undefined) ok = false;
      else if (v.length === 0) {
        reader.report(
          entry.value,
          entry.path,
          `an empty '${key}' list matches nothing; leave the key out to deny every ${key.slice(0, -1)}`,
          entry.keyNode,
        );
        ok = false;
      } else return unique(v);
      return undefined;
    };
    const scopes = narrowing('scopes', checkScope);
    if (scopes !== undefined) rule.scopes = scopes;
    const resources = narrowing('resources', checkPattern);
    if (resources !== undefined) rule.resources = resources;
    const description = f.get('description');
    if (description !== undefined) rule.description = readDescription(reader, description) ?? '';
    if (ok) out.push(rule);
  });
  return out;
}

function readPolicy(reader: YamlReader, opts: ParsePolicyOptions, limits: PolicyLimits): Policy | undefined {
  const root = reader.root;
  if (root === null || (isScalar(root) && root.value === null)) {
    reader.report(null, '', 'policy is empty: expected a mapping with at least organization and agents');
    return undefined;
  }
  const top = reader.mapping(root, '', 'a policy');
  if (top === undefined) return undefined;
  reader.refuseUnknownKeys(top, POLICY_KEYS.document, 'the policy');
  const f = byKey(top);

  let version = DEFAULT_POLICY_VERSION;
  const versionEntry = f.get('version');
  if (versionEntry !== undefined) {
    const v = reader.scalarText(versionEntry.value, versionEntry.path, 'version', versionEntry.keyNode);
    if (v !== undefined && v.trim() === '')
      reader.report(versionEntry.value, versionEntry.path, 'version must not be empty', versionEntry.keyNode);
    else if (v !== undefined) version = v;
  }

  let organization: string | undefined;
  const orgEntry = f.get('organization');
  if (orgEntry === undefined)
    reader.report(root, '', "missing 'organization' (a non-empty string naming who the policy is for)");
  else
    organization = reader.string(orgEntry.value, orgEntry.path, 'organization', {
      nonEmpty: true,
      keyNode: orgEntry.keyNode,
    });

  let tenant: string | undefined;
  const tenantEntry = f.get('tenant');
  if (tenantEntry !== undefined) {
    tenant = reader.string(tenantEntry.value, tenantEntry.path, 'tenant', {
      nonEmpty: true,
      keyNode: tenantEntry.keyNode,
    });
    if (tenant !== undefined && opts.expectedTenant !== undefined && tenant !== opts.expectedTenant) {
      reader.report(
        tenantEntry.value,
        tenantEntry.path,
        `policy says tenant ${JSON.stringify(tenant)} but is being put for tenant ${JSON.stringify(opts.expectedTenant)}`,
      );
    }
  }

  let popRequired = false;
  const popEntry = f.get('pop');
  if (popEntry !== undefined) {
    const pop = reader.string(popEntry.value, popEntry.path, 'pop', { nonEmpty: true, keyNode: popEntry.keyNode });
    if (pop === 'required') popRequired = true;
    else if (pop !== undefined)
      reader.report(popEntry.value, popEntry.path, `pop must be 'required' (or absent), got ${JSON.stringify(pop)}`);
  }

  let readOnlyActions: string[] | undefined;
  const readOnlyEntry = f.get('read_only_actions');
  if (readOnlyEntry !== undefined) {
    const v = reader.stringList(readOnlyEntry.value, readOnlyEntry.path, 'read_only_actions', {
      keyNode: readOnlyEntry.keyNode,
      check: readOnlyActionProblem,
    });
    if (v !== undefined && v.length > MAX_READ_ONLY_ACTIONS) {
      reader.report(
        readOnlyEntry.value,
        readOnlyEntry.path,
        `read_only_actions has ${v.length} entries, at most ${MAX_READ_ONLY_ACTIONS} allowed`,
        readOnlyEntry.keyNode,
      );
    } else if (v !== undefined) {
      // An empty list is valid: every action then needs approval under write_requires_approval.
      readOnlyActions = unique(v);
    }
  }

  const cfEntry = f.get('compliance_frameworks');
  const complianceFrameworks =
    (cfEntry &&
      reader.stringList(cfEntry.value, cfEntry.path, 'compliance_frameworks', { keyNode: cfEntry.keyNode })) ??
    [];

  const dcEntry = f.get('data_classifications');
  const dataClassifications =
    dcEntry === undefined ? new Map<string, DataClassification>() : readClassifications(reader, dcEntry);

  const rolesEntry = f.get('roles');
  const roleTable: RoleTable =
    rolesEntry === undefined ? { valid: new Map(), declared: new Set() } : readRoles(reader, rolesEntry);

  const agents = new Map<string, PolicyAgent>();
  const agentsEntry = f.get('agents');
  let agentIds = new Set<string>();
  if (agentsEntry !== undefined) {
    const entries = reader.mapping(agentsEntry.value, agentsEntry.path, 'agents', agentsEntry.keyNode);
    if (entries !== undefined && entries.length > limits.maxAgents) {
      reader.report(
        agentsEntry.keyNode,
        agentsEntry.path,
        `too many agents: ${entries.length} (at most ${limits.maxAgents})`,
      );
    } else if (entries !== undefined) {
      agentIds = new Set(entries.map((e) => e.key));
      for (const a of entries) {
        if (reader.stopped) break;
        const agent = readAgent(reader, a, roleTable);
        if (agent !== undefined) agents.set(a.key, agent);
      }
    }
  }

  const denyEntry = f.get('deny');
  const denyRules = denyEntry === undefined || reader.stopped ? [] : readDenyRules(reader, denyEntry, agentIds);

  if (reader.issues.length > 0 || organization === undefined) return undefined;
  const policy: Policy = {
    version,
    organization,
    complianceFrameworks,
    dataClassifications,
    roles: roleTable.valid,
    agents,
    denyRules,
  };
  if (tenant !== undefined) policy.tenant = tenant;
  if (popRequired) policy.popRequired = true;
  if (readOnlyActions !== undefined) policy.readOnlyActions = readOnlyActions;
  return policy;
}

/**
 * Parses and validates a policy document. Throws PolicyValidationError with every issue found
 * (each with 1-based line and column and a path such as `agents.academic-advisor.scopes[1]`).
 */
export function parsePolicy(yamlText: string, opts: ParsePolicyOptions = {}): Policy {
  const limits: PolicyLimits = { ...DEFAULT_POLICY_LIMITS, ...opts.limits };
  const read = readYamlDocument(yamlText, limits);
  if (Array.isArray(read)) throw new PolicyValidationError(read);
  const policy = readPolicy(read.reader, opts, limits);
  if (policy === undefined || read.reader.issues.length > 0) {
    throw new PolicyValidationError(read.reader.issues);
  }
  return policy;
}
