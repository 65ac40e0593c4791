// Reads the tenant a token CLAIMS (root link's `tnt`) without verifying anything. Used only to
// pick the audit chain of a denied, unverifiable token presented with the operator credential.
const TENANT_ID = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** The root link's claimed tenant when it is a syntactically valid tenant id, else undefined. */
export function peekTenant(token: string): string | undefined {
  if (typeof token !== 'string' || token.length === 0 || token.length > 16 * 1024) return undefined;
  const end = token.indexOf('~');
  const root = end < 0 ? token : token.slice(0, end);
  const first = root.indexOf('.');
  const second = first < 0 ? -1 : root.indexOf('.', first + 1);
  if (second < 0) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(root.slice(first + 1, second), 'base64url').toString('utf8'));
    const tnt = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).tnt : undefined;
    return typeof tnt === 'string' && TENANT_ID.test(tnt) ? tnt : undefined;
  } catch {
    return undefined;
  }
}
