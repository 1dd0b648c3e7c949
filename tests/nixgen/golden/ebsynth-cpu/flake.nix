{
  description = "ebsynth-cpu: a Cog model built by cognix";

  inputs.cognix.url = "github:cognix/cognix";

  # `nix build .#ebsynth-cpu` reads ./cog.yaml, ./lock.json (`cognix lock .`) and ./default.nix if present.
  outputs = { self, cognix }:
    cognix.lib.singleModelFlake {
      inherit self;
      name = "ebsynth-cpu";
      dir = ./.;
    };
}
