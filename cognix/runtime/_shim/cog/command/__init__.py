"""`cog.command`: the SDK's command-line entry points."""
