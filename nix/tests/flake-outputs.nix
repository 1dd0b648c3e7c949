# flake.nix's outputs with stub inputs: packages, apps, lib, templates, checks wiring.
let
  t = import ./lib.nix;
  stubs = import ./stub-pkgs.nix;
  flake = import ../../flake.nix;
  self = { outPath = toString ../..; rev = "0123abc"; };
  out = flake.outputs { inherit self; nixpkgs = ./fixtures/stub-nixpkgs; inherit (stubs) dream2nix; };
  sys = "x86_64-linux";
  user = out.lib.singleModelFlake { self = { outPath = "/x"; }; name = "nix-model"; dir = ./fixtures/nix-model; };
  userImg = user.packages.${sys}.nix-model;
  noLock = out.lib.cognixFlake { self = { outPath = "/x"; }; } { no-lock-model = ./fixtures/no-lock-model; };
in
[
  (t.case "inputs: nixpkgs and dream2nix" true (flake.inputs ? nixpkgs && flake.inputs ? dream2nix))
  (t.case "dream2nix follows our nixpkgs" "nixpkgs" flake.inputs.dream2nix.inputs.nixpkgs.follows)
  (t.case "packages: examples and the CLI" [ "cognix" "default" "ebsynth-cpu" "hello" "torch-demo" ] (builtins.attrNames out.packages.${sys}))
  (t.case "the CLI package" "cognix-cli" out.packages.${sys}.cognix.name)
  (t.case "CLI built from this repository" (toString ../..) (toString out.packages.${sys}.cognix.args.src.cleaned))
  (t.case "apps: the CLI and a push-weights app per example" [ "cognix" "default" "ebsynth-cpu-push-weights" "hello-push-weights" "torch-demo-push-weights" ]
    (builtins.attrNames out.apps.${sys}))
  (t.case "app program" { type = "app"; program = "/nix/store/00000000000000000000000000000000-cognix-cli/bin/cognix"; } out.apps.${sys}.default)
  (t.case "template" true (builtins.pathExists (out.templates.default.path + "/flake.nix")))
  (t.case "checks run the pure suite" true (t.contains "nix-instantiate --eval --strict --json --readonly-mode" out.checks.${sys}.nix-unit.script))
  (t.case "lib exports" [ "cognixFlake" "debianPackages" "mkCognixImage" "singleCognixFlake" "singleModelFlake" ] (builtins.attrNames out.lib))
  (t.case "single-model flake: package and default" [ "default" "nix-model" ] (builtins.attrNames user.packages.${sys}))
  (t.case "single-model flake: image" "stream-nix-model" userImg.name)
  (t.case "single-model flake: push-weights app" "/nix/store/00000000000000000000000000000000-push-weights-nix-model/bin/push-weights-nix-model"
    user.apps.${sys}.nix-model-push-weights.program)
  (t.case "single-model flake: push-weights runs in the flake root" true (t.contains "weights push '.' \"$@\"" userImg.push-weights.text))
  (t.case "single-model flake: push-weights uses the packaged CLI" true (t.contains "cognix-cli/bin/cognix weights push" userImg.push-weights.text))
  (t.case "revision label default: the user flake's rev (none here)" { _default = null; } (builtins.elemAt userImg.modules.args.modules 2).cognix.revision)
  (t.case "a model without lock.json fails evaluation" true (t.fails noLock.packages.${sys}.no-lock-model.name))
]
