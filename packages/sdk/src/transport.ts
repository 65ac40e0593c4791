// One place for how the SDK talks gRPC: channel credentials (TLS/mTLS), the Bearer credential in
// call metadata, a deadline on every call, retries with backoff for calls that are safe to repeat,
// failover across several addresses, cancellation, and mapping failures to typed errors.
import * as grpc from '@grpc/grpc-js';
import { AuthorityApiError, CancelledError, fromServiceError, apiError } from './errors';

/** TLS for the channel. `true` uses the system roots. */
export interface TlsOptions {
  /** PEM CA certificate(s) to trust instead of the system roots. */
  ca?: Buffer | string;
  /** PEM client certificate and key for mutual TLS. */
  cert?: Buffer | string;
  key?: Buffer | string;
  /** Expected server name when it differs from the address host (SNI and certificate check). */
  serverName?: string;
}

export interface RetryPolicy {
  /** Attempts in total for a call that is safe to repeat (at least the number of addresses). */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

export const DEFAULT_DEADLINE_MS = 5000;
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 1000,
  multiplier: 2,
});

/** Options shared by every client. */
export interface ClientOptions {
  /** The API credential, sent as `authorization: Bearer <credential>` on every call. */
  credential?: string;
  /** Default tenant filled into requests that do not name one. */
  tenant?: string;
  /** `false`/absent: plaintext (loopback and in-cluster meshes only); `true`: TLS with system roots. */
  tls?: boolean | TlsOptions;
  /** Deadline of each call, retries included (default 5 s). */
  deadlineMs?: number;
  /**
   * Per-attempt timeout for safe calls, so a hung replica is failed over instead of eating the whole
   * deadline (default: the deadline with one address, half of it with several).
   */
  attemptTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Extra metadata on every call. */
  metadata?: Record<string, string>;
  /** grpc-js channel options (merged over the SDK's). */
  channelOptions?: grpc.ChannelOptions;
}

/** Options of one call. */
export interface CallOptions {
  /** Overrides the client's deadline for this call. */
  deadlineMs?: number;
  /** Cancels the call (and its retries). */
  signal?: AbortSignal;
  /** Extra metadata for this call. */
  metadata?: Record<string, string>;
  /** Receives the server's response headers (e.g. `date`, used by `doctor` to estimate skew). */
  onResponseHeaders?: (headers: grpc.Metadata, address: string) => void;
}

const SDK_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // A control-plane client should notice a restarted server quickly.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 5000,
  'grpc.primary_user_agent': 'authority-sdk-js/0.1.0',
};

/** Channel credentials for the options (plaintext, TLS, or mutual TLS). */
export function channelCredentials(tls: ClientOptions['tls']): grpc.ChannelCredentials {
  if (tls === undefined || tls === false) return grpc.credentials.createInsecure();
  const t: TlsOptions = tls === true ? {} : tls;
  const buf = (v: Buffer | string | undefined) => (v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v));
  if ((t.cert === undefined) !== (t.key === undefined)) {
    throw new TypeError('tls.cert and tls.key must be given together (mutual TLS)');
  }
  return grpc.credentials.createSsl(buf(t.ca), buf(t.key), buf(t.cert));
}

/** A generated grpc-js client constructor (e.g. `grpcObject.authority.v1.IssuerService`). */
export type ServiceClientConstructor<C extends grpc.Client> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => C;

type UnaryFn = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, value?: unknown) => void,
) => grpc.ClientUnaryCall;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether a failed attempt may be repeated (on the next address) for a safe call. */
function isRetryable(err: AuthorityApiError, attemptTimedOut: boolean): boolean {
  if (err.code === grpc.status.UNAVAILABLE) return true;
  // Our per-attempt timeout fired (not the caller's deadline): the replica hangs; try another.
  return err.code === grpc.status.DEADLINE_EXCEEDED && attemptTimedOut;
}

/**
 * The channels of one service (one per address) and the call machinery. Several addresses are
 * replicas: a call goes to the preferred one and fails over to the next on UNAVAILABLE or a
 * connection failure; the replica that answered becomes the preferred one.
 */
export class Transport<C extends grpc.Client> {
  readonly addresses: readonly string[];
  readonly serviceName: string;
  private readonly clients: (C | undefined)[];
  private preferred = 0;
  private readonly creds: grpc.ChannelCredentials;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly baseMetadata: Record<string, string>;
  private readonly retry: RetryPolicy;
  private readonly deadlineMs: number;
  private readonly attemptTimeoutMs: number;
  private closed = false;

  constructor(
    serviceName: string,
    private readonly ctor: ServiceClientConstructor<C>,
    addresses: string | readonly string[],
    private readonly options: ClientOptions = {},
  ) {
    const list = (typeof addresses === 'string' ? [addresses] : [...addresses])
      .map((a) => a.trim())
      .filter((a) => a !== '');
    if (list.length === 0) throw new TypeError(`${serviceName}: at least one address is required`);
    this.serviceName = serviceName;
    this.addresses = list;
    this.clients = list.map(() => undefined);
    this.creds = channelCredentials(options.tls);
    const tls = typeof options.tls === 'object' ? options.tls : undefined;
    this.channelOptions = {
      ...SDK_CHANNEL_OPTIONS,
      ...(tls?.serverName
        ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName }
        : {}),
      ...options.channelOptions,
    };
    this.baseMetadata = { ...options.metadata };
    if (options.credential !== undefined && options.credential !== '') {
      if (/[\r\n]/.test(options.credential)) throw new TypeError('credential must not contain line breaks');
      this.baseMetadata.authorization = `Bearer ${options.credential}`;
    }
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.attemptTimeoutMs =
      options.attemptTimeoutMs ?? (list.length > 1 ? Math.ceil(this.deadlineMs / 2) : this.deadlineMs);
  }

  /** The grpc-js client for an address index (created on first use). */
  client(index: number): C {
    if (this.closed) throw new TypeError(`${this.serviceName} client is closed`);
    let c = this.clients[index];
    if (c === undefined) {
      c = new this.ctor(this.addresses[index] as string, this.creds, this.channelOptions);
      this.clients[index] = c;
    }
    return c;
  }

  /** The address calls currently go to first. */
  get currentAddress(): string {
    return this.addresses[this.preferred] as string;
  }

  metadata(extra?: Record<string, string>): grpc.Metadata {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(this.baseMetadata)) md.set(k, v);
    for (const [k, v] of Object.entries(extra ?? {})) md.set(k, v);
    return md;
  }

  /**
   * One unary call. `safe` calls (reads; Check/BatchCheck) are retried on UNAVAILABLE with backoff
   * and fail over across addresses within the deadline; other calls are made exactly once.
   * `prepare`, when given, builds the request of each attempt from `request` (e.g. a fresh
   * per-request proof, so a retry never replays a nonce); a throw ends the call.
   */
  async unary<Res>(
    method: string,
    request: unknown,
    opts: CallOptions = {},
    safe = false,
    prepare?: (request: unknown, attempt: number) => unknown,
  ): Promise<Res> {
    const fullMethod = `${this.serviceName}/${method}`;
    const deadlineAt = Date.now() + (opts.deadlineMs ?? this.deadlineMs);
    const n = this.addresses.length;
    const maxAttempts = safe ? Math.max(this.retry.maxAttempts, n) : 1;
    let backoff = this.retry.initialBackoffMs;
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw this.cancelled(fullMethod, opts.signal.reason);
      const index = this.preferred;
      const address = this.addresses[index] as string;
      const attemptDeadline = safe ? Math.min(deadlineAt, Date.now() + this.attemptTimeoutMs) : deadlineAt;
      const attemptRequest = prepare === undefined ? request : prepare(request, attempt);
      try {
        return await this.attemptOnce<Res>(index, method, attemptRequest, attemptDeadline, opts);
      } catch (raw) {
        const err = raw instanceof AuthorityApiError ? raw : fromServiceError(raw, { method: fullMethod, address });
        const attemptTimedOut = attemptDeadline < deadlineAt;
        const remaining = deadlineAt - Date.now();
        if (!safe || !isRetryable(err, attemptTimedOut) || attempt + 1 >= maxAttempts || remaining <= 0) {
          throw err;
        }
        if (n > 1 && this.preferred === index) this.preferred = (index + 1) % n;
        // Fail over at once; back off once every replica has been tried in this round.
        if ((attempt + 1) % n === 0) {
          const jittered = Math.min(backoff, this.retry.maxBackoffMs) * (0.5 + Math.random() / 2);
          if (jittered >= deadlineAt - Date.now()) throw err;
          try {
            await sleep(jittered, opts.signal);
          } catch (reason) {
            throw this.cancelled(fullMethod, reason);
          }
          backoff *= this.retry.multiplier;
        }
      }
    }
  }

  private cancelled(method: string, reason: unknown): AuthorityApiError {
    return new CancelledError({
      code: grpc.status.CANCELLED,
      message: `${method}: cancelled${reason instanceof Error ? ` (${reason.message})` : ''}`,
      method,
      cause: reason,
    });
  }

  private attemptOnce<Res>(
    index: number,
    method: string,
    request: unknown,
    deadline: number,
    opts: CallOptions,
  ): Promise<Res> {
    const fullMethod = `${this.serviceName}/${method}`;
    const address = this.addresses[index] as string;
    const client = this.client(index);
    const fn = (client as unknown as Record<string, UnaryFn | undefined>)[method];
    if (typeof fn !== 'function') throw new TypeError(`${this.serviceName} has no method ${method}`);
    return new Promise<Res>((resolve, reject) => {
      let settled = false;
      const onAbort = () => call.cancel();
      const call = fn.call(
        client,
        request,
        this.metadata(opts.metadata),
        { deadline: new Date(deadline) },
        (err, value) => {
          settled = true;
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) {
            if (err.code === grpc.status.CANCELLED && opts.signal?.aborted)
              reject(this.cancelled(fullMethod, opts.signal.reason));
            else reject(fromServiceError(err, { method: fullMethod, address }));
          } else if (value === undefined || value === null) {
            reject(
              apiError({
                code: grpc.status.INTERNAL,
                message: `${fullMethod}: empty response`,
                method: fullMethod,
                address,
              }),
            );
          } else {
            resolve(value as Res);
          }
        },
      );
      if (opts.onResponseHeaders) {
        const cb = opts.onResponseHeaders;
        call.on('metadata', (md: grpc.Metadata) => cb(md, address));
      }
      if (!settled) opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A server-streaming call on the preferred address (no retries: the caller resumes). */
  serverStream<Res>(method: string, request: unknown, opts: CallOptions = {}): AsyncIterable<Res> & { cancel(): void } {
    const fullMethod = `${this.serviceName}/${method}`;
    const address = this.currentAddress;
    const client = this.client(this.preferred);
    const fn = (
      client as unknown as Record<
        string,
        ((req: unknown, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<Res>) | undefined
      >
    )[method];
    if (typeof fn !== 'function') throw new TypeError(`${this.serviceName} has no method ${method}`);
    const callOpts: grpc.CallOptions =
      opts.deadlineMs !== undefined ? { deadline: new Date(Date.now() + opts.deadlineMs) } : {};
    const stream = fn.call(client, request, this.metadata(opts.metadata), callOpts);
    const onAbort = () => stream.cancel();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    return {
      cancel: () => stream.cancel(),
      async *[Symbol.asyncIterator]() {
        try {
          for await (const msg of stream as AsyncIterable<Res>) yield msg;
        } catch (err) {
          if (opts.signal?.aborted) return;
          throw fromServiceError(err, { method: fullMethod, address });
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
          stream.cancel();
        }
      },
    };
  }

  /** Waits until the channel to an address is connected (or throws at the deadline). */
  waitForReady(index: number, deadlineMs = this.deadlineMs): Promise<void> {
    const client = this.client(index);
    return new Promise((resolve, reject) => {
      client.waitForReady(Date.now() + deadlineMs, (err) => {
        if (err) {
          reject(
            apiError({
              code: grpc.status.UNAVAILABLE,
              message: `${this.addresses[index]}: not reachable (${err.message})`,
              address: this.addresses[index],
              cause: err,
            }),
          );
        } else resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients) c?.close();
    this.clients.fill(undefined);
  }
}
