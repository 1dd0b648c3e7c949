"""`cognix weights push`: upload runtime-mode weights to GCS and record their locations in lock.json."""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    @cli.group("weights")
    def weights() -> None:
        """Model weights: push runtime-mode files to GCS."""

    @weights.command("push")
    @click.argument("model_dir", default=".", type=click.Path(file_okay=False, path_type=Path))
    @click.option("--bucket", metavar="B", help="GCS bucket (overrides cog.yaml's `bucket:`).")
    @click.option("--jobs", default=8, show_default=True, type=click.IntRange(1, 64), help="Parallel uploads.")
    def push_cmd(model_dir: Path, bucket: str | None, jobs: int) -> None:
        """Upload runtime-mode weights as gs://B/sha256/<hex>, skipping blobs already there."""
        from cognix.config import load_config
        from cognix.lock.lockfile import load_lock, write_lock
        from cognix.progress import terminal_progress
        from cognix.weights.push import buckets_of, push_weights

        config = load_config(model_dir)
        lock = load_lock(model_dir, config)
        result = push_weights(model_dir, lock, buckets_of(config, lock), bucket=bucket, jobs=jobs,
                              progress=terminal_progress())
        if result.lock != lock:
            write_lock(model_dir, result.lock)
        click.echo(f"{result.uploaded} uploaded, {result.present} already present, "
                   f"{result.bytes_uploaded} bytes sent")
