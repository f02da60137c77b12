"""What a published Zenodo version is to the rest of the pipeline: ids, DOIs and file URLs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import quote


def record_file_url(base_url: str, record_id: int, key: str) -> str:
    """The public file URL that serves Range requests (the BitTorrent web seed)."""
    return f"{base_url.rstrip('/')}/records/{record_id}/files/{quote(key, safe='')}"


@dataclass(frozen=True)
class PublishedFile:
    key: str
    size: int
    md5: str
    url: str


@dataclass(frozen=True)
class PublishedRecord:
    record_id: int
    concept_recid: str
    doi: str
    concept_doi: str
    doi_url: str
    concept_doi_url: str
    record_url: str
    version: str
    files: tuple[PublishedFile, ...]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        return data

    @classmethod
    def from_dict(cls, d: dict) -> "PublishedRecord":
        return cls(
            record_id=int(d["record_id"]),
            concept_recid=str(d["concept_recid"]),
            doi=d["doi"],
            concept_doi=d["concept_doi"],
            doi_url=d["doi_url"],
            concept_doi_url=d["concept_doi_url"],
            record_url=d["record_url"],
            version=d["version"],
            files=tuple(PublishedFile(key=f["key"], size=int(f["size"]), md5=f["md5"], url=f["url"]) for f in d["files"]),
        )

    @classmethod
    def from_deposition(cls, base_url: str, deposition: dict) -> "PublishedRecord":
        """From a published deposition (``state`` done or inprogress) of the legacy API."""
        record_id = int(deposition["id"])
        concept_recid = str(deposition["conceptrecid"])
        doi = deposition.get("doi") or deposition["metadata"]["doi"]
        prefix = doi.split("/", 1)[0]
        concept_doi = deposition.get("conceptdoi") or f"{prefix}/zenodo.{concept_recid}"
        files = tuple(
            PublishedFile(
                key=f["filename"], size=int(f["filesize"]), md5=str(f["checksum"]).removeprefix("md5:"),
                url=record_file_url(base_url, record_id, f["filename"]),
            )
            for f in deposition.get("files", [])
        )
        return cls(
            record_id=record_id,
            concept_recid=concept_recid,
            doi=doi,
            concept_doi=concept_doi,
            doi_url=deposition.get("doi_url") or f"https://doi.org/{doi}",
            concept_doi_url=f"https://doi.org/{concept_doi}",
            record_url=f"{base_url.rstrip('/')}/records/{record_id}",
            version=str(deposition["metadata"].get("version", "")),
            files=files,
        )
