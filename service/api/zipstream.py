"""A ZIP archive written entry by entry into a stream, so the first output can leave before the
last one is encoded. Entries are stored, not deflated: the images are already compressed."""

from __future__ import annotations

import time
import zipfile

__all__ = ["ZipStream"]


class _Sink:
    """A write-only, non-seekable file: zipfile then writes data descriptors instead of seeking."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._offset = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


class ZipStream:
    def __init__(self) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, mode="w", compression=zipfile.ZIP_STORED)
        self._stamp = time.localtime()[:6]

    def add(self, name: str, data: bytes) -> bytes:
        info = zipfile.ZipInfo(name, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        self._zip.writestr(info, data)
        return self._sink.take()

    def finish(self) -> bytes:
        self._zip.close()
        return self._sink.take()
