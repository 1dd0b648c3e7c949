# Stand-in for dream2nix's pyproject-nix input (a non-flake source; dream2nix's pip module does
# not read it, only its WIP-python-pdm module does).
throw "pyproject-nix stand-in: not available in cognix's real-evaluation check"
