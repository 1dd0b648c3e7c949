# `import nixpkgs { system; config; overlays; }` as cognix's flake.nix calls it
{ system ? "x86_64-linux", config ? { }, overlays ? [ ], ... }:
let
  lib = import ./lib;
  base = import ./pkgs.nix { inherit lib system config; };
in
lib.foldl' (pkgs: overlay: pkgs // overlay pkgs pkgs) base overlays
