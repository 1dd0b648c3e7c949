"""Directory put on sys.path (by cognix.runtime.shim) so that `import cog` finds the SDK shim."""
