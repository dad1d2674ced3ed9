"""Sample files with the real magic numbers, as an uploader would send them."""

import struct
import zlib


def png(seed: int = 0) -> bytes:
    """A valid 1x1 PNG; a different `seed` gives different bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"seed\x00" + str(seed).encode())
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def pdf(text_: str = "receipt") -> bytes:
    return f"%PDF-1.4\n1 0 obj <<>> endobj\n% {text_}\ntrailer <<>>\n%%EOF\n".encode()


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
ZIP = b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 60
HTML = b"<!DOCTYPE html><html><body>Sign in to Slack</body></html>"
TEXT = b"just some text, not a receipt"
