# nix/lib/default.nix's wiring, with nixpkgs, its lib and dream2nix stubbed: what reaches
# lib.evalModules, dream2nix's pip module and dockerTools.streamLayeredImage.
let
  t = import ./lib.nix;
  stubs = import ./stub-pkgs.nix;
  inherit (stubs) drv pkgs dream2nix;
  cognixLib = import ../lib { inherit pkgs dream2nix; cognixSrc = "/cognix-src"; };
  img = cognixLib.mkCognixImage { modelDir = ./fixtures/nix-model; name = "nix-model"; relPath = "tests/nix-model"; };
  base = img.env.passthru.base.args;
  d2n = builtins.elemAt img.pythonEnv.overridden.extraLibs 1;
  d2nModules = img.pythonEnv.d2nArgs.modules;
  d2nProxy = builtins.elemAt d2nModules 1;
  d2nConfig = builtins.elemAt d2nModules 2;
  lockData = builtins.fromJSON (builtins.readFile ./fixtures/nix-model/lock.json);
  evalArgs = img.modules.args;
  # the image at a given cognix.sourceDateEpoch (what SOURCE_DATE_EPOCH gives the option with --impure)
  at = epoch: cognixLib.mkCognixImage { modelDir = ./fixtures/nix-model; name = "nix-model"; modules = [ { cognix.sourceDateEpoch = epoch; } ]; };
  times = img: let args = img.env.passthru.base.args; in {
    inherit (args) created;
    tar = builtins.head (builtins.split "\n" args.fakeRootCommands);
    spec = builtins.match ".*'--epoch' '([0-9]+)'.*" img.env.passthru.spec.script;
  };
in
[
  (t.case "image name" "stream-nix-model" img.name)
  (t.case "spec args: title, user, nixpkgs' tini, cognix.environment" [
    "--title" "nix-model" "--user" "cog" "--tini" "/nix/store/00000000000000000000000000000000-tini/bin/tini" "--environment" "{}"
  ] (builtins.tail img.imageSpec.args))
  (t.case "spec lock: the lock's config with the modules' cog.* (stub: environment A=1)" (lockData.cognix.config // { environment = [ "A=1" ]; })
    img.imageSpec.lock.cognix.config)
  (t.case "spec lock: the lock's target (CUDA for run.cog.config)" lockData.cognix.target img.imageSpec.lock.cognix.target)
  (t.case "the spec gets max layers" true (t.contains "'--max-layers' '50'" img.env.passthru.spec.script))
  (t.case "contents: env, tini, certs, shell, mapped system packages, rootPackages"
    [ "python3.11-env" "tini" "cacert" "bash" "coreutils" "ffmpeg" "ebsynth" ] (map (d: d.name) base.contents))
  (t.case "source: model dir minus ignores" true (builtins.elem "*.ckpt" img.source.ignores && builtins.elem "*.nix" img.source.ignores && builtins.elem "lock.json" img.source.ignores))
  (t.case "runtime added to the env" true d2n.pythonModule)
  (t.case "runtime copies cognix/runtime" true (t.hasInfix "/cognix-src/cognix/runtime" d2n.script))
  (t.case "runtime appended to the env's extraLibs" "wheel" (builtins.elemAt img.pythonEnv.overridden.extraLibs 0))
  (t.case "dream2nix gets nixpkgs" pkgs img.pythonEnv.d2nArgs.packageSets.nixpkgs)
  (t.case "dream2nix: the pip module" "dream2nix-pip-module" (builtins.elemAt d2nModules 0))
  (t.case "dream2nix: its lock module replaced" [ "dream2nix-lock-module" ] d2nProxy.disabledModules)
  (t.case "dream2nix: lock content is the lock's fetchPipMetadata" { inherit (lockData) fetchPipMetadata; } d2nProxy.options.lock.content._option.default)
  (t.case "dream2nix: flat env" true d2nConfig.pip.flattenDependencies)
  (t.case "dream2nix: python from cog's python_version" "python3.11" d2nConfig.deps.python.name)
  (t.case "dream2nix: one module per locked wheel" (builtins.attrNames lockData.fetchPipMetadata.sources) (builtins.attrNames d2nConfig.pip.drvs))
  (t.case "dream2nix: wheels autoPatchelf'ed against the system packages" [ "ffmpeg" ] (map (d: d.name) d2nConfig.pip.drvs.torch.mkDerivation.buildInputs))
  (t.case "dream2nix: gpu wheels may miss the driver's libraries (a list: dream2nix's torch override sets one too)" [ "libcuda.so.1" "libnvidia-ml.so.1" ] d2nConfig.pip.drvs.torch.env.autoPatchelfIgnoreMissingDeps)
  (t.case "dream2nix: project root is the model dir" ./fixtures/nix-model d2nConfig.paths.projectRoot)
  (t.case "modules: options, lock defaults, name, the model's default.nix" 4 (builtins.length evalArgs.modules))
  (t.case "modules: cog.yaml values as mkDefault" { _default = 4; } (builtins.elemAt evalArgs.modules 1).cog.concurrency.max)
  (t.case "modules: the model's default.nix is imported last" ./fixtures/nix-model/default.nix (builtins.elemAt evalArgs.modules 3))
  (t.case "modules: pkgs passed to default.nix" pkgs evalArgs.specialArgs.pkgs)
  (t.case "default time: the native engine's 1970-01-01T00:00:01Z, spec (label) and layers alike"
    { created = "1970-01-01T00:00:01Z"; spec = [ "1" ]; tar = "SOURCE_DATE_EPOCH=1"; } (times img))
  (t.case "SOURCE_DATE_EPOCH=1700000000 (a string, as the environment gives it)"
    { created = "2023-11-14T22:13:20Z"; spec = [ "1700000000" ]; tar = "SOURCE_DATE_EPOCH=1700000000"; } (times (at "1700000000")))
  (t.case "SOURCE_DATE_EPOCH=1800000000"
    { created = "2027-01-15T08:00:00Z"; spec = [ "1800000000" ]; tar = "SOURCE_DATE_EPOCH=1800000000"; } (times (at 1800000000)))
  (t.case "a bad SOURCE_DATE_EPOCH fails the evaluation" true (t.fails (at "yesterday").env.passthru.base.args.created))
  (t.case "push-weights calls cognix weights push for the model dir" true (t.contains "weights push 'tests/nix-model' \"$@\"" img.push-weights.text))
]
