# Stand-in for dream2nix's purescript-overlay input (only its PureScript modules use it; cognix
# evaluates dream2nix's pip module). Its flake.nix makes it follow nixpkgs: there is no nixpkgs
# input here, which Nix only warns about.
{
  outputs = { self }: { overlays.default = final: prev: { }; };
}
