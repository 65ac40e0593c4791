// Public API of the envelope (token chain). Internals (claim validation, narrowing helpers) are
// reachable by deep import for tests, but are not part of the package surface.
export {
  DEFAULT_ENVELOPE_LIMITS,
  DEFAULT_MAX_DEPTH,
  DEFAULT_SKEW_SECONDS,
  resolveEnvelopeLimits,
  type EnvelopeLimits,
} from './limits';
export {
  ENVELOPE_ALG,
  ENVELOPE_TYP,
  OFFLINE_KID,
  holderKeyConfirmation,
  audiencesOf,
  type EnvelopeClaims,
  type HolderKeyConfirmation,
  type LinkHeader,
} from './claims';
export { parseStrictJson, findDuplicateKey } from './strict-json';
export {
  LINK_SEPARATOR,
  SEAL_TYP,
  SEAL_PREFIX,
  isSealSegment,
  hashLink,
  signLink,
  encodeToken,
  splitToken,
  parseLink,
  parseToken,
  type ParsedLink,
} from './link';
export { checkDepthLimit, checkNarrowing, checkRootLink, type NarrowingView } from './narrowing';
export {
  LinkMemo,
  DEFAULT_MEMO_BYTES,
  DEFAULT_MEMO_TENANT_SHARE,
  MIN_MEMO_BYTES,
  estimateHeapBytes,
  type LinkMemoOptions,
  type MemoEntry,
  type MemoStats,
} from './memo';
export { sealToken, splitSeal, unsealedChain, type SealedParts } from './seal';
export {
  REQUEST_PROOF_TYP,
  MAX_REQUEST_PROOF_LENGTH,
  DEFAULT_REQUEST_PROOF_WINDOW_SECONDS,
  ReplayCache,
  DEFAULT_REPLAY_TENANT_SHARE,
  type ReplayGuard,
  contextDigest,
  signRequestProof,
  verifyRequestProof,
  type ProvenRequest,
  type RequestProofVerification,
} from './request-proof';
export { peekClaimedPath, type ClaimedLink, type ClaimedPath } from './peek';
export {
  verifyEnvelope,
  verifyEnvelopeFor,
  isoTime,
  type ResolvedKey,
  type EnvelopeVerifyOptions,
  type VerifiedEnvelope,
  type NowSource,
} from './verify';
export {
  mintRoot,
  deriveChild,
  newJti,
  offlineSigner,
  type LinkSigner,
  type RootParams,
  type ChildParams,
  type MintOptions,
  type DeriveOptions,
  type MintedToken,
  type HolderKeyInput,
} from './mint';
