"""./result: an executable that embeds an image plan and writes the image on demand, like nixpkgs' streamed images.

`./result` (stdout not a terminal) or `./result dump` streams a docker-archive; `./result load` loads it
into Docker/podman; `./result push REF` pushes it; `./result oci DIR` writes an OCI layout; `./result id`
prints the image ID. The script runs with the interpreter that built it and imports cognix from there.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cognix.errors import CognixError, ImageError
from cognix.fileio import write_atomic
from cognix.image.plan import ImagePlan

_TEMPLATE = '''#!{python}
"""Image {repo_tag}, written by cognix. Run `./result --help`."""
import sys

try:
    from cognix.image.result import main
except ImportError:
    sys.path.append({package_parent!r})
    from cognix.image.result import main

PLAN = {plan!r}
sys.exit(main(PLAN, sys.argv[1:]))
'''


def result_script(plan: ImagePlan) -> str:
    """The text of ./result for `plan`."""
    return _TEMPLATE.format(
        python=sys.executable,
        repo_tag=plan.repo_tag,
        package_parent=str(Path(__file__).resolve().parents[2]),
        plan=plan.model_dump_json(),
    )


def write_result(plan: ImagePlan, path: Path) -> Path:
    """Write the ./result executable atomically (temp file + rename): a failure leaves the old one."""
    path = Path(path).absolute()
    try:
        write_atomic(path, result_script(plan).encode("utf-8"), mode=0o755)
    except OSError as err:
        raise ImageError(f"cannot write {path}: {err}") from err
    return path


def _parser(repo_tag: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="./result",
        description=f"Write the image {repo_tag}. With no command and stdout redirected, stream a docker-archive.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("dump", help="stream the docker-archive (uncompressed layers) to stdout")
    commands.add_parser("load", help="load the image into Docker (podman when Docker is absent)")
    push = commands.add_parser("push", help="push to a registry over the OCI distribution API")
    push.add_argument("ref", help="host[:port]/name[:tag]")
    push.add_argument("--insecure", action="store_true", help="plain http for a registry that is not local")
    push.add_argument("--compression", choices=["gzip", "zstd"], default="gzip",
                      help="layer compression: gzip (default; every engine pulls it) or zstd (faster; Docker >= 23)")
    oci = commands.add_parser("oci", help="write an OCI image layout (gzip layers) to DIR")
    oci.add_argument("dir", type=Path)
    commands.add_parser("id", help="print the image ID")
    return parser


def main(plan_json: str, argv: list[str]) -> int:
    """Entry point of ./result; returns the exit status (errors: a message and 1, never a traceback)."""
    plan = ImagePlan.model_validate_json(plan_json)
    parser = _parser(plan.repo_tag)
    args = parser.parse_args(argv)  # exits 2 on usage errors, 0 on --help
    try:
        return _run(plan, args, parser)
    except CognixError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`./result | head`): nothing more to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush stays quiet
        return 1
    except KeyboardInterrupt:
        return 130


def _run(plan: ImagePlan, args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from cognix.progress import terminal_progress

    command = args.command
    if command is None:
        if sys.stdout.isatty():
            parser.print_help(sys.stderr)
            print("\nrefusing to write an image archive to a terminal: redirect it (./result > image.tar)", file=sys.stderr)
            return 2
        command = "dump"
    if command == "dump":
        from cognix.image.archive import stream_docker_archive

        stream_docker_archive(plan, sys.stdout.buffer, progress=terminal_progress())
    elif command == "load":
        from cognix.image.load import load

        loaded = load(plan, progress=terminal_progress())
        if loaded.layers_sent < loaded.layers:
            print(f"sent {loaded.layers_sent} of {loaded.layers} layers: the engine had the others", file=sys.stderr)
        print(f"Loaded image {plan.repo_tag} ({loaded.image_id})")
    elif command == "push":
        from cognix.image.compress import Compression
        from cognix.image.registry import push

        result = push(plan, args.ref, insecure=args.insecure, progress=terminal_progress(),
                      compression=Compression(args.compression))
        print(
            f"Pushed {args.ref}@{result.manifest_digest} "
            f"({len(result.uploaded)} blobs uploaded, {len(result.skipped)} already there)"
        )
    elif command == "oci":
        from cognix.image.archive import write_oci_layout

        out = write_oci_layout(plan, args.dir, progress=terminal_progress())
        print(f"Wrote OCI layout {args.dir} ({out.manifest_digest})")
    elif command == "id":
        from cognix.image.archive import image_id_of

        print(image_id_of(plan))
    return 0
