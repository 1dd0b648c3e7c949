{
  description = "model: a Cog model built by cognix";

  inputs.cognix.url = "github:cognix/cognix";

  # `nix build .#model` reads ./cog.yaml, ./lock.json (`cognix lock .`) and ./default.nix if present.
  outputs = { self, cognix }:
    cognix.lib.singleModelFlake {
      inherit self;
      name = "model";
      dir = ./.;
    };
}
