from dfc_assets.sources.content_check import UnexpectedContent, check_content, content_problem
from dfc_assets.sources.http_download import DownloadedFile, DownloadLimits, SourceError, download
from dfc_assets.sources.release import CUBE_METADATA_SUFFIX, UpstreamRelease, current_release, expected_content, fetch_release
from dfc_assets.sources.statcan_wds import WdsClient

__all__ = [
    "CUBE_METADATA_SUFFIX", "DownloadLimits", "DownloadedFile", "SourceError", "UnexpectedContent", "UpstreamRelease",
    "WdsClient", "check_content", "content_problem", "current_release", "download", "expected_content", "fetch_release",
]
