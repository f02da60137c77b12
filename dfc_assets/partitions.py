"""Shards and partition keys: how datasets and their versions map onto Dagster, without Dagster.

A *shard* is one chain of assets in the code location: one source kind, and for StatCan tables one
StatCan subject (the first two digits of the 8-digit product id). A dataset's version is the partition
``{dataset key}:{version}`` of its shard's dynamic partition set ``dfc__{shard}__versions``. Dataset keys
are ``[a-z][a-z0-9_]*`` and version keys ``[A-Za-z0-9._-]+``, so the first ``:`` splits a partition key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

STATCAN_TABLE = "statcan_table"
# The asset chain of every shard, in order: asset keys [shard, name].
ASSET_NAMES = ("raw", "parquet", "zenodo_record", "torrent", "stac_item")
# StatCan's subjects: the first two digits of every WDS product id ("33100036" is in subject 33).
STATCAN_SUBJECTS = (
    "10", "11", "12", "13", "14", "15", "16", "17", "18", "20", "21", "22", "23", "24", "25", "27",
    "32", "33", "34", "35", "36", "37", "38", "39", "41", "42", "43", "44", "45", "46", "98", "99",
)
# Tables of a subject StatCan adds after this list was written: still published, in one shard of their own.
STATCAN_TABLE_FALLBACK_SHARD = f"{STATCAN_TABLE}_other"

DATASET_KEY = r"[a-z][a-z0-9_]*"
VERSION_KEY = r"[A-Za-z0-9._-]+"
PARTITION_KEY_PATTERN = re.compile(rf"^({DATASET_KEY}):({VERSION_KEY})\Z")
_DATASET_KEY_PATTERN = re.compile(rf"^{DATASET_KEY}\Z")
_VERSION_KEY_PATTERN = re.compile(rf"^{VERSION_KEY}\Z")
_PRODUCT_ID_PATTERN = re.compile(r"^\d{8}\Z")


class InvalidPartitionKey(ValueError):
    """A partition key that is not ``{dataset key}:{version}``."""


def statcan_table_shard(product_id: str) -> str:
    if not isinstance(product_id, str) or not _PRODUCT_ID_PATTERN.match(product_id):
        raise ValueError(f"invalid StatCan product id {product_id!r}: expected 8 digits such as '33100036'")
    subject = product_id[:2]
    return f"{STATCAN_TABLE}_{subject}" if subject in STATCAN_SUBJECTS else STATCAN_TABLE_FALLBACK_SHARD


def statcan_table_shards() -> tuple[str, ...]:
    """Every shard a StatCan table can fall in: one per subject, and the fallback."""
    return (*(f"{STATCAN_TABLE}_{subject}" for subject in STATCAN_SUBJECTS), STATCAN_TABLE_FALLBACK_SHARD)


def shard_of(spec) -> str:
    """The shard of a ``DatasetSpec``: ``statcan_table_{subject}`` for StatCan tables, the source kind otherwise."""
    source = spec.source
    if source.kind == STATCAN_TABLE:
        return statcan_table_shard(source.product_id)
    return source.kind


def partitions_name(shard: str) -> str:
    """The name of a shard's dynamic partition set (instance-global in Dagster, hence the namespace)."""
    return f"dfc__{shard}__versions"


def partition_key(dataset_key: str, version: str) -> str:
    if not isinstance(dataset_key, str) or not _DATASET_KEY_PATTERN.match(dataset_key):
        raise InvalidPartitionKey(f"invalid dataset key {dataset_key!r} for a partition key: expected {DATASET_KEY}")
    if not isinstance(version, str) or not _VERSION_KEY_PATTERN.match(version):
        raise InvalidPartitionKey(f"invalid version key {version!r} of dataset {dataset_key!r} for a partition key: expected {VERSION_KEY}")
    return f"{dataset_key}:{version}"


def split_partition_key(pk: str) -> tuple[str, str]:
    """``'statcan_table_33100036:2025-06-11'`` -> ``('statcan_table_33100036', '2025-06-11')``; anything else is refused."""
    match = PARTITION_KEY_PATTERN.match(pk) if isinstance(pk, str) else None
    if match is None:
        raise InvalidPartitionKey(
            f"invalid partition key {pk!r}: expected '{{dataset key}}:{{version}}' matching {PARTITION_KEY_PATTERN.pattern}, "
            "for example 'statcan_table_33100036:2025-06-11'"
        )
    return match.group(1), match.group(2)


def collection_shards(collection) -> tuple[str, ...]:
    """The shards a registry collection's members can fall in, known without the network or the store.

    A StatCan collection filtered by product ids covers those ids' subjects; any other filter (subject,
    survey, frequency) can select a table of any product-id subject (33100036 is filed under subjects
    1004 and 330304), so it covers every StatCan shard.
    """
    kind = getattr(collection, "source_kind", None) or getattr(collection, "kind", None)
    if kind in ("statcan_tables", STATCAN_TABLE):
        product_ids = tuple(getattr(getattr(collection, "filters", None), "product_ids", None) or getattr(collection, "product_ids", None) or ())
        if product_ids:
            return tuple(dict.fromkeys(statcan_table_shard(pid) for pid in sorted(product_ids)))
        return statcan_table_shards()
    raise ValueError(f"collection {getattr(collection, 'key', collection)!r}: no shards known for collection kind {kind!r}")


def registry_shards(registry) -> tuple[str, ...]:
    """The shards of a registry, in a stable order: its individual entries' and its collections'.

    ``registry`` is a ``Registry`` (``entries`` and ``collections``) or a plain sequence of dataset specs.
    """
    entries: Iterable = getattr(registry, "entries", registry)
    collections: Iterable = getattr(registry, "collections", ())
    shards = {shard_of(spec) for spec in entries}
    for collection in collections:
        shards.update(collection_shards(collection))
    return tuple(sorted(shards))


DATASET_TAG = "dfc/dataset"
SHARD_TAG = "dfc/shard"
# One tag per dataset a run publishes, valued with its versions: an operator filters runs by one dataset with it
# whether the run was that dataset's alone or a batch over many.
DATASET_VERSIONS_TAG_PREFIX = "dfc/dataset/"
PARTITIONS_PER_RUN = 25  # DFC_PARTITIONS_PER_RUN; README "Partitions per run"


def partitions_per_run(environ=None) -> int:
    """How many partitions (dataset versions) one publishing run may cover: DFC_PARTITIONS_PER_RUN, default 25."""
    text = (os.environ if environ is None else environ).get("DFC_PARTITIONS_PER_RUN", "")
    if not text.strip():
        return PARTITIONS_PER_RUN
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"DFC_PARTITIONS_PER_RUN={text!r}: expected a whole number of partitions per run, at least 1")
    return int(text)


def batch_tag(shard: str) -> str:
    """The ``dfc/dataset`` value of a run over several datasets: batches of one shard queue behind each other."""
    return f"batch:{shard}"


def contiguous_batches(order: Sequence[str], wanted: Iterable[str], size: int) -> list[list[str]]:
    """``wanted`` in batches of at most ``size`` keys, each a contiguous stretch of ``order`` (a partition set's
    insertion order), so that a partition range ``[batch[0], batch[-1]]`` covers exactly that batch."""
    wanted = set(wanted)
    missing = wanted.difference(order)
    if missing:
        raise InvalidPartitionKey(f"partitions not in the partition set: {', '.join(sorted(missing))}")
    batches: list[list[str]] = []
    current: list[str] = []
    for key in order:
        if key in wanted and len(current) < size:
            current.append(key)
            continue
        if current:
            batches.append(current)
            current = []
        if key in wanted:
            current.append(key)
    if current:
        batches.append(current)
    return batches


def dataset_run_tags(partitions: str | Sequence[str] | None, shard: str | None) -> dict[str, str]:
    """The tags of a run over dataset versions (production queue limits key on ``dfc/dataset``); empty for other runs.

    One dataset (one version or several): ``dfc/dataset`` is the dataset. Several datasets: ``batch:{shard}``.
    Either way ``dfc/dataset/{key}`` names the versions of each dataset in the run.
    """
    keys = [partitions] if isinstance(partitions, str) else list(partitions or ())
    try:
        split = [split_partition_key(key) for key in keys]
    except InvalidPartitionKey:
        return {}
    if not split:
        return {}
    versions: dict[str, list[str]] = {}
    for dataset, version in split:
        versions.setdefault(dataset, []).append(version)
    if len(versions) > 1 and not shard:
        return {}
    tags = {DATASET_TAG: next(iter(versions)) if len(versions) == 1 else batch_tag(shard or "")}
    if shard:
        tags[SHARD_TAG] = shard
    tags.update({f"{DATASET_VERSIONS_TAG_PREFIX}{dataset}": ",".join(found) for dataset, found in versions.items()})
    return tags
