"""The image config JSON and the OCI manifest, serialised canonically; image ID = sha256 of the config bytes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from cognix import jsontext
from cognix.errors import ImageError
from cognix.image.plan import ImagePlan

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def canonical_json(obj: object) -> bytes:
    """Sorted keys, compact separators, UTF-8: the same object always gives the same bytes."""
    return jsontext.compact(obj).encode("utf-8")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def epoch(created: str) -> int:
    """Seconds since 1970 for an RFC 3339 timestamp (the plan's `created`, i.e. SOURCE_DATE_EPOCH)."""
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError as err:
        raise ImageError(f"invalid image timestamp {created!r}", fix="use RFC 3339, e.g. 1970-01-01T00:00:01Z") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp())


def config_dict(plan: ImagePlan, diff_ids: list[str]) -> dict:
    c = plan.config
    inner: dict[str, object] = {
        "Entrypoint": list(c.entrypoint),
        "Cmd": list(c.cmd),
        "Env": list(c.env),
        "WorkingDir": c.working_dir,
        "User": c.user,
        "ExposedPorts": {port: {} for port in c.exposed_ports},
        "Labels": dict(c.labels),
    }
    if c.volumes:
        inner["Volumes"] = {volume: {} for volume in c.volumes}
    return {
        "architecture": plan.architecture,
        "os": "linux",
        "created": plan.created,
        "config": inner,
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
        "history": [{"created": plan.created, "comment": layer.comment} for layer in plan.layers],
    }


def config_bytes(plan: ImagePlan, diff_ids: list[str]) -> bytes:
    return canonical_json(config_dict(plan, diff_ids))


def image_id(config: bytes) -> str:
    """Docker's image ID: the digest of the config bytes."""
    return sha256_digest(config)


def oci_manifest(config: bytes, layers: list[tuple[str, int]], layer_media_type: str = OCI_LAYER_GZIP) -> bytes:
    """An OCI image manifest for the config bytes and (digest, size) of each layer blob (gzip unless told)."""
    return canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
            "layers": [{"mediaType": layer_media_type, "digest": d, "size": s} for d, s in layers],
        }
    )
