{
  description = "torch-demo: a Cog model built by cognix";

  inputs.cognix.url = "github:cognix/cognix";

  # `nix build .#torch-demo` reads ./cog.yaml, ./lock.json (`cognix lock .`) and ./default.nix if present.
  outputs = { self, cognix }:
    cognix.lib.singleModelFlake {
      inherit self;
      name = "torch-demo";
      dir = ./.;
    };
}
