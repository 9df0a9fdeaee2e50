"""The rendered ad videos, served to a logged-in operator from DROPSHIP_MEDIA_DIR and nowhere else.

A browser never names a file: the URL carries the product id, the path comes from the ledger
(`ad_creatives.video_path`), and it is served only if, with every `..` and symlink resolved, it lies
inside the media directory. A ledger row pointing elsewhere is refused like a missing file.
"""

from pathlib import Path
from urllib.parse import quote

VIDEO_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime"}


class OutsideMediaDir(LookupError):
    """The path is missing, is not a video, or resolves outside the media directory."""


def creative_video_url(pid: str) -> str:
    return f"/api/ads/creatives/{quote(pid, safe='')}/video"


def confined_video(media_dir: Path, stored_path: str) -> tuple[Path, str]:
    """The file of `stored_path` (absolute, or relative to the working directory as the ads workflow
    writes it) and its media type, if it is a video file inside `media_dir`."""
    root = media_dir.resolve()
    resolved = Path(stored_path).resolve()
    media_type = VIDEO_TYPES.get(resolved.suffix.lower())
    if media_type is None or not resolved.is_relative_to(root) or not resolved.is_file():
        raise OutsideMediaDir(stored_path)
    return resolved, media_type
