"""The original's Python check_envelope (authority-runtime, PyNaCl = native libsodium), measured
in the same run as the TypeScript cold checks: one signed envelope, checked repeatedly (signature,
expiry, scope, constraints), and raw PyNaCl Ed25519 verify of the same signature. Prints one JSON
object. Run by services/enforcer/bench/in-process.ts with the virtualenv it created under .infra/."""
import json
import logging
import sys
import time

import nacl.encoding
import nacl.signing
from authority_runtime.enforce import check_envelope
from authority_runtime.envelope import (
    _canonical_json,
    create_simple_envelope,
    generate_key_pair,
)

logging.disable(logging.CRITICAL)
max_s = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 3.0


def measure(fn, max_ops=200_000):
    for _ in range(200):
        fn()
    ops, start = 0, time.perf_counter()
    while ops < max_ops:
        for _ in range(100):
            fn()
        ops += 100
        if time.perf_counter() - start >= max_s:
            break
    return round(ops / (time.perf_counter() - start))


private_key, public_key = generate_key_pair()
env = create_simple_envelope(
    agent_id="agent-1",
    scopes=["vault:finance:read", "vault:*:list"],
    private_key=private_key,
    resources=["slos://vaults/finance/*"],
    ttl_seconds=3600,
)
check = lambda: check_envelope(env, public_key, "vault:finance:read", resource="slos://vaults/finance/doc-001")
check()  # raises if the envelope does not pass

d = env.model_dump()
del d["signature"]
message = _canonical_json(d).encode("utf-8")
sig = bytes.fromhex(env.signature)
vk = nacl.signing.VerifyKey(public_key, encoder=nacl.encoding.HexEncoder)
raw = lambda: vk.verify(message, sig)

import importlib.metadata as md

print(
    json.dumps(
        {
            "check_envelope_ops_per_sec": measure(check),
            "pynacl_verify_ops_per_sec": measure(raw),
            "authority_runtime_version": md.version("authority-runtime"),
            "pynacl_version": md.version("pynacl"),
        }
    )
)
