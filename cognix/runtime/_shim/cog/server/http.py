"""`python -m cog.server.http [flags]`: Cog's server entry point, served by the cognix runtime.

Every flag Cog's server took (0.8 to 0.23): --host, --x-mode predict|train, --await-explicit-shutdown VALUE,
--upload-url URL, --threads N (accepted, ignored), -v/--version; PORT from the environment. The runner comes from
COG_PREDICT_TYPE_STUB / COG_TRAIN_TYPE_STUB, else from cog.yaml's predict (or run) / train, as Cog's server did.
"""

from cog.mode import Mode


def main() -> None:
    from cognix.runtime.__main__ import main as runtime_main

    runtime_main(prog="python -m cog.server.http")


__all__ = ["Mode"]

if __name__ == "__main__":
    main()
