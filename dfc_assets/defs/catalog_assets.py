"""catalog/stac_geoparquet and the torrent feeds: unpartitioned, after every shard's stac_item."""

from collections.abc import Sequence

import dagster as dg

from dfc_assets.defs.registry_view import registered_datasets
from dfc_assets.defs.resources import PublisherResource
from dfc_assets.publication.catalog import build_catalog
from dfc_assets.publication.feeds import build_feeds


def catalog_assets(shards: Sequence[str]) -> list[dg.AssetsDefinition]:
    items = [dg.AssetKey([shard, "stac_item"]) for shard in shards]

    @dg.asset(
        key=["catalog", "stac_geoparquet"],
        group_name="catalog",
        deps=items,
        kinds={"stac", "geoparquet"},
        pool="stac_catalog",
        automation_condition=dg.AutomationCondition.eager(),
        description="One STAC GeoParquet file of every published version and DOI (catalog/dfc-catalog.parquet), replaced atomically; an immutable copy per build under catalog/builds/.",
    )
    def stac_geoparquet(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            catalog = build_catalog(pub, registered_datasets(pub.store))
            build_url = pub.store.public_url(catalog.build_key)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": catalog.file.rows,
            "catalog_url": dg.MetadataValue.url(catalog.url),
            "build_url": dg.MetadataValue.url(build_url),
            "sha256": catalog.file.sha256,
            "size_bytes": catalog.file.size,
            "items_per_dataset": dg.MetadataValue.json(catalog.items_per_dataset),
        })

    @dg.asset(
        key=["catalog", "torrent_feed"],
        group_name="catalog",
        deps=items,
        kinds={"rss", "bittorrent"},
        pool="stac_catalog",
        automation_condition=dg.AutomationCondition.eager(),
        description="RSS 2.0 torrent feeds (BEP 36 style) under feeds/: one per dataset and feeds/torrents.xml for all, so a qBittorrent RSS rule can follow new versions.",
    )
    def torrent_feed(context: dg.AssetExecutionContext, publisher: PublisherResource) -> dg.MaterializeResult:
        with publisher.open(context.log.info) as pub:
            feeds = build_feeds(pub, registered_datasets(pub.store))
            feed_url = pub.store.public_url(feeds.all_key)
            dataset_urls = {key: pub.store.public_url(value) for key, value in feeds.dataset_keys.items()}
        return dg.MaterializeResult(metadata={
            "feed_url": dg.MetadataValue.url(feed_url),
            "dataset_feeds": dg.MetadataValue.json(dataset_urls),
            "torrents": feeds.entries,
        })

    return [stac_geoparquet, torrent_feed]
