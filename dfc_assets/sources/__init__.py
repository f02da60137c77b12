from dfc_assets.sources.content_check import UnexpectedContent, check_content, content_problem
from dfc_assets.sources.http_download import DownloadedFile, DownloadLimits, SourceError, download
from dfc_assets.sources.release import CUBE_METADATA_SUFFIX, UpstreamRelease, current_release, expected_content, fetch_release
from dfc_assets.sources.statcan_wds import WdsClient
from dfc_assets.sources.kinds import SourceKind, source_kind, source_config, transform

__all__ = [
    "CUBE_METADATA_SUFFIX", "DownloadLimits", "DownloadedFile", "SourceError", "UnexpectedContent", "UpstreamRelease",
    "SourceKind", "WdsClient", "check_content", "content_problem", "current_release", "download", "expected_content", "fetch_release",
    "source_config", "source_kind", "transform",
]
