"""Sources: where an input comes from. A source URL names a loader by its scheme (`loader.py`:
the interface and `parse_source_url`): `local:///path` under SOURCE_DIR (`local.py`) and
`stored:///<sha256>` for an upload kept by POST /api/sources (`stored.py`); http(s) and S3
loaders are to come behind the same interface. `signature.py` checks /img URLs' signatures
before any source is touched. No web imports."""
