"""`python -m cog.server.http [flags]`: Cog's server entry point, served by the cognix runtime."""

from cognix.runtime.__main__ import main

if __name__ == "__main__":
    main()
