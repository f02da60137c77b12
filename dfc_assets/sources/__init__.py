from dfc_assets.sources.http_download import DownloadedFile, SourceError, download
from dfc_assets.sources.release import CUBE_METADATA_SUFFIX, UpstreamRelease, current_release, fetch_release
from dfc_assets.sources.statcan_wds import WdsClient

__all__ = [
    "CUBE_METADATA_SUFFIX", "DownloadedFile", "SourceError", "UpstreamRelease", "WdsClient",
    "current_release", "download", "fetch_release",
]
