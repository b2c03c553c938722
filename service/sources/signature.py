"""URL signatures as imgproxy defines them: HMAC-SHA256 with a key over salt + path, URL-safe
base64 without padding, where the path is everything after the signature segment, its leading `/`
included, exactly as the client sent it (still percent-encoded).

Several key/salt pairs may be configured at once (URL_SIGNING_KEY / URL_SIGNING_SALT, comma
separated, paired in order), so keys rotate without downtime: a URL signed with any pair passes.
Unsigned URLs pass only when URL_ALLOW_UNSIGNED is on, and then only with one of imgproxy's
placeholders in the signature segment. No web imports.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

__all__ = ["UNSIGNED_PLACEHOLDERS", "Signer", "SigningPair", "parse_hex_list", "sign"]

# What imgproxy's URL builders put in the signature segment when they have no key.
UNSIGNED_PLACEHOLDERS = frozenset({"insecure", "unsafe", "_"})


@dataclass(frozen=True)
class SigningPair:
    key: bytes
    salt: bytes


def parse_hex_list(raw: str) -> tuple[str, ...]:
    """Comma-separated hex strings (each an even number of hex digits, at least one byte), lowercased."""
    values = tuple(v.strip().lower() for v in raw.split(",") if v.strip())
    for value in values:
        try:
            binascii.unhexlify(value)
        except (binascii.Error, ValueError):
            raise ValueError("comma-separated hex strings (an even number of 0-9a-f digits each)") from None
    return values


parse_hex_list.__doc__ = "empty or comma-separated hex strings (an even number of 0-9a-f digits each)"


def sign(path: str, pair: SigningPair) -> str:
    """The signature of `path` (everything after the signature segment, starting with `/`)."""
    digest = hmac.new(pair.key, pair.salt + path.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Signer:
    """The configured pairs and whether unsigned URLs are allowed (development only)."""

    pairs: tuple[SigningPair, ...]
    allow_unsigned: bool = False

    @classmethod
    def from_hex(cls, keys: tuple[str, ...], salts: tuple[str, ...], allow_unsigned: bool = False) -> Signer:
        if len(keys) != len(salts):
            raise ValueError(f"{len(keys)} signing keys but {len(salts)} salts: they are used in pairs")
        pairs = tuple(SigningPair(bytes.fromhex(k), bytes.fromhex(s)) for k, s in zip(keys, salts, strict=True))
        return cls(pairs, allow_unsigned)

    def verify(self, signature: str, path: str) -> bool:
        """Whether `signature` signs `path` with one of the pairs (or is a placeholder, when allowed).
        Every pair is compared in constant time, and all of them always, so timing says nothing
        about which pair came close."""
        if self.allow_unsigned and signature in UNSIGNED_PLACEHOLDERS:
            return True
        given = signature.encode("ascii", "replace")
        matched = False
        for pair in self.pairs:
            matched |= hmac.compare_digest(sign(path, pair).encode("ascii"), given)
        return matched
