"""service/sources/signature.py: imgproxy's URL signature, checked against its documented example."""

from __future__ import annotations

import pytest

from service.sources.signature import UNSIGNED_PLACEHOLDERS, Signer, SigningPair, parse_hex_list, sign

# docs.imgproxy.net, "Signing a URL": key "secret", salt "hello", hex encoded.
DOC_KEY, DOC_SALT = "736563726574", "68656C6C6F"
DOC_PATH = "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"
DOC_SIGNATURE = "oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8"


def test_the_documented_example_signs_and_verifies() -> None:
    signer = Signer.from_hex(parse_hex_list(DOC_KEY), parse_hex_list(DOC_SALT))
    assert sign(DOC_PATH, signer.pairs[0]) == DOC_SIGNATURE
    assert signer.verify(DOC_SIGNATURE, DOC_PATH)


@pytest.mark.parametrize(
    ("signature", "path"),
    [
        (DOC_SIGNATURE, DOC_PATH.replace("300", "301")),  # the path changed
        (DOC_SIGNATURE[:-1] + "I", DOC_PATH),  # one character of the signature changed
        (DOC_SIGNATURE + "=", DOC_PATH),  # padded: imgproxy signs without padding
        ("", DOC_PATH),
        ("insecure", DOC_PATH),  # a placeholder while unsigned URLs are off
        ("ünïcode", DOC_PATH),
    ],
)
def test_anything_else_fails(signature: str, path: str) -> None:
    signer = Signer.from_hex((DOC_KEY.lower(),), (DOC_SALT.lower(),))
    assert not signer.verify(signature, path)


def test_rotation_any_configured_pair_verifies() -> None:
    old = SigningPair(b"old-key", b"old-salt")
    new = SigningPair(b"new-key", b"new-salt")
    signer = Signer((new, old))
    assert signer.verify(sign(DOC_PATH, old), DOC_PATH)
    assert signer.verify(sign(DOC_PATH, new), DOC_PATH)
    assert not signer.verify(sign(DOC_PATH, SigningPair(b"other", b"old-salt")), DOC_PATH)


def test_no_pairs_refuses_everything_unless_unsigned_is_allowed() -> None:
    assert not Signer(()).verify("insecure", DOC_PATH)
    assert not Signer(()).verify(DOC_SIGNATURE, DOC_PATH)
    dev = Signer((), allow_unsigned=True)
    assert all(dev.verify(placeholder, DOC_PATH) for placeholder in UNSIGNED_PLACEHOLDERS)
    assert not dev.verify("anything-else", DOC_PATH)


def test_hex_lists() -> None:
    assert parse_hex_list(" 736563726574 , 68656C6C6F ") == ("736563726574", "68656c6c6f")
    assert parse_hex_list("") == ()
    for bad in ("abc", "zz", "73656372657g", "0x7365"):
        with pytest.raises(ValueError, match="hex"):
            parse_hex_list(bad)


def test_keys_and_salts_pair_up() -> None:
    with pytest.raises(ValueError, match="pairs"):
        Signer.from_hex(("aa", "bb"), ("cc",))
