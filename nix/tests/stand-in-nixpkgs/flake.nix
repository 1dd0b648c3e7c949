# A stand-in for the nixpkgs flake input (scripts/nix-real-eval): `lib` is nixpkgs' real lib
# (copied to ./lib next to this file by the script, from a checkout of nixpkgs.lib at the
# flake.lock pin), the packages are ./pkgs.nix's minimal derivations. Enough to evaluate cognix's
# flake with the real dream2nix (`nix eval .#<pkg>.drvPath`, `nix flake check --no-build`);
# nothing in it builds.
{
  description = "stand-in nixpkgs: real lib, minimal package derivations";

  outputs = { self }: {
    lib = import ./lib;
    legacyPackages.x86_64-linux = import ./. { system = "x86_64-linux"; };
  };
}
