"""The server's signing key: Ed25519, made once and kept in the data folder (mode 600).

It signs each evidence bundle's `manifest.json`, which lists the sha256 of every other member,
so a good signature says the bundle came, unchanged, from the server holding the private key.
Anyone can check it with the public key (`annotator keys public`, `GET /api/v1/signing-key`).
A copy of the public key travels in the bundle for convenience, but it proves nothing: whoever
changed a bundle could have replaced it with their own. Origin is proved only against a public
key obtained some other way, e.g. from the newsroom's own site.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from annotations import jsontext
from annotations.errors import AnnotationError
from annotations.keyfile import create_once

ALGORITHM = "Ed25519"
KEY_FILE = "signing_key"


class SigningKeyError(AnnotationError):
    """A key file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def public_pem(self) -> str:
        return public_pem(self.public)

    def fingerprint(self) -> str:
        return fingerprint(self.public)


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def fingerprint(key: Ed25519PublicKey) -> str:
    """The sha256 of the raw 32-byte public key, in hex: how a key is named in messages."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def stored_key(path: Path) -> SigningKey:
    """The key in `path`, made there (mode 600) the first time; every worker and restart, and
    every process racing to make it, ends up with the same one."""
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        create_once(path, pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, OSError) as exc:
        raise SigningKeyError(f"{path}: not a readable PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an {ALGORITHM} private key")
    return SigningKey(key)


def read_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (as `annotator keys public` prints it)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"{path}: no such key file") from None
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise SigningKeyError(f"{path}: not a PEM public key ({reason})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path}: not an {ALGORITHM} public key")
    return key


def signature_document(key: SigningKey, data: bytes) -> dict[str, Any]:
    """What the bundle's signature member holds, for `data` (the manifest's bytes)."""
    return {
        "algorithm": ALGORITHM,
        "key_sha256": key.fingerprint(),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }


def check_signature(document: bytes, data: bytes, key: Ed25519PublicKey) -> str | None:
    """None if `document` (a signature member) is `key`'s signature of `data`; otherwise why
    not, in words."""
    try:
        parsed = jsontext.loads(document)  # from the bundle: it may nest deep
        algorithm, named, encoded = parsed["algorithm"], parsed["key_sha256"], parsed["signature"]
        signature = base64.b64decode(str(encoded), validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        return f"not a signature document ({type(exc).__name__}: {exc})"
    if algorithm != ALGORITHM:
        return f"signed with {algorithm!r}, not {ALGORITHM}"
    given = fingerprint(key)
    if named != given:
        return (
            f"signed by key sha256:{str(named)[:16]}\u2026, "
            f"not by the key given (sha256:{given[:16]}\u2026)"
        )
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return (
            "the signature does not match: changed after it was signed, or not signed by this key"
        )
    return None
