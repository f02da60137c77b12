"""How a version file's torrent is made: flavour, piece size policy, trackers and descriptive fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

MIN_PIECE_SIZE = 16 * KIB  # BEP 52 block size; v2 and hybrid pieces are powers of two >= this
MAX_PIECE_SIZE = 16 * MIB  # D4C / Academic Torrents use 16 MiB for big data; larger is poorly supported
PIECES_BELOW_MAX = 64      # below 1 GiB aim for about this many pieces (continuous with 16 MiB at 1 GiB)

Flavour = Literal["hybrid", "v1"]


def piece_size_for(size: int) -> int:
    """Piece size policy.

    Files above 1 GiB get 16 MiB pieces, like Data for Canada's and Academic Torrents' torrents: few, large
    web-seed requests (Zenodo rate-limits) and small .torrent files. Smaller files get the smallest power of
    two >= 16 KiB that keeps them at or under 64 pieces, which meets 16 MiB exactly at 1 GiB.
    """
    if size < 0:
        raise ValueError(f"file size must be >= 0, got {size}")
    target = -(-size // PIECES_BELOW_MAX)  # ceil
    piece = MIN_PIECE_SIZE
    while piece < target and piece < MAX_PIECE_SIZE:
        piece *= 2
    return piece


def check_piece_size(piece_size: int) -> None:
    if piece_size < MIN_PIECE_SIZE or piece_size & (piece_size - 1):
        raise ValueError(
            f"piece size {piece_size} is not a power of two >= {MIN_PIECE_SIZE}; "
            "use piece_size=None for the default policy"
        )
    if piece_size > 128 * MIB:
        raise ValueError(f"piece size {piece_size} is above 128 MiB, which libtorrent rejects")


@dataclass(frozen=True)
class TorrentOptions:
    flavour: Flavour = "hybrid"
    piece_size: int | None = None          # None -> piece_size_for(size)
    trackers: tuple[str, ...] = ()         # each in its own tier, in this order
    comment: str | None = None             # may be bilingual ("English / Français")
    creator: str | None = None             # "created by"
    source: str | None = None              # info["source"]; changes the info-hash
    creation_date: int | None = None       # unix seconds; None -> no "creation date" (deterministic)

    def __post_init__(self) -> None:
        if self.flavour not in ("hybrid", "v1"):
            raise ValueError(f"torrent flavour must be 'hybrid' or 'v1', got {self.flavour!r}")
        if self.piece_size is not None:
            check_piece_size(self.piece_size)
        if isinstance(self.trackers, str):
            raise TypeError("trackers must be a tuple of URLs, not one string")

    def piece_size_for(self, size: int) -> int:
        return self.piece_size if self.piece_size is not None else piece_size_for(size)
