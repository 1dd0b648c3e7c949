# extraCommands of the weightless fixture model (nix/tests/fixtures/nix-model) built through mkCognixImage
let
  stubs = import ./stub-pkgs.nix;
  cognixLib = import ../lib { inherit (stubs) pkgs dream2nix; cognixSrc = "/cognix-src"; };
in
(cognixLib.mkCognixImage { modelDir = ./fixtures/nix-model; name = "nix-model"; }).env.passthru.base.args.extraCommands
