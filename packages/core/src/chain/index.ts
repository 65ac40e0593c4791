export {
  CHAIN_HASH_TAG,
  GENESIS_HASH_TAG,
  chainHash,
  genesisHash,
  auditGenesisHead,
  nextAuditChainEntry,
  type AuditChainEntry,
  type AuditChainHead,
} from './hash';
export {
  ATTESTATION_TAG,
  CHECKPOINT_TAG,
  attestationSigningBytes,
  checkpointSigningBytes,
  signAttestation,
  signCheckpoint,
  verifyAttestation,
  verifyCheckpoint,
  type AttestationClaims,
  type Checkpoint,
  type CheckpointKeyResolver,
  type SignatureCheck,
  type SignedAttestation,
  type SignedCheckpoint,
} from './signed';
export {
  verifyAuditChain,
  type AuditChainFaultKind,
  type AuditChainVerification,
  type VerifyAuditChainOptions,
} from './verify';
