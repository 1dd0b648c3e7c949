# Nix-only customisation of this model (a cognix module; cog.yaml's values are its defaults).
# ebsynth is built from source and linked into the image root, so /bin/ebsynth is on PATH.
{ pkgs, ... }:
{
  cognix.rootPackages = [ (pkgs.callPackage ./ebsynth.nix { }) ];
}
