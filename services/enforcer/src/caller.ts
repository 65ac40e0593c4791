// The authenticated caller of Check/BatchCheck: set by the server's authentication, read by the
// decider and written into each audit event (its own module so neither imports the other).

/** An authenticated caller of Check/BatchCheck. */
export interface Caller {
  kind: 'operator' | 'tenant';
  /** Credential id (`operator` for the operator credential). */
  id: string;
  /** The credential's tenant (tenant credentials only): tokens of other tenants are refused. */
  tenant?: string;
}
