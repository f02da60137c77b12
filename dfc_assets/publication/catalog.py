"""Asset `catalog/stac_geoparquet`: the STAC GeoParquet catalog, its static STAC JSON and the torrent feeds.

An update (the default) reads the published build named by `state/catalog/head.json` plus the items announced in
the inbox since (`catalog.inbox`), never all of `releases/`: only the datasets with new versions are turned back
into items, re-linked (latest, deprecated, predecessor/successor; a backfilled old version slots into release
order) and merged with the untouched rows as Arrow slices (`catalog.merge`). A full rebuild (`full=True`, the weekly
`build_catalog` job, when there is no head yet or the last full rebuild is older than FULL_REBUILD_AFTER) reads every
item with one LIST of `releases/`. Both end in the same `_publish`, so an update gives the same file, row for row
and byte for byte, as a full rebuild of the same items.

Only what changed is written: the STAC JSON files and feeds of a dataset are compared between its previous rows
and its new rows, and uploaded where the bytes differ (the new item, its neighbours, the collection, the root
catalog when a dataset appears, the dataset's feed, the global feed). The collections of untouched datasets are refreshed from today's specs and the
previous build's collections (`state/catalog/builds/{sha}.collections.json.gz`), without reading their items, so a
spec change (a new title) reaches the footer, the STAC JSON and the feeds as in a full rebuild.

Guarantees kept: one writer at a time (the lease in `writer_lock`, besides the Dagster pool `stac_catalog`), and a
writer publishes only if the head is still the one it started from; the new file is validated before it replaces
the published one; an immutable copy per build under `catalog/builds/`; announcements are deleted only after the
catalog that holds their rows replaced the old one, so no row is lost to a concurrent publication.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.parquet as pq

from dfc_assets.catalog import inbox
from dfc_assets.catalog.collection import DatasetFacts, build_collection, refreshed_collection
from dfc_assets.catalog.file_checks import CatalogFileError, verify_catalog_file
from dfc_assets.catalog.geoparquet import CatalogFile, items_to_table, table_to_items, write_catalog_table
from dfc_assets.catalog.merge import collection_runs, merge_rows
from dfc_assets.catalog.stac_json import (CATALOG_FILE, collection_document, collection_path, encode_json, item_document, item_path,
                                          root_document, same_item_document)
from dfc_assets.catalog.validate import validate_item
from dfc_assets.publication.context import PublicationError, Publisher
from dfc_assets.publication.feeds import dataset_feed_bytes, global_feed_bytes
from dfc_assets.publication.writer_lock import writer_lock
from dfc_assets.registry import DatasetSpec
from dfc_assets.storage import CATALOG, CATALOG_BUILDS_PREFIX, STAC_JSON_PREFIX, TORRENT_FEED, dataset_feed, processed_artifact
from dfc_assets.storage.keys import STAC_ITEM_SUFFIX
from dfc_assets.storage.media_types import PARQUET, media_type_for

CATALOG_LOCK = "catalog/.writer-lock"
CATALOG_HEAD = "state/catalog/head.json"
CATALOG_STATE_BUILDS_PREFIX = "state/catalog/builds/"
RELEASES_PREFIX = "releases/"
FULL_REBUILD_AFTER = timedelta(days=7)
"""An update older than this since the last full rebuild becomes one: the weekly safety net for an item whose
announcement was lost (a crash between writing the item and announcing it), even if no schedule runs."""


@dataclass(frozen=True)
class PublishedCatalog:
    key: str
    build_key: str
    url: str
    file: CatalogFile
    items_per_dataset: dict[str, int]
    mode: str = "full"                      # "full", "update", or "unchanged" (nothing announced, no spec changed)
    changed_datasets: tuple[str, ...] = ()  # dataset ids whose rows, collection or documents were re-rendered
    stac_written: tuple[str, ...] = ()      # keys under catalog/stac/ uploaded
    feeds_written: tuple[str, ...] = ()     # keys under feeds/ uploaded


@dataclass(frozen=True)
class CatalogState:
    """A published build as the next update reads it."""
    head: dict
    table: pa.Table
    collections: dict[str, dict]


def item_keys(publisher: Publisher, spec: DatasetSpec) -> list[str]:
    return publisher.published.item_keys(spec.id)


def published_items(publisher: Publisher, spec: DatasetSpec) -> list[dict]:
    return [json.loads(publisher.store.get_bytes(key)) for key in item_keys(publisher, spec)]


def build_catalog(publisher: Publisher, specs: Sequence[DatasetSpec], *, full: bool = False) -> PublishedCatalog:
    """Bring the catalog, its STAC JSON and the feeds up to date, one writer at a time (see the module docstring)."""
    with writer_lock(publisher.store, CATALOG_LOCK, what="catalog", log=publisher.log):
        head = publisher.read_json(CATALOG_HEAD)
        if head is not None and not full and not _full_rebuild_due(head):
            try:
                return _update(publisher, specs, head)
            except _UnreadableBuild as error:
                publisher.log(f"catalog: {error}; rebuilding in full")
        return _full_rebuild(publisher, specs, head, _readable_state(publisher, head))


def published_state(publisher: Publisher) -> CatalogState | None:
    head = publisher.read_json(CATALOG_HEAD)
    return None if head is None else _load_state(publisher, head)


class _UnreadableBuild(Exception):
    """The build the head names cannot be read (deleted, truncated): only a full rebuild can go on."""


def _readable_state(publisher: Publisher, head: dict | None) -> CatalogState | None:
    """The build the head names, or None (no head yet, or its build unreadable): what a full rebuild compares with."""
    if head is None:
        return None
    try:
        return _load_state(publisher, head)
    except _UnreadableBuild as error:
        publisher.log(f"catalog: {error}; every STAC JSON file and feed is rewritten")
        return None


def _previous_collections(publisher: Publisher, head: dict) -> dict[str, dict]:
    try:
        return json.loads(gzip.decompress(publisher.store.get_bytes(head["collections_key"])))
    except (KeyError, ValueError, OSError, EOFError) as error:
        raise _UnreadableBuild(f"the collections of the build named by {CATALOG_HEAD} cannot be read ({error!r})") from error


def _full_rebuild_due(head: dict) -> bool:
    return datetime.now(timezone.utc) - datetime.fromisoformat(head["full_build_at"]) > FULL_REBUILD_AFTER


def _load_state(publisher: Publisher, head: dict, collections: dict[str, dict] | None = None) -> CatalogState:
    if collections is None:
        collections = _previous_collections(publisher, head)
    try:
        path = publisher.store.download(head["build_key"], publisher.scratch / "catalog" / "previous.parquet")
        table = pq.read_table(path)
    except (KeyError, ValueError, OSError) as error:
        raise _UnreadableBuild(f"the build {head.get('build_key')} named by {CATALOG_HEAD} cannot be read ({error!r})") from error
    return CatalogState(head, table, collections)


def _dataset_facts(publisher: Publisher, spec: DatasetSpec, concept_doi: str | None) -> DatasetFacts:
    pointer = publisher.published.latest(spec.id)  # the main file's alias: .parquet, or .pmtiles for a prebuilt one
    return DatasetFacts(
        dataset_id=spec.id, title_en=spec.title.en, title_fr=spec.title.fr,
        description_en=spec.description.en, description_fr=spec.description.fr,
        license=spec.license, license_url=spec.license_url, keywords=spec.keywords,
        producer=spec.producer, producer_url=spec.producer_url, concept_doi=concept_doi,
        latest_url=publisher.store.public_url(pointer.files[0].processed_key if pointer else processed_artifact(spec.id)),
        latest_media_type=media_type_for(pointer.files[0].processed_key) if pointer else PARQUET,
    )


def _collection(publisher: Publisher, spec: DatasetSpec, linked: list[dict]) -> dict:
    concept = next((i["properties"]["dfc:concept_doi"] for i in linked if i["properties"].get("dfc:concept_doi")), None)
    return build_collection(_dataset_facts(publisher, spec, concept), linked)


def _validated(spec: DatasetSpec, item: dict) -> dict:
    try:
        validate_item(item)
    except Exception as error:
        raise PublicationError(f"catalog: item {item.get('id')} of dataset {spec.key} does not validate: {error}") from error
    return item


def _full_rebuild(publisher: Publisher, specs: Sequence[DatasetSpec], head: dict | None,
                  previous: CatalogState | None) -> PublishedCatalog:
    announcements = inbox.announced(publisher.store)  # before the LIST: an announced item is then surely listed
    by_id = {spec.id: spec for spec in specs}
    keys: dict[str, list[str]] = defaultdict(list)
    unregistered: set[str] = set()
    for info in publisher.store.list(RELEASES_PREFIX):
        dataset_id = info.key[len(RELEASES_PREFIX):].split("/", 1)[0]
        if not info.key.endswith(STAC_ITEM_SUFFIX):
            continue
        if dataset_id in by_id:
            keys[dataset_id].append(info.key)
        else:
            unregistered.add(dataset_id)
    items = [_validated(by_id[d], json.loads(publisher.store.get_bytes(k))) for d in sorted(keys) for k in keys[d]]
    table = items_to_table(items)
    del items  # the documents are rendered from the rows, as in an update
    collections: dict[str, dict] = {}
    rendered: dict[str, list[dict]] = {}
    for dataset_id, (offset, length) in collection_runs(table).items():
        rendered[dataset_id] = table_to_items(table.slice(offset, length))
        collections[dataset_id] = _collection(publisher, by_id[dataset_id], rendered[dataset_id])
    candidates = set(collections) | (set(previous.collections) if previous else set())
    return _publish(publisher, specs, head, previous, table, collections, rendered, candidates, announcements,
                    full=True, unregistered=unregistered)


def _update(publisher: Publisher, specs: Sequence[DatasetSpec], head: dict) -> PublishedCatalog:
    announcements = inbox.announced(publisher.store)
    by_id = {spec.id: spec for spec in specs}
    returning = sorted(set(head.get("unregistered", [])) & set(by_id))
    if returning:
        raise _UnreadableBuild(f"dataset(s) {returning} are registered again; their versions are not in the previous build")
    previous_collections = _previous_collections(publisher, head)
    collections: dict[str, dict] = {}
    refreshed: set[str] = set()
    for dataset_id, previous in previous_collections.items():
        if dataset_id in by_id:
            concept = previous.get("sci:doi")
            collections[dataset_id] = refreshed_collection(_dataset_facts(publisher, by_id[dataset_id], concept), previous)
            if collections[dataset_id] != previous:
                refreshed.add(dataset_id)
    removed = set(previous_collections) - set(by_id)
    unregistered = set(head.get("unregistered", [])) | removed
    new_items: dict[str, list[dict]] = defaultdict(list)
    for announcement in announcements:
        spec = by_id.get(announcement.dataset_id)
        if spec is None:
            publisher.log(f"catalog: {announcement.item_key} is announced but its dataset is not registered; left out")
            unregistered.add(announcement.dataset_id)
            continue
        try:
            new_items[spec.id].append(_validated(spec, json.loads(publisher.store.get_bytes(announcement.item_key))))
        except KeyError:
            raise PublicationError(f"catalog: dataset {spec.key} version {announcement.version} is announced "
                                   f"({announcement.key}) but its item {announcement.item_key} is missing") from None
    if not announcements and not refreshed and not removed:
        publisher.log(f"catalog: nothing announced since build {head['build_key']}, no spec changed; {CATALOG} stays as it is")
        file = CatalogFile(path=None, rows=head["rows"], size=head["size"], sha256=head["sha256"])
        return PublishedCatalog(CATALOG, head["build_key"], publisher.store.public_url(CATALOG), file,
                                {spec.key: head.get("counts", {}).get(spec.id, 0) for spec in specs}, mode="unchanged")
    previous = _load_state(publisher, head, previous_collections)
    runs = collection_runs(previous.table)
    replacements: dict[str, pa.Table] = {}
    rendered: dict[str, list[dict]] = {}
    previous_items: dict[str, list[dict]] = {}
    for dataset_id in sorted(new_items):
        old = table_to_items(previous.table.slice(*runs[dataset_id])) if dataset_id in runs else []
        previous_items[dataset_id] = old
        merged = {item["id"]: item for item in old}
        merged.update((item["id"], item) for item in new_items[dataset_id])
        try:
            replacements[dataset_id] = items_to_table(list(merged.values()))
        except ValueError as error:
            raise PublicationError(f"catalog: dataset {by_id[dataset_id].key}: {error}") from error
        rendered[dataset_id] = table_to_items(replacements[dataset_id])
        collections[dataset_id] = _collection(publisher, by_id[dataset_id], rendered[dataset_id])
    for dataset_id in sorted(refreshed - set(new_items)):
        rendered[dataset_id] = previous_items[dataset_id] = table_to_items(previous.table.slice(*runs[dataset_id]))
    table = merge_rows(previous.table, replacements, keep=set(by_id))
    candidates = set(new_items) | refreshed | removed
    return _publish(publisher, specs, head, previous, table, collections, rendered, candidates, announcements,
                    full=False, unregistered=unregistered, previous_items=previous_items)


@dataclass
class _Writes:
    stac: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


def _publish(publisher: Publisher, specs: Sequence[DatasetSpec], head: dict | None, previous: CatalogState | None,
             table: pa.Table, collections: dict[str, dict], rendered: dict[str, list[dict]], candidates: set[str],
             announcements: list[inbox.Announcement], *, full: bool, unregistered: set[str],
             previous_items: dict[str, list[dict]] | None = None) -> PublishedCatalog:
    """Validate the new file, then upload the build, the changed documents, the catalog, the head; then consume."""
    store = publisher.store
    runs = collection_runs(table)
    out = publisher.scratch / "catalog" / "dfc-catalog.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    written = write_catalog_table(table, [collections[c] for c in runs], out)
    try:
        verify_catalog_file(written.path, only_collections=None if full else set(rendered))
    except CatalogFileError as error:
        raise PublicationError(f"catalog: the new file does not validate, so {CATALOG} stays as it was: {error}") from error
    build_key = f"{CATALOG_BUILDS_PREFIX}dfc-catalog-{written.sha256[:16]}.parquet"
    collections_key = f"{CATALOG_STATE_BUILDS_PREFIX}dfc-catalog-{written.sha256[:16]}.collections.json.gz"
    store.put_file(build_key, written.path, if_absent=True)
    store.put_bytes(collections_key, gzip.compress(json.dumps({c: collections[c] for c in runs}, sort_keys=True).encode(), mtime=0))

    writes = _Writes()
    changed = _write_documents(publisher, previous, table, runs, collections, rendered, previous_items or {}, candidates, writes)
    if publisher.read_json(CATALOG_HEAD) != head:
        raise PublicationError(f"catalog: another writer published a catalog while this one ran (its lease had expired); "
                               f"{CATALOG} stays as that writer left it, and the announced items stay for the next update")
    store.copy(build_key, CATALOG)
    counts = {dataset_id: length for dataset_id, (_, length) in runs.items()}
    now = datetime.now(timezone.utc).isoformat()
    store.put_bytes(CATALOG_HEAD, json.dumps({
        "build_key": build_key, "collections_key": collections_key, "sha256": written.sha256, "rows": written.rows,
        "size": written.size, "generation": (head or {}).get("generation", 0) + 1, "updated_at": now,
        "full_build_at": now if full else head["full_build_at"], "counts": counts,  # type: ignore[index]
        "unregistered": sorted(unregistered),  # items of these datasets exist but are left out; back in the registry -> full rebuild
    }, indent=2, sort_keys=True).encode())
    inbox.consume(store, announcements)
    publisher.log(f"catalog: {written.rows} items from {len(runs)} datasets written to {CATALOG} (build {build_key}, "
                  f"{'full rebuild' if full else 'update'}; {len(changed)} dataset(s) changed, {len(writes.stac)} STAC JSON "
                  f"and {len(writes.feeds)} feed file(s) uploaded, {len(announcements)} announcement(s) consumed)")
    return PublishedCatalog(CATALOG, build_key, store.public_url(CATALOG), written, {s.key: counts.get(s.id, 0) for s in specs},
                            mode="full" if full else "update", changed_datasets=tuple(sorted(changed)),
                            stac_written=tuple(writes.stac), feeds_written=tuple(writes.feeds))


def _write_documents(publisher: Publisher, previous: CatalogState | None, table: pa.Table, runs: dict[str, tuple[int, int]],
                     collections: dict[str, dict], rendered: dict[str, list[dict]], previous_items: dict[str, list[dict]],
                     candidates: set[str], writes: _Writes) -> set[str]:
    """Upload the STAC JSON and feed files whose bytes differ from those of the previous build's rows.

    Item files are compared as items first (`same_item_document`): a new version changes a few files of its
    dataset, and only those are rendered, twice, to compare bytes."""
    store = publisher.store
    geoparquet_url = store.public_url(CATALOG)
    old_runs = collection_runs(previous.table) if previous else {}
    changed: set[str] = set()

    def put(key: str, new: bytes, old: bytes | None, kind: list[str]) -> None:
        if new != old:
            store.put_bytes(key, new)
            kind.append(key)

    for dataset_id in sorted(candidates & set(runs)):
        offset, length = runs[dataset_id]
        collection = collections[dataset_id]
        old_collection = previous.collections.get(dataset_id) if previous else None
        old_rows = previous.table.slice(*old_runs[dataset_id]) if dataset_id in old_runs else None  # type: ignore[union-attr]
        if old_collection == collection and old_rows is not None and old_rows.equals(table.slice(offset, length)):
            continue
        changed.add(dataset_id)
        new_items = rendered[dataset_id] if dataset_id in rendered else table_to_items(table.slice(offset, length))
        old_items = previous_items.get(dataset_id)
        if old_items is None:
            old_items = table_to_items(old_rows) if old_rows is not None else []
        old_by_id = {item["id"]: item for item in old_items} if old_collection is not None else {}
        for item in new_items:
            old = old_by_id.get(item["id"])
            if old is not None and same_item_document(old, item, old_collection, collection):
                continue
            put(STAC_JSON_PREFIX + item_path(item), encode_json(item_document(item, collection)),
                encode_json(item_document(old, old_collection)) if old is not None else None, writes.stac)
        put(STAC_JSON_PREFIX + collection_path(collection), encode_json(collection_document(collection, new_items, geoparquet_url=geoparquet_url)),
            encode_json(collection_document(old_collection, old_items, geoparquet_url=geoparquet_url)) if old_collection else None, writes.stac)
        put(dataset_feed(dataset_id), dataset_feed_bytes(store, collection, new_items),
            dataset_feed_bytes(store, old_collection, old_items) if old_collection else None, writes.feeds)
    changed |= candidates - set(runs)  # removed from the registry: gone from the file and the root catalog
    old_root = encode_json(root_document(list(previous.collections.values()), geoparquet_url=geoparquet_url)) if previous else None
    put(STAC_JSON_PREFIX + CATALOG_FILE, encode_json(root_document([collections[c] for c in runs], geoparquet_url=geoparquet_url)),
        old_root, writes.stac)
    put(TORRENT_FEED, global_feed_bytes(store, table), global_feed_bytes(store, previous.table) if previous else None, writes.feeds)
    return changed
