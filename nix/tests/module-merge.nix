# The stubs merge module definitions the way nixpkgs' module system does (./merge.nix): what the
# real lib.evalModules refuses, they refuse too. The case that made this necessary: cognix's wheel
# module set env.autoPatchelfIgnoreMissingDeps to a string, dream2nix's torch override sets a list.
let
  t = import ./lib.nix;
  m = import ./merge.nix;
  stubs = import ./stub-pkgs.nix;
  inherit (stubs) lib;
  lockData = builtins.fromJSON (builtins.readFile ./fixtures/nix-model/lock.json);
  pythonEnv = gpu: import ../lib/python-env.nix { inherit (stubs) pkgs dream2nix; cognixSrc = "/cognix-src"; } {
    name = "nix-model"; modelDir = ./fixtures/nix-model; inherit lockData gpu; pythonVersion = "3.11";
  };
  # dream2nix's view of every wheel module: the stub merges what pip.drvs.<name> gets
  wheels = gpu: (stubs.dream2nix.lib.evalModules (pythonEnv gpu).d2nArgs).merged.pip.drvs;
  d2n = drvs: stubs.dream2nix.lib.evalModules {
    modules = [
      stubs.dream2nix.modules.dream2nix.pip
      { options.lock.content = lib.mkOption { default = { inherit (lockData) fetchPipMetadata; }; }; }
      { pip.drvs = drvs; }
    ];
  };
in
[
  (t.case "merge: lists from two modules concatenate" { env.x = [ "a" "b" ]; } (m.merge [ { env.x = [ "a" ]; } { env.x = [ "b" ]; } ]))
  (t.case "merge: a string next to a list is defined multiple times" true (t.fails (m.merge [ { env.x = "a b"; } { env.x = [ "a" ]; } ]).env.x))
  (t.case "merge: two different strings are defined multiple times" true (t.fails (m.merge [ { a = "x"; } { a = "y"; } ]).a))
  (t.case "merge: equal strings are one value" { a = "x"; } (m.merge [ { a = "x"; } { a = "x"; } ]))
  (t.case "merge: a plain definition beats mkDefault" { a = "y"; } (m.merge [ { a = lib.mkDefault "x"; } { a = "y"; } ]))
  (t.case "merge: two different mkDefaults clash" true (t.fails (m.merge [ { a = lib.mkDefault "x"; } { a = lib.mkDefault "y"; } ]).a))
  (t.case "merge: mkForce beats a plain definition" { a = "z"; } (m.merge [ { a = "y"; } { a = lib.mkForce "z"; } ]))
  (t.case "merge: option declarations, imports and functions define nothing" { a = 1; }
    (m.merge [ { options.a = lib.mkOption { }; imports = [ ./x.nix ]; disabledModules = [ "y" ]; } ({ ... }: { a = 2; }) ./lib.nix { a = 1; } ]))
  (t.case "dream2nix stub: a string env for torch is refused, as by dream2nix's torch override" true
    (t.fails (d2n { torch.env.autoPatchelfIgnoreMissingDeps = "libcuda.so.1 libnvidia-ml.so.1"; }).pyEnv.name))
  (t.case "dream2nix stub: the same string for a wheel without an override is fine" "python3.11-env"
    (d2n { typing-extensions.env.autoPatchelfIgnoreMissingDeps = "libcuda.so.1"; }).pyEnv.name)
  (t.case "dream2nix stub: preFixup is dream2nix's (a str option): a second one is refused" true
    (t.fails (d2n { torch.mkDerivation.preFixup = "echo"; }).pyEnv.name))
  (t.case "gpu: torch ignores dream2nix's libcuda and cognix's driver libraries" [ "libcuda.so.1" "libcuda.so.1" "libnvidia-ml.so.1" ]
    (wheels true).torch.env.autoPatchelfIgnoreMissingDeps)
  (t.case "gpu: other wheels ignore cognix's list" [ "libcuda.so.1" "libnvidia-ml.so.1" ]
    (wheels true).typing-extensions.env.autoPatchelfIgnoreMissingDeps)
  (t.case "cpu: torch keeps dream2nix's libcuda only" [ "libcuda.so.1" ] (wheels false).torch.env.autoPatchelfIgnoreMissingDeps)
  (t.case "cpu: other wheels ignore nothing" [ ] (wheels false).typing-extensions.env.autoPatchelfIgnoreMissingDeps)
  (t.case "wheels: dream2nix's manylinux1, then cognix's extraLibs (none here)" [ "manylinux1" ]
    (map (d: d.name) (wheels true).torch.mkDerivation.buildInputs))
]
