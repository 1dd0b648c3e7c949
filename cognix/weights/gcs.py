"""google-cloud-storage client creation and error translation, shared by locking and pushing."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from cognix.errors import WeightsError

T = TypeVar("T")


def parse_gs(uri: str) -> tuple[str, str]:
    """gs://bucket/prefix -> (bucket, prefix)."""
    rest = uri[len("gs://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise WeightsError(f"{uri!r} names no bucket", fix="write gs://BUCKET/PREFIX")
    return bucket, prefix


def storage_client() -> Any:
    """A Client by the library's default credential chain; anonymous against $STORAGE_EMULATOR_HOST."""
    try:
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import storage
    except ImportError as err:  # pragma: no cover - it is a declared dependency
        raise WeightsError("google-cloud-storage is not installed", fix="pip install google-cloud-storage") from err
    if os.environ.get("STORAGE_EMULATOR_HOST"):
        client = storage.Client.create_anonymous_client()
        client.project = os.environ.get("GOOGLE_CLOUD_PROJECT", "cognix")
        return client
    try:
        return storage.Client()
    except DefaultCredentialsError as err:
        raise WeightsError(
            f"no Google Cloud credentials: {str(err).splitlines()[0]}",
            fix="run `gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS",
        ) from None


def gcs_call(what: str, bucket: str, fn: Callable[[], T]) -> T:
    """Run a client call, turning permission/missing-bucket/credential failures into WeightsError."""
    from google.api_core import exceptions as gexc
    from google.auth.exceptions import GoogleAuthError

    where = f"gs://{bucket}"
    try:
        return fn()
    except gexc.Forbidden as err:
        raise WeightsError(f"{what}: permission denied ({_msg(err)})", where=where,
                           fix="grant the account storage.objects.* on the bucket, or use another --bucket") from None
    except gexc.Unauthorized as err:
        raise WeightsError(f"{what}: not authenticated ({_msg(err)})", where=where,
                           fix="run `gcloud auth application-default login`") from None
    except gexc.NotFound as err:
        raise WeightsError(f"{what}: not found ({_msg(err)})", where=where,
                           fix="check the bucket name and that the bucket exists") from None
    except gexc.GoogleAPICallError as err:
        raise WeightsError(f"{what}: {_msg(err)}", where=where) from None
    except GoogleAuthError as err:
        raise WeightsError(f"{what}: credentials failed ({err})", where=where,
                           fix="run `gcloud auth application-default login`") from None


def _msg(err: Any) -> str:
    return getattr(err, "message", None) or str(err).splitlines()[0]
