{
  description = "hello: a Cog model built by cognix";

  inputs.cognix.url = "github:cognix/cognix";

  # `nix build .#hello` reads ./cog.yaml, ./lock.json (`cognix lock .`) and ./default.nix if present.
  outputs = { self, cognix }:
    cognix.lib.singleModelFlake {
      inherit self;
      name = "hello";
      dir = ./.;
    };
}
