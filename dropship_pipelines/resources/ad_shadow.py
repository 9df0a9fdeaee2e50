"""Shadow mode's ad platform answers: what Meta and TikTok would have answered a recorded write with
(synthetic ids made from the write's key: `shadow:meta.campaign:<ref>`), and the reads that name such an
id (the ad sets of a shadow campaign, its metrics), answered here: the platform has no such object, so
they are empty. The launch goes on campaign -> ad set / ad group -> video -> creative -> ad, each
recorded, none sent."""

from typing import Any

from dropship_pipelines.resources.write_gate import Shadowed

# Meta: the edge a POST creates on -> the kind of its id.
META_EDGES = {"campaigns": "campaign", "adsets": "adset", "adcreatives": "adcreative", "ads": "ad"}
TIKTOK_CREATES = {
    "/campaign/create/": ("campaign_id", "campaign"),
    "/adgroup/create/": ("adgroup_id", "adgroup"),
}


def meta_write(path: str, data: dict[str, Any] | None, shadowed: Shadowed) -> dict[str, Any]:
    data = data or {}
    edge = path.rstrip("/").rsplit("/", 1)[-1]
    if edge == "advideos":  # the resumable upload: a session with nothing left to transfer
        video = shadowed.id("meta.video") if data.get("upload_phase") == "start" else None
        return {
            "video_id": video,
            "upload_session_id": shadowed.id("meta.upload"),
            "start_offset": "0",
            "end_offset": "0",
            "success": True,
        }
    if edge == "events":
        return {"events_received": len(data.get("data") or []), "messages": [], "fbtrace_id": "shadow"}
    if edge in META_EDGES:
        return {"id": shadowed.id(f"meta.{META_EDGES[edge]}")}
    return {"success": True}  # a POST to an object (its status, its budget)


def meta_read() -> dict[str, Any]:
    """A read under a shadow object (its ad sets, its ads): none at Meta."""
    return {"data": [], "paging": {}}


def tiktok_write(path: str, body: dict[str, Any] | None, shadowed: Shadowed) -> Any:
    if path in TIKTOK_CREATES:
        field, kind = TIKTOK_CREATES[path]
        return {field: shadowed.id(f"tiktok.{kind}")}
    if path == "/ad/create/":
        creatives = (body or {}).get("creatives") or [{}]
        return {"ad_ids": [shadowed.id("tiktok.ad", n) for n in range(len(creatives))]}
    if path == "/file/video/ad/upload/":
        return [{"video_id": shadowed.id("tiktok.video")}]
    return {}  # status and budget updates answer no data


def tiktok_read() -> dict[str, Any]:
    return {"list": [], "page_info": {"page": 1, "page_size": 100, "total_number": 0, "total_page": 0}}
